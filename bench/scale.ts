/**
 * Scale scenarios, each on a freshly started server: tags/list page time (n=100) with many tags in one image,
 * catalog page time with many images (both seeded through /v2: one manifest PUT per tag; one mount and one PUT per
 * image), and peak RSS while one client pushes a large layer and another pulls one of the same size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectStatus, type RegistryClient } from './client.js';
import type { BenchConfig } from './config.js';
import { runCount, runWindow, stats, type Stats } from './load.js';
import { CATALOG_SCOPE, configOnlyManifest, mountBlob, pullBlob, pullScope, pushBlob, pushImageBlobs, pushScope, putManifest, smallImage, startUpload } from './oci.js';
import { memoryOf, REGISTRY, type Server } from './servers.js';

export interface SeedResult {
  count: number;
  seconds: number;
}

export interface PageResult {
  seed: SeedResult;
  pages: Stats & { count: number };
  /** the server answered with the whole list instead of a page (distribution 2.8 does not paginate tags/list) */
  ignoresN?: boolean;
}

export interface RssResult {
  bytes: number;
  /** highest VmRSS seen while polling every 50 ms (push of layer A, then push of B with a pull of A) */
  peakRss: number;
  /** VmHWM at the end: the kernel's own high-water mark over the process's life (a fresh process) */
  hwm: number;
  pushMBs: number;
  pullMBs: number;
}

const pad = (i: number, n: number) => String(i).padStart(n, '0');
/** The i-th page start: the first page, then spread over the whole list. */
const pageStart = (i: number, count: number) => (i === 0 ? undefined : (i * 7919) % count);

async function seed(cfg: BenchConfig, count: number, op: (i: number) => Promise<unknown>): Promise<SeedResult> {
  const t0 = performance.now();
  await runCount(cfg.scale.seedConcurrency, count, async (i) => (await op(i), 0), 1800);
  return { count, seconds: (performance.now() - t0) / 1000 };
}

const TAGS_REPO = `${REGISTRY}/many-tags`;
const imageName = (i: number) => `${REGISTRY}/img-${pad(i, 5)}`;

/** cfg.scale.tags tags on one image, one manifest PUT each. */
export async function seedTags(cfg: BenchConfig, c: RegistryClient): Promise<SeedResult> {
  const img = smallImage();
  await pushImageBlobs(c, TAGS_REPO, img);
  const body = img.manifest();
  return seed(cfg, cfg.scale.tags, (i) => putManifest(c, TAGS_REPO, `t${pad(i, 6)}`, body));
}

/** Sequential tags/list?n=100 pages: the first, then pages spread over the whole list. */
export async function measureTagPages(cfg: BenchConfig, c: RegistryClient): Promise<Omit<PageResult, 'seed'>> {
  const count = cfg.scale.tags;
  let ignoresN = false;
  const sample = await runWindow(1, cfg.scale.pageSeconds, async (i) => {
    const start = pageStart(i, count);
    const last = start === undefined ? '' : `&last=t${pad(start, 6)}`;
    const res = await c.send({ method: 'GET', path: `/v2/${TAGS_REPO}/tags/list?n=100${last}`, scope: pullScope(TAGS_REPO), sink: 'text' });
    expectStatus(res, 'tags/list page', 200);
    const tags = (JSON.parse(res.text!) as { tags: string[] | null }).tags ?? [];
    if (tags.length === count && count > 100) ignoresN = true;
    else if (tags.length !== Math.min(100, count - (start === undefined ? 0 : start + 1))) throw new Error(`tags/list page after ${start}: ${tags.length} tags`);
    return res.bytes;
  }, cfg.scale.pages);
  return { pages: { ...stats(sample), count: sample.ops }, ignoresN };
}

export async function tagPages(cfg: BenchConfig, c: RegistryClient): Promise<PageResult> {
  const s = await seedTags(cfg, c);
  return { seed: s, ...(await measureTagPages(cfg, c)) };
}

/** cfg.scale.images images: the config mounted from one source repository, and a manifest PUT. */
export async function seedImages(cfg: BenchConfig, c: RegistryClient): Promise<SeedResult> {
  const source = `${REGISTRY}/catalog-source`;
  const img = smallImage();
  await pushBlob(c, source, img.config.body, img.config.digest);
  const body = configOnlyManifest(img.config);
  return seed(cfg, cfg.scale.images, async (i) => {
    await mountBlob(c, imageName(i), img.config.digest, source);
    await putManifest(c, imageName(i), 'latest', body);
  });
}

