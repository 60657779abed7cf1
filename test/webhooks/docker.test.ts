/**
 * `docker push` (the real engine, a private dockerd from test/helpers/docker.ts) to a registry with a webhook: the
 * receiver gets Harbor's PUSH_ARTIFACT for the digest and tag Docker reports, on each database.
 * Set NCR_SKIP_REAL_CLIENTS=1 to skip it where docker.io cannot be installed (or without root).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerEngineUnavailable, dockerLogin, startDockerEngine, type DockerEngine } from '../helpers/docker.js';
import { createTar } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { Receiver } from './receiver.js';

describe.skipIf(process.env.NCR_SKIP_REAL_CLIENTS === '1')('docker push notifies webhooks', { timeout: 180_000 }, () => {
  let engine: DockerEngine;
  let rx: Receiver;

  beforeAll(async () => {
    const unavailable = dockerEngineUnavailable();
    if (unavailable) throw new Error(`${unavailable}: run \`npm test\` as root (scripts/test.sh installs docker.io) or set NCR_SKIP_REAL_CLIENTS=1`);
    engine = await startDockerEngine();
    rx = await Receiver.start();
  }, 180_000);
  afterAll(async () => {
    await rx?.stop();
    await engine?.stop();
  });

  describe.each(DB_KINDS)('on %s', (db) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ db, config: { webhooks: { allowPrivateNetworks: true } } });
    });
    afterAll(async () => s?.close());

    it('sends PUSH_ARTIFACT with the digest and tag docker reports', async () => {
      expect((await s.api('POST', '/api/v1/registries', { name: 'dock' })).status).toBe(201);
      const hook = await s.api('POST', '/api/v1/registries/dock/webhooks', { name: 'ci', address: `${rx.url}/${db}`, eventTypes: ['PUSH_ARTIFACT'], secret: 'docker-secret-1' });
      expect(hook.status).toBe(201);

      const work = await mkdtemp(join(engine.baseDir, `wh-${db}-`));
      const config = await engine.newConfig(`wh-${db}`);
      expect((await dockerLogin(engine, s.host, s.admin, config)).code).toBe(0);
      const tar = join(work, 'rootfs.tar');
      await writeFile(tar, createTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/release', type: 'file', data: Buffer.from(`webhooks on ${db}\n`) }]));
      const ref = `${s.host}/dock/app:2.0`;
      await engine.docker(['import', tar, ref], { config });
      const push = await engine.docker(['push', ref], { config });
      const digest = /: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)![1];

      const [got] = await rx.waitFor(1, (r) => r.path === `/${db}`);
      const created = (await s.api('GET', '/api/v1/registries/dock/images')).body.items[0].createdAt as string;
      expect(got.json).toEqual({
        type: 'PUSH_ARTIFACT',
        occur_at: expect.any(Number),
        operator: 'admin',
        event_data: {
          resources: [{ digest, tag: '2.0', resource_url: `${s.host}/dock/app:2.0` }],
          repository: { date_created: Math.floor(Date.parse(created) / 1000), name: 'app', namespace: 'dock', repo_full_name: 'dock/app', repo_type: 'private' },
        },
      });
      expect(Math.abs(got.json.occur_at * 1000 - Date.now())).toBeLessThan(60_000);
      expect(got.headers['x-ncr-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(rx.received.filter((r) => r.path === `/${db}`)).toHaveLength(1);
    });
  });
});
