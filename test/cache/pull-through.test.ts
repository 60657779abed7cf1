/**
 * Image cache registries against real sources on loopback, on both databases: Debian's docker-registry (distribution,
 * htpasswd Basic auth) and another ncr (Docker token flow), each behind a counting proxy. The guide's table: a changed
 * tag brings the source's image (after the recheck window), the same one is served from the cache, an unreachable
 * source leaves the cached image served, a tag deleted at the source is not served; by digest a cached manifest is
 * served without asking. Pushes refused; concurrent pulls of a big blob make one upstream download, and a pull joining
 * a fill in flight streams its bytes before the fill is done; a multi-arch index is cached with the requested child
 * only; a fill longer than its timeout (5 s here: generous for a loaded machine, a 6 MiB fill shared by five pulls) is
 * abandoned and the next pull works.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { OciRemoteClient } from '../../src/outbound/oci-client.js';
import { buildImage, buildIndex, MT_OCI_INDEX, MT_OCI_MANIFEST, type BuiltImage } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { startDistribution, type Distribution } from '../outbound/distribution.js';
import { readAll } from '../outbound/helpers.js';
import { startProxy, type SourceProxy } from './proxy.js';

async function pushImage(c: OciRemoteClient, repo: string, img: BuiltImage, ref: string) {
  for (const b of [{ digest: img.configDigest, bytes: img.config }, ...img.layers]) {
    await c.pushBlob(repo, b.digest, b.bytes.length, async () => Readable.from([Buffer.from(b.bytes)]));
  }
  await c.putManifest(repo, ref, img.manifest, MT_OCI_MANIFEST);
}

interface Source {
  kind: 'distribution' | 'ncr';
  url: string;
  user: string;
  password: string;
  /** where the test's images live at the source (a registry name on ncr) */
  prefix: string;
  stop(): Promise<void>;
}

async function startSource(kind: Source['kind']): Promise<Source> {
  if (kind === 'distribution') {
    const d: Distribution = await startDistribution();
    return { kind, url: d.url, user: d.user, password: d.password, prefix: 'team', stop: () => d.stop() };
  }
  const s = await startServer({ db: 'sqlite' });
  expect((await s.api('POST', '/api/v1/registries', { name: 'src' })).status).toBe(201);
  return { kind, url: s.url, user: s.admin.accessKey, password: s.admin.secretKey, prefix: 'src', stop: () => s.close() };
}

const sources: Source['kind'][] = ['distribution', 'ncr'];
const cases = DB_KINDS.flatMap((db) => sources.map((src) => [db, src] as const));