/** Sequential _catalog?n=100 pages: the first, then pages spread over the whole list. */
export async function measureCatalogPages(cfg: BenchConfig, c: RegistryClient): Promise<Omit<PageResult, 'seed'>> {
  const count = cfg.scale.images;
  const sample = await runWindow(1, cfg.scale.pageSeconds, async (i) => {
    const start = pageStart(i, count);
    const last = start === undefined ? '' : `&last=${encodeURIComponent(imageName(start))}`;
    const res = await c.send({ method: 'GET', path: `/v2/_catalog?n=100${last}`, scope: CATALOG_SCOPE, sink: 'text' });
    expectStatus(res, '_catalog page', 200);
    const repos = (JSON.parse(res.text!) as { repositories: string[] }).repositories;
    if (repos.length === 0) throw new Error(`_catalog page after ${start}: empty`);
    return res.bytes;
  }, cfg.scale.pages);
  return { pages: { ...stats(sample), count: sample.ops } };
}

export async function catalogPages(cfg: BenchConfig, c: RegistryClient): Promise<PageResult> {
  const s = await seedImages(cfg, c);
  return { seed: s, ...(await measureCatalogPages(cfg, c)) };
}

/** `bytes` of distinct content, generated 1 MiB at a time and hashed on the way out. */
function layerStream(bytes: number): { stream: Readable; digest: () => string } {
  const base = randomBytes(1024 * 1024);
  const nonce = randomBytes(8);
  const hash = createHash('sha256');
  let sent = 0;
  let i = 0;
  const stream = new Readable({
    highWaterMark: 4 * 1024 * 1024,
    read() {
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      const n = Math.min(base.length, bytes - sent);
      const chunk = Buffer.allocUnsafe(n);
      base.copy(chunk, 0, 0, n);
      nonce.copy(chunk, 0);
      chunk.writeUInt32BE(i++, 8);
      hash.update(chunk);
      sent += n;
      this.push(chunk);
    },
  });
  return { stream, digest: () => 'sha256:' + hash.digest('hex') };
}

/** POST, one streamed PATCH (no length, as docker sends layers), PUT ?digest=. Resolves with the digest. */
async function pushStreamed(c: RegistryClient, repo: string, bytes: number): Promise<string> {
  await c.authorize(pushScope(repo));
  const loc = await startUpload(c, repo);
  const layer = layerStream(bytes);
  const res = await c.send({ method: 'PATCH', path: loc, headers: { 'content-type': 'application/octet-stream' }, body: layer.stream, scope: pushScope(repo), sink: 'text', timeoutMs: 600_000 });
  const next = String(expectStatus(res, `streamed PATCH of ${bytes} bytes`, 202).headers.location);
  const digest = layer.digest();
  const done = await c.send({ method: 'PUT', path: `${next}${next.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`, scope: pushScope(repo), sink: 'text', timeoutMs: 600_000 });
  expectStatus(done, `closing the ${bytes}-byte upload`, 201);
  return digest;
}

export async function peakRss(cfg: BenchConfig, server: Server): Promise<RssResult> {
  const bytes = cfg.scale.rssBytes;
  const repo = `${REGISTRY}/big`;
  const pusher = server.client();
  const puller = server.client();
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    for (let i = 0; polling && i < 200_000; i++) {
      peak = Math.max(peak, (await memoryOf(server.pid)).rss);
      await sleep(50);
    }
  })();
  try {
    const a = await pushStreamed(pusher, repo, bytes);
    const t0 = performance.now();
    let pushSeconds = 0;
    let pullSeconds = 0;
    await Promise.all([
      pushStreamed(pusher, repo, bytes).then(() => (pushSeconds = (performance.now() - t0) / 1000)),
      pullBlob(puller, repo, a).then(() => (pullSeconds = (performance.now() - t0) / 1000)),
    ]);
    const { hwm } = await memoryOf(server.pid);
    return { bytes, peakRss: peak, hwm, pushMBs: bytes / pushSeconds / 1e6, pullMBs: bytes / pullSeconds / 1e6 };
  } finally {
    polling = false;
    await poll;
  }
}

/** Shown in the report: what the seeding cost (a rough manifest-push rate at scale). */
export function seedRate(s: SeedResult): number {
  return s.count / s.seconds;
}
