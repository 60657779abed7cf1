/**
 * What an image holds, from its merged layers: the OS (os-release) and packages, OS (dpkg, apk) and language
 * (npm, Python, Maven jars), each with the OSV ecosystem its advisories are filed under.
 */
import type { MergedFs } from './layers.js';
import { parseRpmHeader, parseSourceRpm } from './rpm-header.js';

export interface OsInfo {
  id: string;
  versionId: string;
  codename: string | null;
  prettyName: string;
}

export interface Package {
  /** OSV ecosystem: `Debian:12`, `Alpine:v3.19`, `npm`, `PyPI`, `Maven`, ... */
  ecosystem: string;
  name: string;
  version: string;
  /** the source package OS advisories are filed under (dpkg Source, apk origin), when it differs */
  source?: { name: string; version: string };
  /** where it was found: the database file, or the package's own metadata file */
  path: string;
  kind: 'os' | 'lang';
}

export interface Inventory {
  os: OsInfo | null;
  packages: Package[];
}

const DEBIAN_CODENAMES: Record<string, string> = { buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14' };
export const debianRelease = (codename: string): string | undefined => DEBIAN_CODENAMES[codename];

function parseOsRelease(text: string): OsInfo {
  const kv: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return { id: kv.ID ?? 'unknown', versionId: kv.VERSION_ID ?? '', codename: kv.VERSION_CODENAME ?? null, prettyName: kv.PRETTY_NAME ?? kv.NAME ?? '' };
}

/** Follows a symlink (relative or absolute) to a path without a leading slash. */
function resolveLink(from: string, target: string): string {
  const parts = target.startsWith('/') ? [] : from.split('/').slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}

function readFollowing(fs: MergedFs, path: string): string | undefined {
  let p = path;
  for (let hops = 0; hops < 8; hops++) {
    const f = fs.files.get(p);
    if (f !== undefined) return f;
    const l = fs.links.get(p);
    if (l === undefined) return undefined;
    p = resolveLink(p, l);
  }
  return undefined;
}

export function detectOs(fs: MergedFs): OsInfo | null {
  const text = readFollowing(fs, 'etc/os-release') ?? readFollowing(fs, 'usr/lib/os-release');
  if (text !== undefined) return parseOsRelease(text);
  const alpine = fs.files.get('etc/alpine-release');
  return alpine ? { id: 'alpine', versionId: alpine.trim(), codename: null, prettyName: `Alpine Linux v${alpine.trim()}` } : null;
}

/** The OSV ecosystem of the OS's packages, or undefined for an OS ncr has no advisories for. */
export function osEcosystem(os: OsInfo | null): string | undefined {
  if (!os) return undefined;
  const id = os.id.toLowerCase();
  if (id === 'debian') return `Debian:${os.versionId.split('.')[0] || (os.codename && debianRelease(os.codename)) || 'unstable'}`;
  if (id === 'ubuntu') return `Ubuntu:${os.versionId}`;
  if (id === 'alpine') return `Alpine:v${os.versionId.split('.').slice(0, 2).join('.')}`;
  if (id === 'rhel') return 'Red Hat';
  if (id === 'rocky') return `Rocky Linux:${os.versionId.split('.')[0]}`;
  if (id === 'almalinux') return `AlmaLinux:${os.versionId.split('.')[0]}`;
  return undefined;
}

/** RFC 822-style paragraphs (dpkg status), continuation lines folded into their field. */
function paragraphs(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const p: Record<string, string> = {};
    let last = '';
    for (const line of block.split('\n')) {
      if (/^\s/.test(line) && last) p[last] += `\n${line.trim()}`;
      else {
        const i = line.indexOf(':');
        if (i > 0) {
          last = line.slice(0, i).trim();
          p[last] = line.slice(i + 1).trim();
        }
      }
    }
    if (Object.keys(p).length) out.push(p);
  }
  return out;
}

function dpkgPackages(text: string, path: string, ecosystem: string, requireStatus: boolean): Package[] {
  const out: Package[] = [];
  for (const p of paragraphs(text)) {
    if (!p.Package || !p.Version) continue;
    if (requireStatus && !/\binstalled$/.test(p.Status ?? '')) continue;
    const pkg: Package = { ecosystem, name: p.Package, version: p.Version, path, kind: 'os' };
    if (p.Source) {
      // "Source: name" or "Source: name (version)" when the binary's version differs
      const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(p.Source);
      if (m) pkg.source = { name: m[1]!, version: m[2] ?? p.Version };
    }
    out.push(pkg);
  }
  return out;
}

