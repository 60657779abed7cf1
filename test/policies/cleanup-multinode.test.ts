/**
 * A registry's cleanup cycle on two nodes sharing one PostgreSQL database (and one clock): each firing starts exactly
 * one run, whichever node claims it, and a protection policy made through one node is enforced by the other at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, DeepPartial } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import { OciClient } from '../helpers/oci-client.js';
import { createPgDatabase, DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

describe.runIf(DB_KINDS.includes('postgres'))('cleanup on two nodes (postgres)', { timeout: 120_000 }, () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 0, 0, 0));
  let a: TestServer;
  let b: TestServer;
  let pg: { url: string; drop(): Promise<void> };
  const dirs: string[] = [];
  let admin: { accessKey: string; secretKey: string; password: string };
  const api = (node: TestServer, m: string, p: string, body?: unknown) => node.api(m, p, body, admin);
  beforeAll(async () => {
    pg = await createPgDatabase();
    for (const n of ['a', 'b']) dirs.push(await mkdtemp(join(tmpdir(), `ncr-cleanup-${n}-`)));
    admin = { accessKey: 'AKCLEAN' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url'), password: 'pw-' + randomBytes(8).toString('hex') };
    const config: DeepPartial<Config> = { auth: { admin, signingKey: { encryptionKey: randomBytes(32).toString('base64url') } } };
    a = await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[0], config, adapters: { clock } });
    b = await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[1], config, adapters: { clock } });
    expect((await api(a, 'POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    await new OciClient(a.url, admin).pushImage('team/app', 'v1', 'mn-1');
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await pg?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a protection policy added on A is enforced on B', async () => {
    expect((await api(a, 'POST', '/api/v1/registries/team/protection-policies', { tagFilter: { pattern: 'v1' } })).status).toBe(201);
    const res = await new OciClient(b.url, admin).req('DELETE', '/v2/team/app/manifests/v1');
    expect(res.status).toBe(412);
  });

  it('each firing of the schedule starts exactly one run across the nodes', async () => {
    expect((await api(a, 'POST', '/api/v1/registries/team/cleanup-policies', { rule: { keep: 'nothing' } })).status).toBe(201);
    const set = await api(b, 'PUT', '/api/v1/registries/team/cleanup/schedule', { cron: '*/30 * * * *' });
    expect(set.status).toBe(200);
    const rounds = async () => {
      for (let i = 0; i < 4; i++) await Promise.all([a.app.jobs.runner.runDue(), b.app.jobs.runner.runDue()]);
    };
    await rounds();
    const scheduled = async () => (await api(a, 'GET', '/api/v1/registries/team/cleanup/executions')).body.items.filter((e: { trigger: string }) => e.trigger === 'schedule');
    expect(await scheduled()).toHaveLength(0);
    clock.advance(Date.parse(set.body.nextAt) - clock.now() + 1000);
    await rounds();
    expect(await scheduled()).toHaveLength(1);
    clock.advance(30 * 60_000);
    await rounds();
    const runs = await scheduled();
    expect(runs).toHaveLength(2);
    expect(runs.map((e: { status: string }) => e.status)).toEqual(['succeeded', 'succeeded']);
    // the protected v1 survived both runs
    expect(runs[0].counts).toMatchObject({ protected: 1, deleted: 0 });
  });
});
