/**
 * The OCI client against another registry implementation: Debian's docker-registry (distribution) with htpasswd
 * Basic auth. Images pushed to it through the client, copied from it into ncr (single image and index), a second copy
 * skipped, tags listed, wrong credentials refused clearly, the cosign tag found where the referrers API is missing.
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
import { startDistribution, type Distribution } from './distribution.js';
import { readAll } from './helpers.js';

async function pushImage(c: OciRemoteClient, repo: string, img: BuiltImage, ref: string) {
  for (const b of [{ digest: img.configDigest, bytes: img.config }, ...img.layers]) {
    await c.pushBlob(repo, b.digest, b.bytes.length, async () => Readable.from([Buffer.from(b.bytes)]));
  }
  await c.putManifest(repo, ref, img.manifest, MT_OCI_MANIFEST);
}

describe('OCI client against distribution (docker-registry)', () => {
  let d: Distribution;
  let s: TestServer;
  let dir: string;
  let dist: OciRemoteClient;
  let ncr: OciRemoteClient;
  const reg = 'ds' + randomBytes(3).toString('hex');

  beforeAll(async () => {
    [d, s] = await Promise.all([startDistribution(), startServer({ db: 'sqlite' })]);
    expect((await s.api('POST', '/api/v1/registries', { name: reg })).status).toBe(201);
    dir = await mkdtemp(join(tmpdir(), 'ncr-dist-'));
    dist = new OciRemoteClient({ url: d.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: d.user, password: d.password } });
    ncr = new OciRemoteClient({ url: s.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: s.admin.accessKey, password: s.admin.secretKey } });
  });
  afterAll(async () => {
    await Promise.all([d?.stop(), s?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pings with Basic and refuses a wrong password clearly', async () => {
    await dist.ping();
    const bad = new OciRemoteClient({ url: d.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: d.user, password: 'nope' }, attempts: 1 });
    await expect(bad.ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining(d.url) });
  });

  it('copies an image from distribution into ncr, byte-exact, and skips it the second time', async () => {
    const img = await buildImage({ dir: join(dir, 'one'), layers: 2, layerSize: 300_000, seed: 'dist-one' });
    await pushImage(dist, 'library/app', img, 'v1');
    await dist.putManifest('library/app', 'v2', img.manifest, MT_OCI_MANIFEST);
    expect((await dist.tags('library/app')).sort()).toEqual(['v1', 'v2']);

    const res = await copyImage(dist, 'library/app', 'v1', ncr, `${reg}/app`);
    expect(res).toMatchObject({ digest: img.manifestDigest, copied: true, blobs: { uploaded: 3 } });
    const m = await ncr.getManifest(`${reg}/app`, 'v1');
    expect(Buffer.from(m.bytes).equals(Buffer.from(img.manifest))).toBe(true);
    const layer = await ncr.getBlob(`${reg}/app`, img.layers[0].digest);
    expect((await readAll(layer.stream)).equals(Buffer.from(img.layers[0].bytes))).toBe(true);
    expect((await copyImage(dist, 'library/app', 'v1', ncr, `${reg}/app`)).copied).toBe(false);
  });

  it('copies a multi-arch index from ncr into distribution and back', async () => {
    const idx = await buildIndex({ dir: join(dir, 'multi'), platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64' }], layers: 1, layerSize: 20_000, seed: 'dist-multi' });
    for (const child of idx.children) await pushImage(ncr, `${reg}/multi`, child, child.manifestDigest);
    await ncr.putManifest(`${reg}/multi`, '1.0', idx.index, MT_OCI_INDEX);

    expect(await copyImage(ncr, `${reg}/multi`, '1.0', dist, 'mirror/multi')).toMatchObject({ digest: idx.indexDigest, copied: true });
    expect(await dist.headManifest('mirror/multi', '1.0')).toMatchObject({ digest: idx.indexDigest, mediaType: MT_OCI_INDEX });
    expect(await copyImage(dist, 'mirror/multi', '1.0', ncr, `${reg}/back`)).toMatchObject({ digest: idx.indexDigest, copied: true });
    for (const child of idx.children) expect((await ncr.headManifest(`${reg}/back`, child.manifestDigest))?.digest).toBe(child.manifestDigest);
  });

  it("finds a cosign signature by its tag (distribution 2.8 has no referrers API)", async () => {
    const subject = await dist.headManifest('library/app', 'v1');
    const sig = await buildImage({ dir: join(dir, 'sig'), layers: 1, layerSize: 10, seed: 'dist-sig' });
    const tag = `sha256-${subject!.digest.slice(7)}.sig`;
    await pushImage(dist, 'library/app', sig, tag);
    const refs = await dist.referrers('library/app', subject!.digest);
    expect(refs.map((r) => r.digest)).toEqual([sig.manifestDigest]);
  });
});
