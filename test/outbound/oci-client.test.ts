/**
 * The outbound OCI client against a real ncr (Docker token flow, Basic credentials): ping, blobs and manifests pushed
 * and read back byte-exact, tags across pages, referrers, wrong credentials, the token cache.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRemoteClient } from '../../src/outbound/oci-client.js';
import { isNcrError } from '../../src/oci/errors.js';
import { sha256 } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { countingHttp, readAll } from './helpers.js';

describe('OCI client against ncr', () => {
  let s: TestServer;
  let http: ReturnType<typeof countingHttp>;
  let remote: OciRemoteClient;
  const reg = 'oc' + randomBytes(3).toString('hex');
  const repo = `${reg}/app`;

  beforeAll(async () => {
    s = await startServer({ db: 'sqlite' });
    expect((await s.api('POST', '/api/v1/registries', { name: reg })).status).toBe(201);
    http = countingHttp();
    remote = new OciRemoteClient({ url: s.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: s.admin.accessKey, password: s.admin.secretKey }, http });
  });
  afterAll(async () => s?.close());

  it('pings', async () => {
    await remote.ping();
  });

  it('pushes blobs and a manifest, and reads them back byte-exact', async () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(3 * 1024 * 1024 + 17);
    const blobs = [config, layer];
    for (const b of blobs) {
      expect(await remote.headBlob(repo, sha256(b))).toBeUndefined();
      // chunked stream: nothing here holds more than a chunk
      const open = async () => Readable.from((function* () { for (let i = 0; i < b.length; i += 65536) yield b.subarray(i, i + 65536); })());
      expect(await remote.pushBlob(repo, sha256(b), b.length, open)).toEqual({ mounted: false });
      expect(await remote.headBlob(repo, sha256(b))).toEqual({ size: b.length });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
      }),
    );
    expect(await remote.putManifest(repo, 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json')).toBe(sha256(manifest));

    const head = await remote.headManifest(repo, 'v1');
    expect(head).toEqual({ digest: sha256(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: manifest.length });
    for (const ref of ['v1', sha256(manifest)]) {
      const got = await remote.getManifest(repo, ref);
      expect(Buffer.from(got.bytes).equals(manifest)).toBe(true);
      expect(got.digest).toBe(sha256(manifest));
    }
    const { stream, size } = await remote.getBlob(repo, sha256(layer));
    expect(size).toBe(layer.length);
    expect((await readAll(stream)).equals(layer)).toBe(true);
  });

  it('says what is missing: undefined on HEAD, MANIFEST_UNKNOWN / BLOB_UNKNOWN on GET', async () => {
    expect(await remote.headManifest(repo, 'nope')).toBeUndefined();
    await expect(remote.getManifest(repo, 'nope')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    await expect(remote.getBlob(repo, sha256('absent'))).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
  });

  it('lists tags across pages (Link header)', async () => {
    const m = await remote.getManifest(repo, 'v1');
    const tags = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const t of tags) await remote.putManifest(repo, t, m.bytes, m.mediaType);
    const before = http.requests.length;
    expect((await remote.tags(repo, 2)).sort()).toEqual([...tags, 'v1'].sort());
    expect(http.requests.filter((r) => r.url.includes('/tags/list')).length).toBeGreaterThanOrEqual(Math.ceil(6 / 2));
    expect(http.requests.length).toBeGreaterThan(before);
  });

  it('lists referrers', async () => {
    const subject = await remote.headManifest(repo, 'v1');
    const empty = Buffer.from('{}');
    await remote.pushBlob(repo, sha256(empty), empty.length, async () => Readable.from([empty]));
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sig',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }],
        subject: { mediaType: subject!.mediaType, digest: subject!.digest, size: subject!.size },
      }),
    );
    await remote.putManifest(repo, sha256(sig), sig, 'application/vnd.oci.image.manifest.v1+json');
    const refs = await remote.referrers(repo, subject!.digest);
    expect(refs.map((r) => r.digest)).toEqual([sha256(sig)]);
  });

  it('caches the token per scope: repeated calls fetch no new token', async () => {
    await remote.headManifest(repo, 'v1');
    const n = http.tokenRequests;
    expect(n).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await remote.headManifest(repo, 'v1');
    await remote.getManifest(repo, 'v1');
    expect(http.tokenRequests).toBe(n);
  });

  it('wrong credentials: a clear UNAUTHORIZED naming the remote', async () => {
    const bad = new OciRemoteClient({ url: s.url, allowPrivateNetworks: true, credentials: { kind: 'basic', username: s.admin.accessKey, password: 'wrong' }, attempts: 1 });
    const err = await bad.headManifest(repo, 'v1').catch((e: unknown) => e);
    expect(isNcrError(err) && err.code).toBe('UNAUTHORIZED');
    expect((err as Error).message).toContain(s.url);
    expect((err as Error).message).toMatch(/credentials were refused/);
    const anon = new OciRemoteClient({ url: s.url, allowPrivateNetworks: true });
    await expect(anon.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
