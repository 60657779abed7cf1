/**
 * Image cleanup end to end, on each database: images pushed by skopeo and over HTTP at known times (a ManualClock
 * makes them old), a test run that lists exactly the expected verdicts and deletes nothing, a run that deletes exactly
 * those (with a signature of a deleted image), protection reported PROTECTED, the history and the schedule.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { StoredEvent } from '../../src/domain/events.js';
import { haveTool, skopeo, skopeoResult } from '../helpers/clients.js';
import { OciClient } from '../helpers/oci-client.js';
import { buildImage } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5, 12, 0, 0);

describe.each(DB_KINDS)('image cleanup (%s)', { timeout: 120_000 }, (db) => {
  let s: TestServer;
  let work: string;
  const clock = new ManualClock(START);
  const digests: Record<string, string> = {};
  const finished: StoredEvent[] = [];
  const client = () => new OciClient(s.url, s.admin); // a fresh client: tokens from before a clock jump have expired
  const credStr = () => `${s.admin.accessKey}:${s.admin.secretKey}`;
  const skopeoPush = async (tag: string, seed: string) => {
    const img = await buildImage({ dir: join(work, seed), tag, layers: 1, layerSize: 2048, seed: `${seed}-${db}` });
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(), img.ref, `docker://${s.host}/ci/app:${tag}`]);
    return img.manifestDigest;
  };
  const api = (m: string, p: string, b?: unknown) => s.api(m, `/api/v1/registries/ci${p}`, b);
  const runCleanup = async (path: 'test-run' | 'run') => {
    const started = await api('POST', `/cleanup/${path}`);
    expect(started.status).toBe(202);
    await s.app.jobs.runner.runDue();
    await s.app.flush();
    const e = await s.api('GET', `/api/v1/executions/${started.body.id}`);
    expect(e.body.status, JSON.stringify(e.body)).toBe('succeeded');
    const tasks = await s.api('GET', `/api/v1/executions/${started.body.id}/tasks?perPage=100`);
    return { execution: e.body, tasks: tasks.body.items as { subject: string; status: string; detail: { verdict: string; tags: string[]; policy: string | null } }[] };
  };
  const verdicts = (tasks: { detail: { verdict: string; tags: string[] }; subject: string }[]) =>
    Object.fromEntries(tasks.map((t) => [t.detail.tags.join(',') || t.subject.split('@')[1], t.detail.verdict]));

  beforeAll(async () => {
    expect(haveTool('skopeo'), 'skopeo is installed by the test command').toBe(true);
    work = await mkdtemp(join(tmpdir(), 'ncr-cleanup-'));
    s = await startServer({ db, adapters: { clock } });
    expect((await s.api('POST', '/api/v1/registries', { name: 'ci' })).status).toBe(201);
    s.app.outbox.subscribe('test.cleanup', (e) => void finished.push(e), { types: ['CleanupRunFinished'] });
    // day 0
    digests.release = await skopeoPush('release-1', 'rel');
    digests.ci1 = (await client().pushImage('ci/app', 'ci-1', `ci1-${db}`)).digest;
    await client().pushImage('ci/base', 'old', `base-${db}`);
    // day 10
    clock.advance(10 * DAY);
    digests.ci2 = await skopeoPush('ci-2', 'ci2');
    const ci3 = await client().pushImage('ci/app', 'ci-3', `ci3-${db}`);
    digests.ci3 = ci3.digest;
    const untagged = await client().pushImage('ci/app', 'tmp', `untagged-${db}`);
    digests.untagged = untagged.digest;
    expect((await client().req('DELETE', '/v2/ci/app/manifests/tmp')).status).toBe(202);
    // a signature-like referrer of ci-3: goes with it
    const sig = await client().pushImage('ci/app', 'sig-tmp', `sig-${db}`, { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: ci3.digest, size: Buffer.byteLength(ci3.body) } });
    expect((await client().req('DELETE', '/v2/ci/app/manifests/sig-tmp')).status).toBe(202);
    digests.sig = sig.digest;
    // day 20: ci-4 pushed; ci-1 pulled by digest
    clock.advance(10 * DAY);
    digests.ci4 = (await client().pushImage('ci/app', 'ci-4', `ci4-${db}`)).digest;
    expect((await client().req('GET', `/v2/ci/app/manifests/${digests.ci1}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    await s.app.flush();
    clock.advance(5 * DAY); // now: day 25

    const p1 = await api('POST', '/cleanup-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'ci-*' }, rule: { keep: 'pulledWithinDays', n: 7 } });
    expect(p1.status, JSON.stringify(p1.body)).toBe(201);
    const p2 = await api('POST', '/cleanup-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'release-.*', syntax: 'regex' }, rule: { keep: 'nothing' } });
    expect(p2.status).toBe(201);
    expect((await api('POST', '/protection-policies', { tagFilter: { pattern: 'release-*' } })).status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('a test run lists exactly the expected verdicts and deletes nothing', async () => {
    const { execution, tasks } = await runCleanup('test-run');
    expect(execution.params).toEqual({ dryRun: true });
    expect(verdicts(tasks)).toEqual({ 'release-1': 'PROTECTED', 'ci-1': 'KEEP', 'ci-2': 'DELETE', 'ci-3': 'DELETE', 'ci-4': 'KEEP', [digests.untagged!]: 'KEEP' });
    expect(tasks.find((t) => t.detail.tags.includes('release-1'))!.detail.policy).toMatch(/^protection policy/);
    expect(tasks.find((t) => t.detail.tags.includes('ci-2'))!.detail.policy).toMatch(/^cleanup policy .*keep those pulled in the last 7 day/);
    expect(execution.counts).toMatchObject({ artifacts: 6, kept: 3, protected: 1, wouldDelete: 2, deleted: 0 });
    for (const d of Object.values(digests)) expect((await client().req('HEAD', `/v2/ci/app/manifests/${d}`)).status, d).toBe(200);
  });

  it('run now deletes exactly those, with the referrer of a deleted image, and says so in the history', async () => {
    clock.advance(60_000);
    const { execution, tasks } = await runCleanup('run');
    expect(execution.counts).toMatchObject({ deleted: 2, protected: 1, kept: 3, failed: 0 });
    const byTag = (t: string) => tasks.find((x) => x.detail.tags.includes(t))!;
    expect(byTag('ci-2').status).toBe('succeeded');
    expect(byTag('ci-3').status).toBe('succeeded');
    expect(byTag('release-1').status).toBe('skipped');
    const c = client();
    for (const gone of [digests.ci2, digests.ci3, digests.sig]) expect((await c.req('HEAD', `/v2/ci/app/manifests/${gone}`)).status, gone).toBe(404);
    for (const kept of [digests.release, digests.ci1, digests.ci4, digests.untagged]) expect((await c.req('HEAD', `/v2/ci/app/manifests/${kept}`)).status, kept).toBe(200);
    expect((await c.req('HEAD', '/v2/ci/base/manifests/old')).status).toBe(200);
    const history = await api('GET', '/cleanup/executions');
    expect(history.body.items.map((e: { dryRun: boolean; status: string }) => [e.dryRun, e.status])).toEqual([
      [false, 'succeeded'],
      [true, 'succeeded'],
    ]);
    expect(finished.map((e) => e.event).map((e) => ('dryRun' in e ? e.dryRun : null))).toEqual([true, false]);
    const audit = await s.api('GET', '/api/v1/audit?actor=cleanup&action=ArtifactDeleted&perPage=50');
    expect(audit.body.items.map((e: { target: string }) => e.target.split('@')[1]).sort()).toEqual([digests.ci2, digests.ci3, digests.sig].sort());
  });

  it('the protected tag survives and a push over it is refused with 412, by skopeo too', async () => {
    const img = await buildImage({ dir: join(work, 'over'), tag: 'x', layers: 1, layerSize: 1024, seed: `over-${db}` });
    const r = await skopeoResult(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(), img.ref, `docker://${s.host}/ci/app:release-1`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/412|protected/i);
    const res = await client().pushManifest('ci/app', 'release-1', (await client().pushImage('ci/app', 'other', `o-${db}`)).body);
    expect(res.status).toBe(412);
  });

  it('a cron schedule fires once per matching minute and starts a run as the schedule', async () => {
    const set = await api('PUT', '/cleanup/schedule', { cron: '0 3 * * *' });
    expect(set.status).toBe(200);
    expect(set.body.cron).toBe('0 3 * * *');
    const next = Date.parse(set.body.nextAt);
    expect(new Date(next).getUTCHours()).toBe(3);
    expect((await api('PUT', '/cleanup/schedule', { cron: '61 * * * *' })).status).toBe(400);
    clock.advance(next - clock.now() + 1000);
    await s.app.jobs.runner.runDue();
    await s.app.jobs.runner.runDue();
    await s.app.jobs.runner.runDue();
    const history = await api('GET', '/cleanup/executions');
    const scheduled = history.body.items.filter((e: { trigger: string }) => e.trigger === 'schedule');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0].status).toBe('succeeded');
    expect((await api('PUT', '/cleanup/schedule', { cron: null })).body.cron).toBeNull();
    expect((await api('GET', '/cleanup/schedule')).body.cron).toBeNull();
  });

  it('one real run at a time; a run whose job died is ended as failed, so a new one can start', async () => {
    // a run whose job no node works yet (this node's runner would finish a real one before the next request)
    const stuck = await s.app.executions.start({ kind: 'cleanup', jobKind: 'cleanup.test-unworked', trigger: 'manual', subject: 'ci', params: { dryRun: false }, actor: { userId: null, username: 'admin' } });
    const first = { body: { id: stuck.id } };
    const second = await api('POST', '/cleanup/run');
    expect(second.status).toBe(409);
    expect(second.body.errors[0].message).toContain(first.body.id);
    // the job goes away without running (as when its node dies and it is given up): the run is not left hanging
    const e = await s.app.executions.get(first.body.id);
    await s.app.jobs.queue.cancel(e.jobId!);
    const third = await api('POST', '/cleanup/run');
    expect(third.status).toBe(202);
    const ended = await s.api('GET', `/api/v1/executions/${first.body.id}`);
    expect(ended.body.status).toBe('failed');
    expect(ended.body.message).toMatch(/its job ended \(cancelled\) before the run finished/);
    await s.app.jobs.runner.runDue();
    expect((await s.api('GET', `/api/v1/executions/${third.body.id}`)).body.status).toBe('succeeded');
  });

  it('a policy can be disabled and enabled; a duplicate or a sixteenth is refused', async () => {
    const list = await api('GET', '/cleanup-policies');
    expect(list.body.items).toHaveLength(2);
    const id = list.body.items[0].id;
    expect((await api('PATCH', `/cleanup-policies/${id}`, { enabled: false })).body.enabled).toBe(false);
    expect((await api('PATCH', `/cleanup-policies/${id}`, { enabled: true })).body.enabled).toBe(true);
    const dup = await api('POST', '/cleanup-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'ci-*' }, rule: { keep: 'pulledWithinDays', n: 7 } });
    expect(dup.status).toBe(409);
    // the same filters with another rule is another policy
    expect((await api('POST', '/cleanup-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'ci-*' }, rule: { keep: 'latestPushed', n: 7 } })).status).toBe(201);
    const noN = await api('POST', '/cleanup-policies', { rule: { keep: 'latestPushed' } });
    expect(noN.status).toBe(400);
    expect(noN.body.errors[0].message).toContain('rule.n');
  });
});
