/**
 * copyImage between two real ncr servers: a single image and a multi-arch index arrive with the same digests and
 * bytes, a second copy is skipped after one HEAD, and a copy to another repository on the same target mounts blobs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../src/domain/outbound/copy-image.js';
import { OciRemoteClient } from '../../src/outbound/oci-client.js';
import { buildImage, buildIndex, MT_OCI_INDEX, MT_OCI_MANIFEST, type BuiltImage } from '../helpers/oci-image.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { countingHttp, readAll } from './helpers.js';

function clientFor(s: TestServer, http = countingHttp()) {
  return new OciRemoteClient({ url: s.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: s.admin.accessKey, password: s.admin.secretKey }, http });
}

async function pushImage(c: OciRemoteClient, repo: string, img: BuiltImage, ref: string) {
  for (const b of [{ digest: img.configDigest, bytes: img.config }, ...img.layers]) {
    await c.pushBlob(repo, b.digest, b.bytes.length, async () => Readable.from([Buffer.from(b.bytes)]));
  }
  await c.putManifest(repo, ref, img.manifest, MT_OCI_MANIFEST);
}

describe('copyImage between two ncr servers', () => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;
  const reg = 'cp' + randomBytes(3).toString('hex');

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer({ db: 'sqlite' }), startServer({ db: 'sqlite' })]);
    for (const s of [a, b]) expect((await s.api('POST', '/api/v1/registries', { name: reg })).status).toBe(201);
    dir = await mkdtemp(join(tmpdir(), 'ncr-copy-'));
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('copies a single image, then skips it, then mounts it into another repository', async () => {
    const img = await buildImage({ dir: join(dir, 'one'), layers: 2, layerSize: 200_000, seed: 'one' });
    const src = clientFor(a);
    await pushImage(src, `${reg}/one`, img, 'v1');

    const dstHttp = countingHttp();
    const dst = clientFor(b, dstHttp);
    const first = await copyImage(src, `${reg}/one`, 'v1', dst, `${reg}/one`);
    expect(first).toMatchObject({ digest: img.manifestDigest, copied: true, blobs: { uploaded: 3, mounted: 0, present: 0 } });
    expect(first.bytes).toBe(img.config.length + img.layers.reduce((n, l) => n + l.size, 0) + img.manifest.length);
    const got = await dst.getManifest(`${reg}/one`, 'v1');
    expect(got.digest).toBe(img.manifestDigest);
    expect(Buffer.from(got.bytes).equals(Buffer.from(img.manifest))).toBe(true);
    const layer = await dst.getBlob(`${reg}/one`, img.layers[1].digest);
    expect((await readAll(layer.stream)).equals(Buffer.from(img.layers[1].bytes))).toBe(true);

    const srcHttp = countingHttp();
    const again = await copyImage(clientFor(a, srcHttp), `${reg}/one`, 'v1', dst, `${reg}/one`);
    expect(again).toMatchObject({ digest: img.manifestDigest, copied: false, bytes: 0 });
    expect(srcHttp.requests.filter((r) => r.method !== 'HEAD' && !r.url.includes('/service/token'))).toEqual([]);

    // another repository on the same target: the blobs are mounted, none is downloaded from the source
    const srcHttp2 = countingHttp();
    const mounted = await copyImage(clientFor(a, srcHttp2), `${reg}/one`, 'v1', dst, `${reg}/other`, 'copied', { mountFrom: `${reg}/one` });
    expect(mounted).toMatchObject({ copied: true, blobs: { uploaded: 0, mounted: 3 } });
    expect(srcHttp2.requests.filter((r) => r.url.includes('/blobs/'))).toEqual([]);
    expect((await dst.headManifest(`${reg}/other`, 'copied'))?.digest).toBe(img.manifestDigest);
  });

  it('copies a multi-arch index whole, children first, and skips it the second time', async () => {
    const idx = await buildIndex({ dir: join(dir, 'multi'), platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64', variant: 'v8' }], layers: 1, layerSize: 50_000, seed: 'multi' });
    const src = clientFor(a);
    for (const child of idx.children) await pushImage(src, `${reg}/multi`, child, child.manifestDigest);
    await src.putManifest(`${reg}/multi`, '1.0', idx.index, MT_OCI_INDEX);

    const dst = clientFor(b);
    const res = await copyImage(src, `${reg}/multi`, '1.0', dst, `${reg}/multi`);
    expect(res).toMatchObject({ digest: idx.indexDigest, copied: true });
    const head = await dst.headManifest(`${reg}/multi`, '1.0');
    expect(head).toMatchObject({ digest: idx.indexDigest, mediaType: MT_OCI_INDEX });
    for (const child of idx.children) {
      const m = await dst.getManifest(`${reg}/multi`, child.manifestDigest);
      expect(Buffer.from(m.bytes).equals(Buffer.from(child.manifest))).toBe(true);
      for (const l of child.layers) expect(await dst.headBlob(`${reg}/multi`, l.digest)).toEqual({ size: l.size });
    }
    expect((await copyImage(src, `${reg}/multi`, '1.0', dst, `${reg}/multi`)).copied).toBe(false);
  });

  it('a missing source image is MANIFEST_UNKNOWN naming the source', async () => {
    await expect(copyImage(clientFor(a), `${reg}/one`, 'nope', clientFor(b), `${reg}/one`)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN', message: expect.stringContaining(a.url) });
  });
});