describe.each(cases)('image cache (%s, source %s)', (db, sourceKind) => {
  let src: Source;
  let proxy: SourceProxy;
  let s: TestServer;
  let dir: string;
  let upstream: OciRemoteClient;
  let ncr: OciRemoteClient;
  const clock = new ManualClock();
  const cache = 'hub' + randomBytes(2).toString('hex');
  let app: string;
  let v1: BuiltImage;
  let v2: BuiltImage;

  beforeAll(async () => {
    [src, s] = await Promise.all([
      startSource(sourceKind),
      startServer({ db, adapters: { clock }, config: { endpoints: { allowPrivateNetworks: true }, cache: { tagRecheckSeconds: 60, fillTimeoutSeconds: 5 } } }),
    ]);
    proxy = await startProxy(src.url);
    app = `${src.prefix}/app`;
    dir = await mkdtemp(join(tmpdir(), 'ncr-cache-'));
    upstream = new OciRemoteClient({ url: src.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: src.user, password: src.password } });
    ncr = new OciRemoteClient({ url: s.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: s.admin.accessKey, password: s.admin.secretKey }, attempts: 1 });
    const provider = sourceKind === 'ncr' ? 'ncr' : 'docker-registry';
    const ep = await s.api('POST', '/api/v1/endpoints', { name: 'source', provider, url: proxy.url, accessId: src.user, secret: src.password });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    v1 = await buildImage({ dir: join(dir, 'v1'), layers: 2, layerSize: 50_000, seed: `v1-${sourceKind}-${db}` });
    v2 = await buildImage({ dir: join(dir, 'v2'), layers: 2, layerSize: 50_000, seed: `v2-${sourceKind}-${db}` });
    await pushImage(upstream, app, v1, 'v1');
  });
  afterAll(async () => {
    await Promise.all([s?.close(), proxy?.close(), src?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates a cache registry bound to the endpoint, with the 7-day cleanup policy; the endpoint cannot be deleted meanwhile', async () => {
    expect((await s.api('POST', '/api/v1/registries', { name: cache, kind: 'cache' })).status).toBe(400);
    expect((await s.api('POST', '/api/v1/registries', { name: cache, kind: 'cache', endpoint: 'nope' })).status).toBe(404);
    expect((await s.api('GET', `/api/v1/registries/${cache}`)).status).toBe(404);
    const created = await s.api('POST', '/api/v1/registries', { name: cache, kind: 'cache', endpoint: 'source' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: cache, kind: 'cache', endpoint: { name: 'source' } });
    const listed = await s.api('GET', '/api/v1/registries?perPage=100');
    expect(listed.body.items.find((r: { name: string }) => r.name === cache)).toMatchObject({ kind: 'cache', endpoint: { name: 'source' } });
    const policies = await s.api('GET', `/api/v1/registries/${cache}/cleanup-policies`);
    expect(policies.status).toBe(200);
    expect(JSON.stringify(policies.body)).toContain('pulledWithinDays');
    const del = await s.api('DELETE', '/api/v1/endpoints/source');
    expect(del.status).toBe(409);
    expect(del.body.errors[0].message).toContain(cache);
  });

  it('pulls through: the manifest and blobs come from the source, byte-exact, and are cached', async () => {
    const m = await ncr.getManifest(`${cache}/${app}`, 'v1');
    expect(m.digest).toBe(v1.manifestDigest);
    expect(Buffer.from(m.bytes).equals(Buffer.from(v1.manifest))).toBe(true);
    for (const l of v1.layers) {
      const b = await ncr.getBlob(`${cache}/${app}`, l.digest);
      expect((await readAll(b.stream)).equals(Buffer.from(l.bytes))).toBe(true);
    }
    const cfg = await ncr.getBlob(`${cache}/${app}`, v1.configDigest);
    expect((await readAll(cfg.stream)).equals(Buffer.from(v1.config))).toBe(true);
    // served again from the cache: no blob request reaches the source
    const before = proxy.count('GET', '/blobs/');
    const again = await ncr.getBlob(`${cache}/${app}`, v1.layers[0].digest);
    expect((await readAll(again.stream)).length).toBe(v1.layers[0].size);
    expect(proxy.count('GET', '/blobs/')).toBe(before);
    await s.app.flush();
    const images = await s.api('GET', `/api/v1/registries/${cache}/images`);
    expect(images.body.items.map((i: { name: string }) => i.name)).toContain(app);
  });

  it('refuses pushes, tags and signatures into the cache registry with DENIED', async () => {
    const put = await fetch(`${s.url}/v2/${cache}/${app}/manifests/mine`, {
      method: 'PUT',
      headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64'), 'content-type': MT_OCI_MANIFEST },
      body: Buffer.from(v1.manifest),
    });
    expect(put.status).toBe(403);
    const body = (await put.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0].code).toBe('DENIED');
    expect(body.errors[0].message).toContain('image cache');
    const start = await fetch(`${s.url}/v2/${cache}/${app}/blobs/uploads/`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64') } });
    expect(start.status).toBe(403);
    // a cosign signature is a push of a `sha256-<hex>.sig` tag: refused the same way
    const sig = await fetch(`${s.url}/v2/${cache}/${app}/manifests/sha256-${v1.manifestDigest.slice(7)}.sig`, {
      method: 'PUT',
      headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64'), 'content-type': MT_OCI_MANIFEST },
      body: Buffer.from(v1.manifest),
    });
    expect(sig.status).toBe(403);
    const tag = await s.api('POST', `/api/v1/registries/${cache}/images/${encodeURIComponent(app)}/tags`, { name: 'other', digest: v1.manifestDigest });
    expect(tag.status, JSON.stringify(tag.body)).toBe(403);
  });

  it('re-checks a tag only after the window; then a changed tag brings the new image', async () => {
    await pushImage(upstream, app, v2, 'v1');
    const heads = proxy.count('HEAD', '/manifests/v1');
    expect((await ncr.headManifest(`${cache}/${app}`, 'v1'))?.digest).toBe(v1.manifestDigest);
    expect(proxy.count('HEAD', '/manifests/v1')).toBe(heads);
    clock.advance(61_000);
    expect((await ncr.getManifest(`${cache}/${app}`, 'v1')).digest).toBe(v2.manifestDigest);
    expect(proxy.count('HEAD', '/manifests/v1')).toBe(heads + 1);
    const layer = await ncr.getBlob(`${cache}/${app}`, v2.layers[1].digest);
    expect((await readAll(layer.stream)).equals(Buffer.from(v2.layers[1].bytes))).toBe(true);
    // the same digest at the source: served from the cache (one HEAD, no GET of the manifest)
    clock.advance(61_000);
    const gets = proxy.count('GET', '/manifests/');
    expect((await ncr.getManifest(`${cache}/${app}`, 'v1')).digest).toBe(v2.manifestDigest);
    expect(proxy.count('GET', '/manifests/')).toBe(gets);
  });

  it('serves the cached image while the source is unreachable, and by digest without asking it', async () => {
    proxy.down = true;
    try {
      clock.advance(61_000);
      expect((await ncr.getManifest(`${cache}/${app}`, 'v1')).digest).toBe(v2.manifestDigest);
      const layer = await ncr.getBlob(`${cache}/${app}`, v2.layers[1].digest);
      expect((await readAll(layer.stream)).equals(Buffer.from(v2.layers[1].bytes))).toBe(true);
      const seen = proxy.seen.length;
      expect((await ncr.getManifest(`${cache}/${app}`, v1.manifestDigest)).digest).toBe(v1.manifestDigest);
      expect(proxy.seen.length).toBe(seen);
      // nothing cached and the source away: a clear 503
      await expect(ncr.getManifest(`${cache}/${app}`, 'never-pulled')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      proxy.down = false;
    }
  });

  it('does not serve a tag deleted at the source (404 there), even though it is cached', async () => {
    await pushImage(upstream, app, v1, 'gone');
    expect((await ncr.getManifest(`${cache}/${app}`, 'gone')).digest).toBe(v1.manifestDigest);
    const auth = 'Basic ' + Buffer.from(`${src.user}:${src.password}`).toString('base64');
    if (sourceKind === 'distribution') {
      // distribution deletes manifests by digest only (and with them every tag pointing there)
      const del = await fetch(`${src.url}/v2/${app}/manifests/${v1.manifestDigest}`, { method: 'DELETE', headers: { authorization: auth } });
      expect(del.status).toBe(202);
    } else {
      const del = await fetch(`${src.url}/v2/${app}/manifests/gone`, { method: 'DELETE', headers: { authorization: auth } });
      expect(del.status).toBe(202);
    }
    clock.advance(61_000);
    await expect(ncr.getManifest(`${cache}/${app}`, 'gone')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    await expect(ncr.headManifest(`${cache}/${app}`, 'gone')).resolves.toBeUndefined();
    // and the copy's tag went with it
    const tags = await s.api('GET', `/api/v1/registries/${cache}/images/${encodeURIComponent(app)}/tags?perPage=100`);
    expect(tags.body.items.map((t: { name: string }) => t.name)).not.toContain('gone');
  });

  it('caches a multi-arch index and the child asked for; the other child only when it is pulled', async () => {
    const idx = await buildIndex({ dir: join(dir, 'multi'), platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64' }], layers: 1, layerSize: 20_000, seed: `multi-${sourceKind}-${db}` });
    for (const child of idx.children) await pushImage(upstream, `${src.prefix}/multi`, child, child.manifestDigest);
    await upstream.putManifest(`${src.prefix}/multi`, '1.0', idx.index, MT_OCI_INDEX);
    const repo = `${cache}/${src.prefix}/multi`;
    const index = await ncr.getManifest(repo, '1.0');
    expect(index).toMatchObject({ digest: idx.indexDigest, mediaType: MT_OCI_INDEX });
    const [amd64, arm64] = idx.children;
    // HEAD of a blob not cached yet asks the source for its size and stores nothing
    expect(await ncr.headBlob(repo, arm64.layers[0].digest)).toEqual({ size: arm64.layers[0].size });
    expect((await ncr.getManifest(repo, amd64.manifestDigest)).digest).toBe(amd64.manifestDigest);
    const layer = await ncr.getBlob(repo, amd64.layers[0].digest);
    expect((await readAll(layer.stream)).equals(Buffer.from(amd64.layers[0].bytes))).toBe(true);
    const listed = async () => (await s.api('GET', `/api/v1/registries/${cache}/images/${encodeURIComponent(`${src.prefix}/multi`)}/artifacts?perPage=100`)).body.items.map((a: { digest: string }) => a.digest);
    expect((await listed()).sort()).toEqual([idx.indexDigest, amd64.manifestDigest].sort());
    expect((await ncr.getManifest(repo, arm64.manifestDigest)).digest).toBe(arm64.manifestDigest);
    expect((await listed()).sort()).toEqual([idx.indexDigest, amd64.manifestDigest, arm64.manifestDigest].sort());
  });

  it('shares one upstream download among concurrent pulls of a big blob, and streams it while storing', async () => {
    const big = await buildImage({ dir: join(dir, 'big'), layers: 1, layerSize: 6 * 1024 * 1024, seed: `big-${sourceKind}-${db}` });
    await pushImage(upstream, `${src.prefix}/big`, big, 'latest');
    const digest = big.layers[0].digest;
    proxy.hold = { pathPart: digest, ms: 400 };
    try {
      const repo = `${cache}/${src.prefix}/big`;
      const first = ncr.getBlob(repo, digest).then(async (b) => readAll(b.stream));
      while (proxy.count('GET', digest) === 0) await new Promise((r) => setTimeout(r, 10));
      const rest = Array.from({ length: 4 }, () => ncr.getBlob(repo, digest).then(async (b) => readAll(b.stream)));
      const bodies = await Promise.all([first, ...rest]);
      for (const b of bodies) expect(b.equals(Buffer.from(big.layers[0].bytes))).toBe(true);
      expect(proxy.count('GET', digest)).toBe(1);
      // the same layer in another image of the source: linked from the cache's store, not downloaded again
      await pushImage(upstream, `${src.prefix}/big2`, big, 'latest');
      const other = await ncr.getBlob(`${cache}/${src.prefix}/big2`, digest);
      expect((await readAll(other.stream)).equals(Buffer.from(big.layers[0].bytes))).toBe(true);
      expect(proxy.count('GET', digest)).toBe(1);
    } finally {
      proxy.hold = undefined;
    }
  });

  it('a pull joining a fill in flight streams the bytes as they arrive, before the fill is done, from the one download', async () => {
    const held = await buildImage({ dir: join(dir, 'held'), layers: 1, layerSize: 3 * 1024 * 1024, seed: `held-${sourceKind}-${db}` });
    await pushImage(upstream, `${src.prefix}/held`, held, 'latest');
    const digest = held.layers[0].digest;
    const repo = `${cache}/${src.prefix}/held`;
    // the source sends the first 1 MiB, then nothing for a while (within the 5 s fill timeout), then the rest
    proxy.hold = { pathPart: digest, ms: 800, afterBytes: 1 << 20 };
    proxy.releasedAt = undefined;
    try {
      const first = ncr.getBlob(repo, digest).then(async (b) => readAll(b.stream));
      first.catch(() => undefined);
      for (let i = 0; proxy.count('GET', digest) === 0; i++) {
        if (i > 1000) throw new Error(`the fill never asked the source for ${digest}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const second = await ncr.getBlob(repo, digest);
      const chunks: Buffer[] = [];
      let releasedAtFirstByte: number | undefined = -1;
      for await (const chunk of second.stream as AsyncIterable<Buffer>) {
        if (chunks.length === 0) releasedAtFirstByte = proxy.releasedAt;
        chunks.push(chunk);
      }
      // its first bytes came while the source was still holding the rest back
      expect(releasedAtFirstByte).toBeUndefined();
      expect(proxy.releasedAt).toBeDefined();
      for (const body of [Buffer.concat(chunks), await first]) expect(body.equals(Buffer.from(held.layers[0].bytes))).toBe(true);
      expect(proxy.count('GET', digest)).toBe(1);
    } finally {
      proxy.hold = undefined;
    }
  });

  it('abandons a fill that takes longer than its timeout, leaves nothing behind, and the next pull fetches it', async () => {
    const slow = await buildImage({ dir: join(dir, 'slow'), layers: 1, layerSize: 100_000, seed: `slow-${sourceKind}-${db}` });
    await pushImage(upstream, `${src.prefix}/slow`, slow, 'latest');
    const repo = `${cache}/${src.prefix}/slow`;
    const digest = slow.layers[0].digest;
    proxy.hold = { pathPart: digest, ms: 6500 };
    try {
      await expect(ncr.getBlob(repo, digest).then(async (b) => readAll(b.stream))).rejects.toThrow();
    } finally {
      proxy.hold = undefined;
    }
    // the abandoned fill left no link and no upload behind
    await new Promise((r) => setTimeout(r, 200));
    const uploads = await s.app.maintenance.purgeUploads(0);
    expect(uploads).toBe(0);
    const b = await ncr.getBlob(repo, digest);
    expect((await readAll(b.stream)).equals(Buffer.from(slow.layers[0].bytes))).toBe(true);
    expect(proxy.count('GET', digest)).toBe(2);
  });

  it('publishes the cached artifacts as pushes by the system, in the audit log', async () => {
    await s.app.flush();
    const audit = await s.api('GET', '/api/v1/audit?perPage=100&action=ArtifactPushed');
    expect(audit.status).toBe(200);
    const pushes = audit.body.items.filter((e: { action: string; target: string }) => e.action === 'ArtifactPushed' && e.target.includes(`${cache}/`));
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes[0].actor ?? pushes[0].username).toContain('image-cache');
  });
});
