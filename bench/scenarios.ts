/**
 * The scenarios, each run the same way against either registry: a setup (untimed, once per server) and a
 * timed run (once per round). Names and sizes come from the configuration; `limit` names the machine-limit load
 * shape the ncr figure is compared with.
 */
import type { RegistryClient } from './client.js';
import { expectStatus } from './client.js';
import type { BenchConfig } from './config.js';
import { runCount, runWindow, type Sample } from './load.js';
import type { LimitId } from './machine.js';
import {
  ACCEPT,
  CATALOG_SCOPE,
  configOnlyManifest,
  mountBlob,
  pullBlob,
  pullScope,
  pushBlob,
  pushChunked,
  pushImageBlobs,
  putManifest,
  smallImage,
  type Image,
} from './oci.js';
import { chunksOf, uniqueBlobs } from './payload.js';
import { loadScenarios } from './scenarios-load.js';
import { REGISTRY, type Kind } from './servers.js';

export interface Target {
  kind: Kind;
  /** replaced when the server is restarted */
  client: RegistryClient;
  /**
   * Stops this registry's server and starts it again on the same data (a new port, `client` replaced), then drops the
   * kernel's page cache when it may; resolves with what happened to the page cache.
   */
  restart?(): Promise<string>;
}

export interface Scenario {
  id: string;
  title: string;
  /** the figure the scenario is judged by */
  headline: 'MB/s' | 'req/s';
  limit?: LimitId;
  setup?(t: Target): Promise<void>;
  run(t: Target, round: number): Promise<Sample>;
}

const repo = (name: string) => `${REGISTRY}/${name}`;
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

