/**
 * The foundation as a user of the running registry sees it: what a push, a retag, a re-push, a pull and a delete
 * publish (outbox and audit log, in the change's transaction), executions through the API, check-then-act under
 * concurrency, the upload purge on its schedule, and an admin's password reset ending the user's sessions.
 */
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { StoredEvent } from '../../src/domain/events.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { OciClient } from '../helpers/oci-client.js';

describe.each(DB_KINDS)('foundation: events, executions, jobs (%s)', (db) => {
  let s: TestServer;
  let c: OciClient;
  // starts at the real time: upload ages come from the file system's clock
  const clock = new ManualClock();
  const got: StoredEvent[] = [];
  const types = () => got.map((e) => e.event.type);

  beforeAll(async () => {
    s = await startServer({ db, adapters: { clock } });
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    s.app.outbox.subscribe('test.recorder', (e) => void got.push(e));
    await s.app.flush();
  });
  afterAll(async () => s?.close());

  it('a push, a re-push, a retag, a pull and a delete publish exactly what changed, with the previous digest of a moved tag', async () => {
    got.length = 0;
    const one = await c.pushImage('team/app', '1.0', 'one');
    await s.app.flush();
    expect(types()).toEqual(['ArtifactPushed', 'TagCreated']);
    expect(got[0].event).toMatchObject({ repository: 'team/app', digest: one.digest, tag: '1.0', actor: { username: 'admin' } });

    // the same bytes under the same tag again: nothing changed, nothing is recorded
    expect((await c.pushManifest('team/app', '1.0', one.body)).status).toBe(201);
    await s.app.flush();
    expect(types()).toEqual(['ArtifactPushed', 'TagCreated']);

    // the tag moves to another manifest
    got.length = 0;
    const two = await c.pushImage('team/app', '1.0', 'two');
    await s.app.flush();
    expect(types()).toEqual(['ArtifactPushed', 'TagMoved']);
    expect(got[1].event).toMatchObject({ type: 'TagMoved', tag: '1.0', digest: two.digest, previousDigest: one.digest });

    got.length = 0;
    expect((await c.req('GET', `/v2/team/app/manifests/${one.digest}`)).status).toBe(200);
    await s.app.flush();
    expect(got.map((e) => e.event)).toEqual([expect.objectContaining({ type: 'ArtifactPulled', repository: 'team/app', digest: one.digest })]);
    expect('tag' in got[0].event && got[0].event.tag).toBeFalsy(); // pulled by digest

    got.length = 0;
    expect((await c.req('DELETE', `/v2/team/app/manifests/${two.digest}`)).status).toBe(202);
    await s.app.flush();
    expect(types()).toEqual(['TagDeleted', 'ArtifactDeleted']);
    expect(got.map((e) => e.seq)).toEqual([...got.map((e) => e.seq)].sort((a, b) => a - b));

    // the audit log was written in the same transactions: readable at once, no pulls in it
    const audit = await s.api('GET', '/api/v1/audit?perPage=10');
    expect(audit.status).toBe(200);
    const actions = (audit.body.items as { action: string; target: string }[]).map((a) => `${a.action} ${a.target}`);
    expect(actions.slice(0, 6)).toEqual([
      `ArtifactDeleted team/app@${two.digest}`,
      'TagDeleted team/app:1.0',
      'TagMoved team/app:1.0',
      `ArtifactPushed team/app@${two.digest}`,
      'TagCreated team/app:1.0',
      `ArtifactPushed team/app@${one.digest}`,
    ]);
  });

  it('a refused write records no event and no audit entry', async () => {
    got.length = 0;
    const before = (await s.api('GET', '/api/v1/audit?perPage=1')).body.total as number;
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 1 }, layers: [] };
    expect((await c.pushManifest('team/app', 'broken', manifest)).status).toBe(400);
    expect((await s.api('DELETE', '/api/v1/registries/team')).status).toBe(409);
    await s.app.flush();
    expect(got).toEqual([]);
    expect((await s.api('GET', '/api/v1/audit?perPage=1')).body.total).toBe(before);
  });

  it('executions: a job reports its run and tasks; the API lists, shows and stops them', async () => {
    s.app.jobs.runner.register({
      kind: 'test-demo',
      run: async (p: { executionId: string; items: string[] }) => {
        const run = await s.app.executions.run(p.executionId);
        await run.begin();
        const ids = await run.addTasks(p.items.map((subject) => ({ subject })));
        for (const [i, id] of ids.entries()) {
          await run.task(id, { status: i === 1 ? 'failed' : 'succeeded', message: i === 1 ? 'could not' : undefined, detail: { n: i }, log: [`handled ${p.items[i]}`] });
          await run.count({ examined: 1, failed: i === 1 ? 1 : 0 });
        }
        await run.end('succeeded', 'done');
      },
    });
    const e = await s.app.executions.start({ kind: 'demo', jobKind: 'test-demo', trigger: 'manual', subject: 'team', params: { dryRun: true }, payload: { items: ['a', 'b', 'c'] }, actor: { userId: null, username: 'admin' } });
    await s.app.jobs.runner.runDue();
    const done = await s.api('GET', `/api/v1/executions/${e.id}`);
    expect(done.body).toMatchObject({ kind: 'demo', trigger: 'manual', status: 'succeeded', subject: 'team', params: { dryRun: true }, counts: { examined: 3, failed: 1 }, message: 'done', createdBy: 'admin' });
    const tasks = await s.api('GET', `/api/v1/executions/${e.id}/tasks`);
    expect(tasks.body.items.map((t: { subject: string; status: string; log: string[] }) => [t.subject, t.status, t.log])).toEqual([
      ['a', 'succeeded', ['handled a']],
      ['b', 'failed', ['handled b']],
      ['c', 'succeeded', ['handled c']],
    ]);
    const failedOnly = await s.api('GET', `/api/v1/executions/${e.id}/tasks?status=failed`);
    expect(failedOnly.body.total).toBe(1);
    const list = await s.api('GET', '/api/v1/executions?kind=demo&subject=team');
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(e.id);
    expect((await s.api('POST', `/api/v1/executions/${e.id}/stop`)).status).toBe(409);

    const waiting = await s.app.executions.start({ kind: 'demo', jobKind: 'test-unworked', trigger: 'schedule', subject: 'team', actor: { userId: null, username: null } });
    const stopped = await s.api('POST', `/api/v1/executions/${waiting.id}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: 'stopped', stopRequested: true });
    const job = await s.api('GET', `/api/v1/jobs/${waiting.jobId}`);
    expect(job.body.status).toBe('cancelled');
    expect((await s.api('GET', '/api/v1/executions/no-such-id')).status).toBe(404);
    // bad paging or filters are refused with what to fix, not a 500
    const huge = await s.api('GET', '/api/v1/executions?page=461168601842738784');
    expect([huge.status, huge.body.errors[0].code]).toEqual([400, 'VALIDATION_FAILED']);
    const badStatus = await s.api('GET', `/api/v1/executions/${e.id}/tasks?status=done`);
    expect([badStatus.status, badStatus.body.errors[0].code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(badStatus.body.errors[0].message).toMatch(/status/);
  });

  it('the hourly upload purge runs from its schedule and discards only abandoned uploads', async () => {
    const schedules = await s.api('GET', '/api/v1/schedules');
    const purge = (schedules.body.items as { name: string; nextAt: string; cron: string }[]).find((x) => x.name === 'system:upload-purge')!;
    expect(purge.cron).toBe('17 * * * *');
    const old = await c.req('POST', '/v2/team/app/blobs/uploads/');
    expect(old.status).toBe(202);
    // its last write was two days ago (upload ages are the storage's own times)
    const oldId = old.headers.get('location')!.split('/').pop()!;
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(join(s.dataDir, 'storage', 'uploads', oldId), twoDaysAgo, twoDaysAgo);
    const fresh = await c.req('POST', '/v2/team/app/blobs/uploads/');
    expect(fresh.status).toBe(202);
    // nothing runs before the schedule is due; then the purge runs once
    await s.app.jobs.runner.runDue();
    expect((await c.req('GET', old.headers.get('location')!)).status).toBe(204);
    clock.set(Date.parse(purge.nextAt));
    c = new OciClient(s.url, s.admin); // tokens issued before the clock moved may have expired
    await s.app.jobs.runner.runDue();
    const jobs = await s.api('GET', '/api/v1/jobs?kind=upload-purge&status=succeeded');
    expect(jobs.body.items[0].result.purged).toBeGreaterThanOrEqual(1);
    expect((await c.req('GET', old.headers.get('location')!)).status).toBe(404);
    expect((await c.req('GET', fresh.headers.get('location')!)).status).toBe(204);
  });

  it('check-then-act holds under concurrency: at most 5 keys, and the last admin stays', async () => {
    expect((await s.api('POST', '/api/v1/users', { username: 'kim', role: 'member', password: 'kim-password-1' })).status).toBe(201);
    const creates = await Promise.all(Array.from({ length: 8 }, () => s.api('POST', '/api/v1/users/kim/access-keys')));
    expect(creates.filter((r) => r.status === 201).length).toBe(5);
    expect(creates.filter((r) => r.status === 409).every((r) => r.body.errors[0].code === 'LIMIT_EXCEEDED')).toBe(true);

    // two admins demote each other at once: one wins; the other is refused (409 last admin, or 403 when its caller
    // was demoted first); exactly one admin is left either way
    expect((await s.api('POST', '/api/v1/users', { username: 'ada', role: 'admin', password: 'ada-password-1' })).status).toBe(201);
    const adaKey = await s.api('POST', '/api/v1/users/ada/access-keys');
    const ada = { accessKey: adaKey.body.accessKey, secretKey: adaKey.body.secretKey };
    const demotions = await Promise.all([s.api('PATCH', '/api/v1/users/ada', { role: 'member' }), s.api('PATCH', '/api/v1/users/admin', { role: 'member' }, ada)]);
    const statuses = demotions.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const admins = (await s.api('GET', '/api/v1/users?perPage=100', undefined, demotions[0].status === 200 ? undefined : ada)).body.items.filter((u: { role: string }) => u.role === 'admin');
    expect(admins.length).toBe(1);
    // put things back for the next tests
    if (admins[0].username === 'ada') expect((await s.api('PATCH', '/api/v1/users/admin', { role: 'admin' }, ada)).status).toBe(200);
  });

  it("an admin's password reset ends the user's console sessions; changing your own keeps yours", async () => {
    expect((await s.api('POST', '/api/v1/users', { username: 'sue', role: 'viewer', password: 'sue-password-1' })).status).toBe(201);
    const signIn = async (password: string) => {
      const res = await fetch(`${s.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sue', password }) });
      expect(res.status).toBe(200);
      return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    };
    const me = (sess: { cookie: string }) => fetch(`${s.url}/api/v1/users/me`, { headers: { cookie: sess.cookie } }).then((r) => r.status);
    const own = await signIn('sue-password-1');
    const changed = await fetch(`${s.url}/api/v1/users/me`, { method: 'PATCH', headers: { cookie: own.cookie, 'x-csrf-token': own.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sue-password-2' }) });
    expect(changed.status).toBe(200);
    expect(await me(own)).toBe(200);
    expect((await s.api('PATCH', '/api/v1/users/sue', { password: 'sue-password-3' })).status).toBe(200);
    expect(await me(own)).toBe(401);
  });
});