function apkPackages(text: string, path: string, ecosystem: string): Package[] {
  const out: Package[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    for (const line of block.split('\n')) if (line[1] === ':') f[line[0]!] = line.slice(2).trim();
    if (!f.P || !f.V) continue;
    const pkg: Package = { ecosystem, name: f.P, version: f.V, path, kind: 'os' };
    if (f.o && f.o !== f.P) pkg.source = { name: f.o, version: f.V };
    out.push(pkg);
  }
  return out;
}

function emailHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** PEP 503 normalisation, which OSV's PyPI names follow. */
const pypiName = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

export function detect(fs: MergedFs): Inventory {
  const os = detectOs(fs);
  const eco = osEcosystem(os);
  const packages: Package[] = [];
  const osEco = eco ?? (os ? `${os.id}:${os.versionId}` : 'unknown');
  const dpkg = fs.files.get('var/lib/dpkg/status');
  if (dpkg !== undefined) packages.push(...dpkgPackages(dpkg, 'var/lib/dpkg/status', osEco, true));
  for (const [path, text] of fs.files) if (path.startsWith('var/lib/dpkg/status.d/') && !path.endsWith('.md5sums')) packages.push(...dpkgPackages(text, path, osEco, false));
  const apk = fs.files.get('lib/apk/db/installed');
  if (apk !== undefined) packages.push(...apkPackages(apk, 'lib/apk/db/installed', osEco));
  for (const [path, text] of fs.files) {
    if (path.endsWith('/package.json') && path.includes('node_modules/')) {
      try {
        const j = JSON.parse(text) as { name?: unknown; version?: unknown };
        if (typeof j.name === 'string' && typeof j.version === 'string') packages.push({ ecosystem: 'npm', name: j.name, version: j.version, path, kind: 'lang' });
      } catch {
        // not JSON: not a package
      }
    } else if (path.endsWith('.dist-info/METADATA') || path.endsWith('.egg-info/PKG-INFO')) {
      const h = emailHeaders(text);
      if (h.Name && h.Version) packages.push({ ecosystem: 'PyPI', name: pypiName(h.Name), version: h.Version, path, kind: 'lang' });
    }
  }
  // rpm: advisories name the source package; versions as [epoch:]version-release
  for (const [path, blobs] of fs.rpmdbs) {
    for (const blob of blobs) {
      const p = parseRpmHeader(blob);
      if (!p || p.name === 'gpg-pubkey') continue;
      const evr = `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
      const pkg: Package = { ecosystem: osEco, name: p.name, version: evr, path, kind: 'os' };
      const src = p.sourceRpm ? parseSourceRpm(p.sourceRpm) : undefined;
      if (src && src.name !== p.name) pkg.source = { name: src.name, version: `${p.epoch ? `${p.epoch}:` : ''}${src.version}-${src.release}` };
      packages.push(pkg);
    }
  }
  // Go: OSV's versions have no "v"; the toolchain is the package "stdlib"
  const goVersion = (v: string) => v.replace(/^v/, '').replace(/^go/, '');
  for (const [path, info] of fs.gobins) {
    const mods = [...(info.main && info.main.version !== '(devel)' ? [info.main] : []), ...info.deps];
    for (const m of mods) packages.push({ ecosystem: 'Go', name: m.path, version: goVersion(m.version), path, kind: 'lang' });
    if (/^go\d/.test(info.goVersion)) packages.push({ ecosystem: 'Go', name: 'stdlib', version: goVersion(info.goVersion.split(' ')[0]!), path, kind: 'lang' });
  }
  for (const [path, coords] of fs.jars) for (const c of coords) packages.push({ ecosystem: 'Maven', name: `${c.groupId}:${c.artifactId}`, version: c.version, path, kind: 'lang' });
  packages.sort((a, b) => a.ecosystem.localeCompare(b.ecosystem) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version) || a.path.localeCompare(b.path));
  return { os, packages };
}
