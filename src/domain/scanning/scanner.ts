/**
 * The built-in scanner: an image's inventory from its layers (each read once per digest and cached, so images sharing
 * a base read it once), and its findings from the imported vulnerability data.
 */
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';
import { DOCKER_IMAGE_CONFIG, OCI_IMAGE_CONFIG } from '../../oci/media-types.js';
import { parseManifest } from '../../oci/manifest.js';
import type { Advisory } from './advisories.js';
import { severityRank } from './cvss.js';
import { detect, type Inventory, type Package } from './detect.js';
import { indexLayer, mergeLayers, type LayerIndex, type RpmDbReader } from './layers.js';
import { affects } from './match.js';
import type { Finding, ImageReads, ScanStore } from './ports.js';

export class Scanner {
  private readonly layers = new LRUCache<string, LayerIndex>({ max: 2_000 });

  constructor(
    private readonly reads: ImageReads,
    private readonly store: ScanStore,
    private readonly rpmdb?: RpmDbReader,
  ) {}

  /** Whether the artifact is a container image (what a scan reads), not an index or another kind of artifact. */
  async isImage(repository: string, digest: string): Promise<boolean> {
    const stored = await this.reads.manifest(repository, digest);
    if (!stored) return false;
    try {
      const m = parseManifest(stored.content, stored.mediaType);
      return m.kind === 'image' && (m.config?.mediaType === OCI_IMAGE_CONFIG || m.config?.mediaType === DOCKER_IMAGE_CONFIG) && m.subject === undefined;
    } catch {
      return false;
    }
  }

  /** The parsed image manifest and its media type. VALIDATION_FAILED for an index or an artifact that is not an image. */
  async image(repository: string, digest: string) {
    const stored = await this.reads.manifest(repository, digest);
    if (!stored) throw new NcrError('NOT_FOUND', `${repository}@${digest} does not exist`);
    const m = parseManifest(stored.content, stored.mediaType);
    if (m.kind !== 'image') throw new NcrError('VALIDATION_FAILED', `${repository}@${digest} is an index: scan each of its images`);
    if (m.config?.mediaType !== OCI_IMAGE_CONFIG && m.config?.mediaType !== DOCKER_IMAGE_CONFIG) {
      throw new NcrError('VALIDATION_FAILED', `${repository}@${digest} is not a container image (config ${m.config?.mediaType}): there is nothing to scan`);
    }
    return { manifest: m, mediaType: stored.mediaType };
  }

  /** The OS and packages of an image manifest. VALIDATION_FAILED for an index or an artifact that is not an image. */
  async inventory(repository: string, digest: string, signal?: AbortSignal): Promise<Inventory> {
    const { manifest: m } = await this.image(repository, digest);
    const indexes: LayerIndex[] = [];
    for (const layer of m.layers) {
      signal?.throwIfAborted();
      let idx = this.layers.get(layer.digest);
      if (!idx) {
        try {
          idx = await indexLayer(this.reads.blob(repository, layer.digest), this.rpmdb);
        } catch (err) {
          throw new NcrError('VALIDATION_FAILED', `layer ${layer.digest} (${layer.mediaType}) cannot be read as a tar: ${(err as Error).message}`, { cause: err });
        }
        this.layers.set(layer.digest, idx);
      }
      indexes.push(idx);
    }
    return detect(mergeLayers(indexes));
  }

  /** The vulnerabilities of the inventory's packages in the imported data, one per advisory and package. */
  async match(inv: Inventory): Promise<Finding[]> {
    const byEco = new Map<string, Package[]>();
    for (const p of inv.packages) {
      const list = byEco.get(p.ecosystem) ?? [];
      list.push(p);
      byEco.set(p.ecosystem, list);
    }
    const hits: { pkg: Package; source: Advisory['source']; advisoryId: string; fixed?: string }[] = [];
    for (const [eco, pkgs] of byEco) {
      const names = [...new Set(pkgs.flatMap((p) => [p.name, ...(p.source ? [p.source.name] : [])]))];
      const rows = await this.store.affected(eco, names);
      for (const p of pkgs) {
        // OS advisories name the source package, with its version; language ones the package itself
        const asNamed = [{ name: p.name, version: p.version }, ...(p.source ? [p.source] : [])];
        for (const row of rows) {
          const hit = asNamed.find((n) => n.name === row.affected.package);
          if (!hit) continue;
          const m = affects(row.affected, hit.version);
          if (m?.affected) hits.push({ pkg: p, source: row.source, advisoryId: row.advisoryId, ...(m.fixed ? { fixed: m.fixed } : {}) });
        }
      }
    }
    const heads = new Map((await this.store.advisories(hits.map((h) => ({ source: h.source, id: h.advisoryId })))).map((a) => [`${a.source}/${a.id}`, a]));
    // one finding per package and vulnerability: an OSV DSA and the tracker's CVE for the same flaw count once
    const out = new Map<string, Finding>();
    for (const h of hits) {
      const a = heads.get(`${h.source}/${h.advisoryId}`);
      if (!a) continue;
      const cve = [a.id, ...a.aliases].find((x) => x.startsWith('CVE-')) ?? /CVE-\d{4}-\d+/.exec(a.id)?.[0] ?? a.id;
      const key = `${h.pkg.ecosystem}|${h.pkg.name}|${h.pkg.version}|${h.pkg.path}|${cve}`;
      const f: Finding = {
        id: cve,
        aliases: [...new Set([a.id, ...a.aliases].filter((x) => x !== cve))],
        package: h.pkg.name,
        version: h.pkg.version,
        fixVersion: h.fixed ?? '',
        severity: a.severity,
        description: a.summary || a.details.slice(0, 1000),
        links: a.links,
        cvssScore: a.cvssScore,
        cvssVector: a.cvssVector,
        ecosystem: h.pkg.ecosystem,
        path: h.pkg.path,
      };
      const prev = out.get(key);
      if (!prev) out.set(key, f);
      else {
        if (severityRank(f.severity) > severityRank(prev.severity)) Object.assign(prev, { severity: f.severity, cvssScore: f.cvssScore, cvssVector: f.cvssVector });
        if (!prev.fixVersion && f.fixVersion) prev.fixVersion = f.fixVersion;
        prev.aliases = [...new Set([...prev.aliases, ...f.aliases, f.id].filter((x) => x !== prev.id))];
        prev.links = [...new Set([...prev.links, ...f.links])];
        if (!prev.description) prev.description = f.description;
      }
    }
    return [...out.values()].sort((x, y) => severityRank(y.severity) - severityRank(x.severity) || x.package.localeCompare(y.package) || x.id.localeCompare(y.id));
  }
}
