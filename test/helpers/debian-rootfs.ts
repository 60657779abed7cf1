/**
 * A real Debian bookworm minbase, made with `debootstrap --variant=minbase bookworm` from Debian's mirror, as one
 * gzip-compressed tar layer. Built once per machine and kept outside the repository (NCR_TEST_CACHE, default
 * /var/cache/ncr-test/<KEY>/), so later runs (and `npm run bench`'s cap-scan) skip the download: the first build
 * takes a couple of minutes, a cached one nothing. Beside the layer: its dpkg status and os-release (what the tests
 * compute their expected findings from) and meta.json (digests, sizes, when it was built).
 *
 * A build happens in a temporary directory beside the cache entry and is renamed into place, so an interrupted build
 * leaves nothing a later run would take for a finished one.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';

const run = promisify(execFile);

export const DEBIAN_SUITE = 'bookworm';
/** The cache entry's name: suite, variant, architecture and this file's layout version. */
export const DEBIAN_ROOTFS_KEY = `debian-${DEBIAN_SUITE}-minbase-amd64-v1`;
export const CACHE_ROOT = process.env.NCR_TEST_CACHE ?? '/var/cache/ncr-test';
const MIRROR = process.env.NCR_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

export interface DebianRootfs {
  dir: string;
  /** the layer: a tar.gz of the whole root file system (no device nodes) */
  layerPath: string;
  /** sha256 of the gzip bytes (the layer's digest) and of the tar (its diff_id) */
  digest: string;
  diffId: string;
  size: number;
  /** the text of var/lib/dpkg/status and usr/lib/os-release in the root file system */
  dpkgStatus: string;
  osRelease: string;
  /** true when this call built it (a cold run), false when it came from the cache */
  built: boolean;
}

interface Meta {
  digest: string;
  diffId: string;
  size: number;
  builtAt: string;
  mirror: string;
}

/** The cached root file system, or undefined when it has not been built on this machine (no build). */
export async function cachedDebianRootfs(): Promise<DebianRootfs | undefined> {
  const dir = join(CACHE_ROOT, DEBIAN_ROOTFS_KEY);
  if (!existsSync(join(dir, 'meta.json'))) return undefined;
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Meta;
  const layerPath = join(dir, 'layer.tar.gz');
  if ((await stat(layerPath).catch(() => undefined))?.size !== meta.size) return undefined;
  return {
    dir,
    layerPath,
    digest: meta.digest,
    diffId: meta.diffId,
    size: meta.size,
    dpkgStatus: await readFile(join(dir, 'dpkg-status'), 'utf8'),
    osRelease: await readFile(join(dir, 'os-release'), 'utf8'),
    built: false,
  };
}

/** The root file system, built with debootstrap (a couple of minutes, needs the mirror) when not cached yet. */
export async function debianRootfs(): Promise<DebianRootfs> {
  const cached = await cachedDebianRootfs();
  if (cached) return cached;
  await mkdir(CACHE_ROOT, { recursive: true });
  const work = await mkdtemp(join(CACHE_ROOT, `${DEBIAN_ROOTFS_KEY}.build-`));
  try {
    const rootfs = join(work, 'rootfs');
    await run('debootstrap', ['--variant=minbase', DEBIAN_SUITE, rootfs, MIRROR], { timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`debootstrap --variant=minbase ${DEBIAN_SUITE} failed (is ${MIRROR} reachable? is debootstrap installed?): ${err.message}\n${err.stderr ?? ''}`);
    });
    const entry = join(work, 'entry');
    await mkdir(entry);
    // the image's content: everything but device nodes and the downloaded .debs (what a container runtime provides
    // or does not need), in a stable order with numeric owners
    const tarPath = join(work, 'layer.tar');
    await run('tar', ['-C', rootfs, '--sort=name', '--numeric-owner', '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./var/cache/apt/archives/*.deb', '-cf', tarPath, '.'], {
      timeout: 10 * 60_000,
    });
    const tarHash = createHash('sha256');
    const gzHash = createHash('sha256');
    let size = 0;
    await pipeline(
      createReadStream(tarPath),
      new Transform({ transform: (c: Buffer, _e, cb) => (tarHash.update(c), cb(null, c)) }),
      createGzip({ level: 6 }),
      new Transform({ transform: (c: Buffer, _e, cb) => (gzHash.update(c), (size += c.length), cb(null, c)) }),
      createWriteStream(join(entry, 'layer.tar.gz')),
    );
    await writeFile(join(entry, 'dpkg-status'), await readFile(join(rootfs, 'var/lib/dpkg/status')));
    await writeFile(join(entry, 'os-release'), await readFile(join(rootfs, 'usr/lib/os-release')));
    const meta: Meta = { digest: `sha256:${gzHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`, size, builtAt: new Date().toISOString(), mirror: MIRROR };
    await writeFile(join(entry, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    const final = join(CACHE_ROOT, DEBIAN_ROOTFS_KEY);
    // another process may have finished first: keep its entry
    await rename(entry, final).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const built = await cachedDebianRootfs();
  if (!built) throw new Error(`built ${DEBIAN_ROOTFS_KEY} but cannot read it back from ${CACHE_ROOT}`);
  return { ...built, built: true };
}

export interface DpkgPackage {
  name: string;
  version: string;
  /** the source package and its version (the binary's name and version when it has no Source field) */
  source: string;
  sourceVersion: string;
}

/** The installed packages of a dpkg status file (`install ok installed` only). */
export function installedPackages(status: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const para of status.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const m of para.matchAll(/^([A-Za-z-]+):[ \t]*(.*)$/gm)) f.set(m[1]!, m[2]!);
    if (!f.get('Package') || f.get('Status') !== 'install ok installed') continue;
    const version = f.get('Version')!;
    const src = /^(\S+)(?:\s+\((.+)\))?$/.exec(f.get('Source') ?? '');
    out.push({ name: f.get('Package')!, version, source: src?.[1] ?? f.get('Package')!, sourceVersion: src?.[2] ?? version });
  }
  return out;
}

/** `dpkg --compare-versions a lt b`, by the system's dpkg (independent of ncr's comparator). */
export async function dpkgLessThan(a: string, b: string): Promise<boolean> {
  try {
    await run('dpkg', ['--compare-versions', a, 'lt', b]);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 1) return false;
    throw err;
  }
}
