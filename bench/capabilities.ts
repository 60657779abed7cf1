/**
 * Capability scenarios, ncr only, each printed as a line after the table next to its reference:
 * - cap-webhooks: push latency of small images with no webhook and with 10 webhooks on the registry (a push must not
 *   get more than 5% slower: delivery is outside the push's path), and how fast the deliveries then arrive.
 * - cap-cache: a 64 MiB layer pulled through an image cache registry (another ncr as its source): the first pull
 *   (fetched from the source while it streams) against a direct pull from the source, and cached pulls against direct
 *   pulls (target: ≥ 90%).
 * - cap-scan: the built-in scanner through a running ncr, on a Debian-sized image (the cached debootstrap bookworm
 *   minbase, else a synthetic one: bench/scan-image.ts) with the debootstrap test's OSV records imported: the first
 *   image's scan (cold, target < 3 s) and scans of other images sharing its base layer (layer cache, target < 0.5 s),
 *   each as the server times it (the scan's start to its end).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readdir, readFile, rm } from 'node:fs/promises';
import type { BenchConfig } from './config.js';
import { median, percentile, runCount } from './load.js';
import { pullBlob, pushBlob, pushImageBlobs, putManifest, smallImage } from './oci.js';
import { uniqueBlob } from './payload.js';
import { MiB } from './config.js';
import { ADMIN, REGISTRY, startNcr } from './servers.js';
import { storedZip } from '../test/helpers/scan-layers.js';
import { debianBaseLayer, imageOn } from './scan-image.js';

const auth = 'Basic ' + Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64');

export async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export async function webhookBench(cfg: BenchConfig): Promise<string> {
  const images = cfg.quick ? 60 : 300;
  const dir = join(cfg.tmp, 'cap-webhooks');
  let received = 0;
  const rx: HttpServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  const rxUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}`;
  const s = await startNcr(cfg, dir, { env: { NCR_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  try {
    const c = s.client();
    const push = async (label: string) => {
      const imgs = Array.from({ length: images }, () => smallImage());
      const sample = await runCount(8, images, async (i) => {
        await pushImageBlobs(c, `${REGISTRY}/hooks`, imgs[i]);
        await putManifest(c, `${REGISTRY}/hooks`, `${label}-${i}`, imgs[i].manifest());
        return 0;
      });
      const sorted = [...sample.latencies].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), perSec: sample.ops / sample.seconds };
    };
    // warm up (tokens, caches), then alternate without / with webhooks, twice each
    await push('warm');
    const without: Awaited<ReturnType<typeof push>>[] = [];
    const withHooks: Awaited<ReturnType<typeof push>>[] = [];
    const hookIds: string[] = [];
    let deliverySeconds = 0;
    let deliveries = 0;
    for (let round = 0; round < 2; round++) {
      for (const id of hookIds.splice(0)) await api(s.url, 'DELETE', `/registries/${REGISTRY}/webhooks/${id}`);
      without.push(await push(`a${round}`));
      for (let h = 0; h < 10; h++) {
        hookIds.push((await api(s.url, 'POST', `/registries/${REGISTRY}/webhooks`, { name: `h${round}-${h}`, address: `${rxUrl}/h${h}`, eventTypes: ['PUSH_ARTIFACT'] })).id);
      }
      const before = received;
      const t0 = performance.now();
      withHooks.push(await push(`b${round}`));
      const want = before + images * 10;
      while (received < want && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
      deliverySeconds += (performance.now() - t0) / 1000;
      deliveries += received - before;
    }
    const p50a = median(without.map((x) => x.p50));
    const p50b = median(withHooks.map((x) => x.p50));
    const p99a = median(without.map((x) => x.p99));
    const p99b = median(withHooks.map((x) => x.p99));
    const change = ((p50b - p50a) / p50a) * 100;
    return (
      `cap-webhooks: image push (config + layer + manifest, 8 at once, ${images} per run, 2 runs each) p50 ${p50a.toFixed(1)} ms / p99 ${p99a.toFixed(1)} ms without webhooks, ` +
      `${p50b.toFixed(1)} / ${p99b.toFixed(1)} ms with 10 webhooks (p50 ${change >= 0 ? '+' : ''}${change.toFixed(1)}%, target ≤ +5%); ` +
      `${deliveries} deliveries arrived in ${deliverySeconds.toFixed(1)} s from the first push (${(deliveries / deliverySeconds).toFixed(0)}/s)`
    );
  } finally {
    await s.stop();
    await new Promise<void>((r) => rx.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}

export async function cacheBench(cfg: BenchConfig): Promise<string> {
  const size = (cfg.quick ? 16 : 64) * MiB;
  const pulls = cfg.quick ? 4 : 8;
  const src = await startNcr(cfg, join(cfg.tmp, 'cap-cache-source'));
  const cache = await startNcr(cfg, join(cfg.tmp, 'cap-cache'), { env: { NCR_ENDPOINTS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  try {
    const blob = uniqueBlob(size);
    const s = src.client();
    await pushBlob(s, `${REGISTRY}/big`, blob.parts, blob.digest);
    await api(cache.url, 'POST', '/endpoints', { name: 'source', provider: 'ncr', url: src.url, accessId: ADMIN.user, secret: ADMIN.pass });
    await api(cache.url, 'POST', '/registries', { name: 'hub', kind: 'cache', endpoint: 'source' });
    const c = cache.client();
    const timed = async (fn: () => Promise<number>) => {
      const t0 = performance.now();
      const bytes = await fn();
      return bytes / 1e6 / ((performance.now() - t0) / 1000);
    };
    // warm the direct path (token, page cache) once, then: the first pull through the cache (cold), direct and cached
    await pullBlob(s, `${REGISTRY}/big`, blob.digest);
    const first = await timed(() => pullBlob(c, `hub/${REGISTRY}/big`, blob.digest));
    const direct: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < pulls; i++) {
      direct.push(await timed(() => pullBlob(s, `${REGISTRY}/big`, blob.digest)));
      cached.push(await timed(() => pullBlob(c, `hub/${REGISTRY}/big`, blob.digest)));
    }
    const d = median(direct);
    const k = median(cached);
    return (
      `cap-cache: ${size / MiB} MiB layer, one at a time, median of ${pulls}: direct from the source ${d.toFixed(0)} MB/s; ` +
      `through the cache, first pull (fetched while streamed) ${first.toFixed(0)} MB/s (${((first / d) * 100).toFixed(0)}% of direct), ` +
      `cached ${k.toFixed(0)} MB/s (${((k / d) * 100).toFixed(0)}% of direct, target ≥ 90%)`
    );
  } finally {
    await Promise.all([src.stop(), cache.stop()]);
    await rm(join(cfg.tmp, 'cap-cache-source'), { recursive: true, force: true });
    await rm(join(cfg.tmp, 'cap-cache'), { recursive: true, force: true });
  }
}

/** The OSV records the debootstrap end-to-end test imports (real advisories for bookworm minbase's packages). */
const OSV_RECORDS = new URL('../test/fixtures/osv-debian-bookworm/', import.meta.url).pathname;

