/**
 * The real clients against ncr on S3 (s3rver on loopback, test/helpers/s3.ts): skopeo pushes an image (its own
 * upload flow: POST, PATCH, PUT) and copies it back byte for byte; podman pulls it from an ncr with presigned
 * redirects, and the layer bytes come from the S3 server (its request log), not from ncr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, DeepPartial } from '../../src/config/index.js';
import { haveTool, podman, removePodmanStore, skopeo } from '../helpers/clients.js';
import { buildImage, readLayoutBlob, readLayoutTag, type BuiltImage } from '../helpers/oci-image.js';
import { OciClient } from '../helpers/oci-client.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** A port nobody listens on now (the server with a private endpoint needs its port before it starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('skopeo and podman against ncr on S3', { timeout: 180_000 }, () => {
  let s3: TestS3;
  let bucket: string;
  let plain: TestServer;
  let redirecting: TestServer;
  /** no redirects for public clients; a private endpoint at localhost:PORT (the public one is 127.0.0.1:PORT) */
  let withPrivate: TestServer;
  let privateHost: string;
  let work: string;
  let app: BuiltImage;
  const creds = (s: TestServer) => `${s.admin.accessKey}:${s.admin.secretKey}`;

  const s3Config = (redirect: boolean): DeepPartial<Config> => ({
    storage: {
      driver: 's3',
      s3: { bucket, prefix: 'ncr/', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey, redirect },
    },
  });

  beforeAll(async () => {
    for (const tool of ['skopeo', 'podman']) {
      if (!haveTool(tool)) throw new Error(`${tool} is not installed: run \`npm test\` (scripts/test.sh installs it as root)`);
    }
    s3 = await startS3();
    bucket = await s3.newBucket();
    // two nodes on one bucket (SQLite each: the image is pushed to both), one of them answering blob GETs with 307s
    plain = await startServer({ db: 'sqlite', config: s3Config(false) });
    redirecting = await startServer({ db: 'sqlite', config: s3Config(true) });
    const port = await freePort();
    privateHost = `localhost:${port}`;
    const privateConfig = s3Config(false);
    privateConfig.server = { port, privateUrl: `http://${privateHost}` };
    // the store's private address: another name for the same S3 server, so the redirect shows which one it named
    privateConfig.storage!.s3!.privateEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    withPrivate = await startServer({ db: 'sqlite', config: privateConfig });
    for (const s of [plain, redirecting, withPrivate]) expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    work = await mkdtemp(join(tmpdir(), 'ncr-s3-clients-'));
    // one layer above S3's 5 MiB part minimum, one small
    app = await buildImage({ dir: join(work, 'layout'), tag: '1.0', layers: 2, layerSize: 6 * 1024 * 1024 });
  });
  afterAll(async () => {
    await plain?.close();
    await redirecting?.close();
    await withPrivate?.close();
    await s3?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('skopeo copies an image in and back out byte for byte', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(plain), app.ref, `docker://${plain.host}/team/app:1.0`]);
    const back = join(work, 'back');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', creds(plain), `docker://${plain.host}/team/app:1.0`, `oci:${back}:1.0`]);
    expect((await readLayoutTag(back, '1.0'))?.digest).toBe(app.manifestDigest);
    for (const layer of app.layers) expect(Buffer.from(await readLayoutBlob(back, layer.digest)).equals(Buffer.from(layer.bytes))).toBe(true);
  });

  it('podman pulls through presigned redirects: the layers come from the S3 server', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(redirecting), app.ref, `docker://${redirecting.host}/team/app:1.0`]);
    const store = await mkdtemp(join(work, 'podman-'));
    try {
      const before = s3.requests.length;
      await podman(['pull', '--tls-verify=false', '--creds', creds(redirecting), `${redirecting.host}/team/app:1.0`], store);
      const inspected = JSON.parse((await podman(['image', 'inspect', `${redirecting.host}/team/app:1.0`], store)).stdout);
      expect(inspected[0].Digest).toBe(app.manifestDigest);
      expect(inspected[0].RootFS?.Layers).toEqual(app.diffIds);
      const served = s3.requests.slice(before).filter((r) => r.method === 'GET' && r.query.includes('X-Amz-Signature'));
      for (const layer of app.layers) expect(served.some((r) => r.path.endsWith(`/ncr/blobs/sha256/${layer.digest.slice(7)}`))).toBe(true);
    } finally {
      await removePodmanStore(store);
    }
  });

  it("the private endpoint (Private URI): registries show it; layers come from the store's private address, manifests from ncr; the public endpoint still serves the bytes itself", async () => {
    const reg = await withPrivate.api('GET', '/api/v1/registries/team');
    expect(reg.body).toMatchObject({ address: `${withPrivate.host}/team`, privateAddress: `${privateHost}/team` });
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(withPrivate), app.ref, `docker://${withPrivate.host}/team/app:1.0`]);
    // one blob GET on each endpoint: 307 to the private S3 address there, the bytes here
    const priv = new OciClient(`http://${privateHost}`, withPrivate.admin);
    const layer = app.layers[0]!.digest;
    const redirected = await priv.req('GET', `/v2/team/app/blobs/${layer}`);
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get('location')).toMatch(new RegExp(`^${s3.endpoint.replace('127.0.0.1', 'localhost')}/.*X-Amz-Signature=`));
    const manifest = await priv.req('GET', '/v2/team/app/manifests/1.0', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(app.manifestDigest);
    const direct = await new OciClient(withPrivate.url, withPrivate.admin).req('GET', `/v2/team/app/blobs/${layer}`);
    expect(direct.status).toBe(200);

    const store = await mkdtemp(join(work, 'podman-private-'));
    try {
      const before = s3.requests.length;
      await podman(['pull', '--tls-verify=false', '--creds', creds(withPrivate), `${privateHost}/team/app:1.0`], store);
      const inspected = JSON.parse((await podman(['image', 'inspect', `${privateHost}/team/app:1.0`], store)).stdout);
      expect(inspected[0].Digest).toBe(app.manifestDigest);
      const served = s3.requests.slice(before).filter((r) => r.method === 'GET' && r.query.includes('X-Amz-Signature'));
      for (const l of app.layers) expect(served.some((r) => r.path.endsWith(`/ncr/blobs/sha256/${l.digest.slice(7)}`))).toBe(true);
    } finally {
      await removePodmanStore(store);
    }
  });
});
