/**
 * The real clients against ncr on S3 (s3rver on loopback, test/helpers/s3.ts): skopeo pushes an image (its own
 * upload flow: POST, PATCH, PUT) and copies it back byte for byte; podman pulls it from an ncr with presigned
 * redirects, and the layer bytes come from the S3 server (its request log), not from ncr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, DeepPartial } from '../../src/config/index.js';
import { haveTool, podman, removePodmanStore, skopeo } from '../helpers/clients.js';
import { buildImage, readLayoutBlob, readLayoutTag, type BuiltImage } from '../helpers/oci-image.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('skopeo and podman against ncr on S3', { timeout: 180_000 }, () => {
  let s3: TestS3;
  let bucket: string;
  let plain: TestServer;
  let redirecting: TestServer;
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
    for (const s of [plain, redirecting]) expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    work = await mkdtemp(join(tmpdir(), 'ncr-s3-clients-'));
    // one layer above S3's 5 MiB part minimum, one small
    app = await buildImage({ dir: join(work, 'layout'), tag: '1.0', layers: 2, layerSize: 6 * 1024 * 1024 });
  });
  afterAll(async () => {
    await plain?.close();
    await redirecting?.close();
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
});