export async function scanBench(cfg: BenchConfig): Promise<string> {
  const shared = cfg.quick ? 2 : 5;
  const dir = join(cfg.tmp, 'cap-scan');
  const s = await startNcr(cfg, dir);
  try {
    const names = (await readdir(OSV_RECORDS)).filter((n) => n.endsWith('.json'));
    const zip = storedZip(await Promise.all(names.map(async (n) => ({ name: n, content: await readFile(join(OSV_RECORDS, n), 'utf8') }))));
    const imported = await fetch(`${s.url}/api/v1/vulndb/import?name=all.zip`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: zip });
    if (imported.status !== 200) throw new Error(`vulndb import: HTTP ${imported.status} ${await imported.text()}`);

    const base = await debianBaseLayer();
    const c = s.client();
    const repo = `${REGISTRY}/debian`;
    await pushBlob(c, repo, base.gz, base.digest);
    const scan = async (tag: string) => {
      const img = await imageOn(base, tag);
      for (const [digest, bytes] of img.blobs) await pushBlob(c, repo, bytes, digest);
      await putManifest(c, repo, tag, img.manifest);
      const path = `/registries/${REGISTRY}/images/debian/artifacts/${img.digest}/scan`;
      await api(s.url, 'POST', path);
      const t0 = performance.now();
      for (;;) {
        const o = await api(s.url, 'GET', path);
        if (o.status === 'Success') return { ms: Date.parse(o.endedAt) - Date.parse(o.startedAt), total: o.total as number };
        if (o.status !== 'Scanning') throw new Error(`scan of ${repo}:${tag}: ${o.status} ${o.message ?? ''}`);
        if (performance.now() - t0 > 120_000) throw new Error(`scan of ${repo}:${tag} still running after 120 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const cold = await scan('first');
    const cached: number[] = [];
    for (let i = 0; i < shared; i++) cached.push((await scan(`shared-${i}`)).ms);
    const warm = median(cached);
    return (
      `cap-scan: ${base.label} + an app layer, ${cold.total} vulnerabilities found: first image (cold) ${cold.ms} ms (target < 3000 ms); ` +
      `another image sharing the base (layer cache), median of ${shared}, ${warm.toFixed(0)} ms (target < 500 ms)`
    );
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