export function scenarios(cfg: BenchConfig): Scenario[] {
  const conc = cfg.blobConcurrency;
  const list: Scenario[] = [];

  const monolithic = (id: 'push-small' | 'push-large', p: { count: number; size: number }, limit: 'upload-small' | 'upload-large') => {
    const r = repo(id);
    list.push({
      id,
      title: `blob push, monolithic (POST+PUT), ${p.count} × ${mib(p.size)}, ${conc} at once`,
      headline: 'MB/s',
      limit,
      async run(t) {
        const blobs = uniqueBlobs(p.count, p.size);
        return runCount(conc, p.count, async (i) => (await pushBlob(t.client, r, blobs[i].parts, blobs[i].digest), p.size));
      },
    });
  };
  monolithic('push-small', cfg.pushSmall, 'upload-small');
  {
    const { count, chunks, chunkSize } = cfg.chunked;
    const size = chunks * chunkSize;
    const r = repo('push-chunked');
    list.push({
      id: 'push-chunked',
      title: `blob push, chunked (POST, ${chunks} PATCHes of ${chunkSize / 1024} KiB with Content-Range, PUT), ${count} × ${mib(size)}, ${conc} at once`,
      headline: 'MB/s',
      limit: 'upload-small',
      async run(t) {
        const blobs = uniqueBlobs(count, size).map((b) => ({ digest: b.digest, chunks: chunksOf(b, chunkSize) }));
        return runCount(conc, count, async (i) => (await pushChunked(t.client, r, blobs[i].chunks, blobs[i].digest), size));
      },
    });
  }
  monolithic('push-large', cfg.pushLarge, 'upload-large');
  for (const [id, p, limit] of [
    ['pull-small', cfg.pullSmall, 'read-small'],
    ['pull-large', cfg.pullLarge, 'read-large'],
  ] as const) {
    const r = repo(id);
    const digests = new Map<Kind, string[]>();
    list.push({
      id,
      title: `blob pull, ${p.count} × ${mib(p.size)} (${p.distinct} distinct blobs), ${conc} at once, client checks sha256`,
      headline: 'MB/s',
      limit,
      async setup(t) {
        const blobs = uniqueBlobs(p.distinct, p.size);
        for (const b of blobs) await pushBlob(t.client, r, b.parts, b.digest);
        digests.set(t.kind, blobs.map((b) => b.digest));
      },
      async run(t) {
        const d = digests.get(t.kind)!;
        return runCount(conc, p.count, (i) => pullBlob(t.client, r, d[i % d.length]));
      },
    });
  }

  {
    const r = repo('app');
    const images = new Map<Kind, number>();
    const setup = async (t: Target) => {
      if (images.has(t.kind)) return;
      const img = smallImage();
      await pushImageBlobs(t.client, r, img);
      const body = img.manifest();
      await putManifest(t.client, r, 'latest', body);
      images.set(t.kind, body.length);
    };
    for (const method of ['GET', 'HEAD'] as const) {
      for (const n of cfg.manifestConcurrency) {
        list.push({
          id: `manifest-${method.toLowerCase()}-${n}`,
          title: `manifest ${method} by tag, ${n} at once, ${cfg.windowSeconds} s`,
          headline: 'req/s',
          limit: `${method === 'GET' ? 'get' : 'head'}-1k-${n === 32 ? 32 : 64}`,
          setup,
          async run(t) {
            const size = images.get(t.kind)!;
            return runWindow(n, cfg.windowSeconds, async () => {
              const res = await t.client.send({ method, path: `/v2/${r}/manifests/latest`, headers: { accept: ACCEPT }, scope: pullScope(r) });
              expectStatus(res, `${method} manifest`, 200);
              if (method === 'GET' && res.bytes !== size) throw new Error(`GET manifest: ${res.bytes} bytes, expected ${size}`);
              return res.bytes;
            });
          },
        });
      }
    }
  }

  {
    const r = repo('manifest-push');
    const n = cfg.manifestPushConcurrency;
    const images = new Map<Kind, Image>();
    list.push({
      id: 'manifest-push',
      title: `manifest push by tag (distinct manifests, new tags), ${n} at once, ${cfg.windowSeconds} s`,
      headline: 'req/s',
      async setup(t) {
        const img = smallImage();
        await pushImageBlobs(t.client, r, img);
        images.set(t.kind, img);
      },
      async run(t, round) {
        const img = images.get(t.kind)!;
        return runWindow(n, cfg.windowSeconds, async (i) => {
          const body = img.manifest({ 'org.example.bench': `${round}-${i}` });
          await putManifest(t.client, r, `r${round}-${i}`, body);
          return body.length;
        });
      },
    });
  }

  {
    const r = repo('tags');
    const n = cfg.listConcurrency;
    const size = cfg.listSize;
    list.push({
      id: 'tags-list',
      title: `tags/list?n=${size} (${size} tags), ${n} at once, ${cfg.windowSeconds} s`,
      headline: 'req/s',
      async setup(t) {
        const img = smallImage();
        await pushImageBlobs(t.client, r, img);
        const body = img.manifest();
        await runCount(8, size, (i) => putManifest(t.client, r, `t${String(i).padStart(4, '0')}`, body).then(() => 0));
      },
      async run(t) {
        return runWindow(n, cfg.windowSeconds, async () => {
          const res = await t.client.send({ method: 'GET', path: `/v2/${r}/tags/list?n=${size}`, scope: pullScope(r) });
          return expectStatus(res, 'tags/list', 200).bytes;
        });
      },
    });
  }
  {
    const n = cfg.listConcurrency;
    const size = cfg.listSize;
    list.push({
      id: 'catalog',
      title: `_catalog?n=${size} (first page; ${size} extra repositories), ${n} at once, ${cfg.windowSeconds} s`,
      headline: 'req/s',
      async setup(t) {
        const source = repo('catalog-source');
        const img = smallImage();
        await pushBlob(t.client, source, img.config.body, img.config.digest);
        const body = configOnlyManifest(img.config);
        await runCount(8, size, async (i) => {
          const name = repo(`cat-${String(i).padStart(4, '0')}`);
          await mountBlob(t.client, name, img.config.digest, source);
          await putManifest(t.client, name, 'latest', body);
          return 0;
        });
      },
      async run(t) {
        return runWindow(n, cfg.windowSeconds, async () => {
          const res = await t.client.send({ method: 'GET', path: `/v2/_catalog?n=${size}`, scope: CATALOG_SCOPE });
          return expectStatus(res, '_catalog', 200).bytes;
        });
      },
    });
  }
  return [...list, ...loadScenarios(cfg)];
}
