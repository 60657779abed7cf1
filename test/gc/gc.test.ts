/**
 * Online garbage collection over real HTTP on both databases: bytes of deleted images are freed (files gone, the
 * registry's storage goes down), the safe window holds (a ManualClock makes things old), dry runs delete nothing,
 * untagged artifacts go except index children and referrers in use, orphaned files go, uploads in progress stay, one
 * run at a time, a schedule fires, and a run interrupted mid-sweep is completed by its next attempt.
 */
import { mkdtemp, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { apiCaller, createPgDatabase, DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { blobFile, fileExists, pullProblems, pushImage, pushIndex, runGc, storageBytes, untilEnded } from './gc-helpers.js';

const HOUR = 3600_000;

describe.each(DB_KINDS)('garbage collection (%s)', (db) => {
  let s: TestServer;
  let c: OciClient;
  const clock = new ManualClock();

  beforeAll(async () => {
    s = await startServer({ db, adapters: { clock }, config: { gc: { batchSize: 3 } } });
    c = new OciClient(s.url, s.admin);
  });
  afterAll(async () => s?.close());

  /** Moves the clock; registry tokens expire with it, so the client starts afresh. */
  function advance(ms: number) {
    clock.advance(ms);
    c = new OciClient(s.url, s.admin);
  }

  async function registry(name: string) {
    const r = await s.api('POST', '/api/v1/registries', { name });
    expect(r.status).toBe(201);
  }

  it('frees the bytes of deleted images after the safe window, and storage used goes down', async () => {
    await registry('free');
    const shared = `shared-layer-${'s'.repeat(500)}`;
    const gone = await pushImage(c, 'free/app', { config: 'cfg-gone', layers: [shared, `only-gone-${'g'.repeat(4000)}`], tag: 'old' });
    const kept = await pushImage(c, 'free/app', { config: 'cfg-kept', layers: [shared, 'only-kept'], tag: 'new' });
    // the same layer in a second repository keeps it alive there too
    const other = await pushImage(c, 'free/other', { config: 'cfg-other', layers: [`only-gone-${'g'.repeat(4000)}`], tag: 'x' });
    const before = await storageBytes(s, 'free');

    expect((await c.req('DELETE', `/v2/free/app/manifests/${gone.digest}`)).status).toBe(202);
    expect((await c.req('DELETE', `/v2/free/other/manifests/${other.digest}`)).status).toBe(202);

    // within the safe window nothing goes
    const early = await runGc(s);
    expect(early.counts.linksDeleted ?? 0).toBe(0);
    expect(early.counts.blobsDeleted ?? 0).toBe(0);
    for (const d of gone.blobs) expect(await fileExists(blobFile(s, d))).toBe(true);

    advance(3 * HOUR);
    const run = await runGc(s);
    // gone's config and its own layer (linked in both repositories), other's config: three blobs, four links
    expect(run.counts.blobsDeleted).toBe(3);
    expect(run.counts.linksDeleted).toBe(4);
    expect(run.counts.bytesFreed).toBe(Buffer.byteLength('cfg-gone') + Buffer.byteLength('cfg-other') + 4010);
    expect(await fileExists(blobFile(s, gone.blobs[0]!))).toBe(false);
    expect(await fileExists(blobFile(s, gone.blobs[2]!))).toBe(false);
    expect(await fileExists(blobFile(s, sha256(shared)))).toBe(true);
    for (const d of kept.blobs) expect(await fileExists(blobFile(s, d))).toBe(true);
    expect(await storageBytes(s, 'free')).toBeLessThan(before);
    expect(await pullProblems(c, 'free/app', 'new')).toEqual([]);
    // a blob of a deleted image is no longer in its repository
    expect((await c.req('HEAD', `/v2/free/app/blobs/${gone.blobs[0]}`)).status).toBe(404);

    // the history lists the runs, newest first, with their counts
    const history = await s.api('GET', '/api/v1/gc?perPage=2');
    expect(history.status).toBe(200);
    expect(history.body.items[0].id).toBe(run.id);
    expect(history.body.items[0].counts.blobsDeleted).toBe(3);
    expect(history.body.items[1].id).toBe(early.id);
  });

  it('a dry run deletes nothing and reports what it would delete', async () => {
    await registry('dry');
    const img = await pushImage(c, 'dry/app', { config: 'cfg-dry', layers: ['layer-dry-1', 'layer-dry-22'], tag: 'v1' });
    expect((await c.req('DELETE', `/v2/dry/app/manifests/${img.digest}`)).status).toBe(202);
    advance(3 * HOUR);
    const before = await storageBytes(s, 'dry');
    const run = await runGc(s, { dryRun: true });
    expect(run.params.dryRun).toBe(true);
    expect(run.counts.blobsToDelete).toBe(3);
    expect(run.counts.bytesToFree).toBe(Buffer.byteLength('cfg-dry') + 11 + 12);
    expect(run.counts.blobsDeleted ?? 0).toBe(0);
    expect(run.counts.linksDeleted ?? 0).toBe(0);
    for (const d of img.blobs) expect(await fileExists(blobFile(s, d))).toBe(true);
    expect(await storageBytes(s, 'dry')).toBe(before);
    const tasks = await s.api('GET', `/api/v1/gc/runs/${run.id}/tasks?perPage=100`);
    expect(tasks.body.items.map((t: { subject: string }) => t.subject).sort()).toEqual([...img.blobs].sort());
    expect(tasks.body.items.every((t: { message: string }) => t.message === 'would be deleted')).toBe(true);
    // the real run then deletes exactly that
    const real = await runGc(s);
    expect(real.counts.blobsDeleted).toBe(3);
    for (const d of img.blobs) expect(await fileExists(blobFile(s, d))).toBe(false);
  });

  it('deletes untagged artifacts, keeping index children in use and referrers of a present subject', async () => {
    await registry('untag');
    const repo = 'untag/app';
    const tagged = await pushImage(c, repo, { config: 'cfg-tagged', layers: ['l-tagged'], tag: 'release' });
    const loose = await pushImage(c, repo, { config: 'cfg-loose', layers: ['l-loose'] });
    // an untagged index with its children: all three go (the children one pass later)
    const child1 = await pushImage(c, repo, { config: 'cfg-c1', layers: ['l-c1'] });
    const child2 = await pushImage(c, repo, { config: 'cfg-c2', layers: ['l-c2'] });
    const looseIndex = await pushIndex(c, repo, [child1, child2]);
    // a tagged index: its untagged child stays
    const kid = await pushImage(c, repo, { config: 'cfg-kid', layers: ['l-kid'] });
    const index = await pushIndex(c, repo, [kid], 'multi');
    // a signature of the tagged image stays; one of the loose image goes with it
    const subjectOf = (p: { digest: string; body: string }) => ({ subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: p.digest, size: Buffer.byteLength(p.body) }, artifactType: 'application/vnd.example.sig' });
    const sig = await pushImage(c, repo, { config: 'cfg-sig', layers: ['sig-of-tagged'], extra: subjectOf(tagged) });
    const looseSig = await pushImage(c, repo, { config: 'cfg-sig2', layers: ['sig-of-loose'], extra: subjectOf(loose) });
    advance(3 * HOUR);
    // pushed within the window: stays although untagged
    const fresh = await pushImage(c, repo, { config: 'cfg-fresh', layers: ['l-fresh'] });

    const dry = await runGc(s, { dryRun: true, deleteUntagged: true });
    expect(dry.counts.artifactsToDelete).toBe(2); // loose and the loose index (their children and signature: next pass)
    expect(dry.counts.artifactsDeleted ?? 0).toBe(0);

    const run = await runGc(s, { deleteUntagged: true });
    expect(run.counts.artifactsDeleted).toBe(5);
    const status = async (d: string) => (await c.req('HEAD', `/v2/${repo}/manifests/${d}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' } })).status;
    for (const p of [loose, child1, child2, looseIndex, looseSig]) expect(await status(p.digest), p.digest).toBe(404);
    for (const p of [tagged, kid, index, sig, fresh]) expect(await status(p.digest), p.digest).toBe(200);
    // their blobs went in the same run; the kept ones' stayed
    for (const p of [loose, child1, child2, looseSig]) for (const d of p.blobs) expect(await fileExists(blobFile(s, d)), d).toBe(false);
    for (const p of [tagged, kid, sig, fresh]) expect(await pullProblems(c, repo, p.digest)).toEqual([]);
    const tasks = await s.api('GET', `/api/v1/gc/runs/${run.id}/tasks?perPage=100`);
    expect(tasks.body.items.filter((t: { status: string }) => t.status === 'succeeded')).toHaveLength(5);
  });

  it('deletes orphaned blob files past the window, never uploads in progress or fresh files', async () => {
    const orphan = 'orphan bytes from a crashed upload';
    const fresh = 'fresh orphan';
    for (const [content, age] of [[orphan, 3 * HOUR], [fresh, 0]] as const) {
      const path = blobFile(s, sha256(content));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      const t = new Date(clock.now() - age);
      await utimes(path, t, t);
    }
    await registry('upl');
    const start = await c.req('POST', '/v2/upl/app/blobs/uploads/');
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    const part = 'half of a layer';
    const patch = await c.req('PATCH', location, { body: part, headers: { 'content-type': 'application/octet-stream' } });
    expect(patch.status).toBe(202);

    const dry = await runGc(s, { dryRun: true });
    expect(dry.counts.orphansToDelete).toBe(1);
    const run = await runGc(s);
    expect(run.counts.orphansDeleted).toBe(1);
    expect(await fileExists(blobFile(s, sha256(orphan)))).toBe(false);
    expect(await fileExists(blobFile(s, sha256(fresh)))).toBe(true);
    // the upload goes on
    const next = patch.headers.get('location')!;
    const done = await c.req('PUT', `${next}${next.includes('?') ? '&' : '?'}digest=${sha256(part + '!')}`, { body: '!', headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).toBe(201);
  });

  it('runs one at a time; a stop is honoured; the schedule fires once', async () => {
    // enough work (old orphaned files, 3 per batch) that the run is still going when it is asked to stop: it looks
    // for a stop every 200 ms, and an idle machine deletes 600 files in less than that
    const orphans: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const content = `orphan ${i}`;
      const path = blobFile(s, sha256(content));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      const t = new Date(clock.now() - 3 * HOUR);
      await utimes(path, t, t);
      orphans.push(path);
    }
    const first = await s.api('POST', '/api/v1/gc/run', {});
    expect(first.status).toBe(202);
    const second = await s.api('POST', '/api/v1/gc/run', { dryRun: true });
    expect(second.status).toBe(409);
    expect(second.body.errors[0].message).toContain(first.body.id);
    const stopping = await s.api('POST', `/api/v1/gc/runs/${first.body.id}/stop`);
    expect(stopping.status).toBe(200);
    expect(stopping.body.stopRequested).toBe(true);
    const stopped = await untilEnded(s, first.body.id);
    expect(stopped.status).toBe('stopped');
    const left = (await Promise.all(orphans.map(fileExists))).filter(Boolean).length;
    expect(left).toBeGreaterThan(0);
    expect(left).toBe(4000 - (stopped.counts.orphansDeleted ?? 0));
    // the next run finishes the job
    const rest = await runGc(s);
    expect(rest.counts.orphansDeleted).toBe(left);

    expect((await s.api('GET', '/api/v1/gc/schedule')).body).toMatchObject({ cron: null, enabled: false });
    const put = await s.api('PUT', '/api/v1/gc/schedule', { cron: '0 4 * * *', deleteUntagged: true });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ cron: '0 4 * * *', enabled: true, deleteUntagged: true });
    expect((await s.api('PUT', '/api/v1/gc/schedule', { cron: 'every day' })).status).toBe(400);
    const runs = async () => (await s.api('GET', '/api/v1/gc?perPage=100')).body.items as { id: string; trigger: string; params: { deleteUntagged: boolean } }[];
    const before = (await runs()).length;
    advance(24 * HOUR);
    await s.app.jobs.runner.runDue();
    await s.app.jobs.runner.runDue();
    const after = await runs();
    expect(after.length).toBe(before + 1);
    expect(after[0]).toMatchObject({ trigger: 'schedule', params: { deleteUntagged: true } });
    const off = await s.api('PUT', '/api/v1/gc/schedule', { cron: null });
    expect(off.body).toMatchObject({ cron: '0 4 * * *', enabled: false, nextAt: null });
    advance(24 * HOUR);
    await s.app.jobs.runner.runDue();
    expect((await runs()).length).toBe(before + 1);
  });

  it('is for admins only', async () => {
    const u = await s.api('POST', '/api/v1/users', { username: 'gc-member', role: 'member', password: 'member-password-1' });
    expect(u.status).toBe(201);
    const key = await s.api('POST', '/api/v1/users/gc-member/access-keys');
    const member = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
    expect((await s.api('POST', '/api/v1/gc/run', {}, member)).status).toBe(403);
    expect((await s.api('GET', '/api/v1/gc', undefined, member)).status).toBe(403);
    expect((await s.api('GET', '/api/v1/gc/schedule', undefined, member)).status).toBe(403);
  });
});

describe.each(DB_KINDS)('garbage collection resumes after its node died (%s)', (db) => {
  it('a run interrupted mid-sweep is completed by the next attempt', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-gc-resume-'));
    const pgDb = db === 'postgres' ? await createPgDatabase() : undefined;
    const clock = new ManualClock();
    const boot = () => startServer({ db, dataDir, pgUrl: pgDb?.url, adapters: { clock }, config: { gc: { batchSize: 1 } } });
    let s = await boot();
    try {
      const admin = s.admin;
      const c = new OciClient(s.url, admin);
      expect((await s.api('POST', '/api/v1/registries', { name: 'resume' })).status).toBe(201);
      const N = 150;
      const digests: string[] = [];
      for (let i = 0; i < N; i++) digests.push(await c.pushBlob('resume/app', `garbage blob ${i}`));
      clock.advance(3 * HOUR);

      const started = await s.api('POST', '/api/v1/gc/run', {});
      expect(started.status).toBe(202);
      const id = started.body.id as string;
      // the node works the run in the background; it "dies" (closes) once the sweep is under way
      s.app.jobs.runner.wake();
      for (let i = 0; i < 2000; i++) {
        const e = await s.app.executions.get(id);
        if ((e.counts.linksDeleted ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await s.close();
      const left = (await Promise.all(digests.map((d) => fileExists(join(dataDir, 'storage', 'blobs', 'sha256', d.slice(7, 9), d.slice(7)))))).filter(Boolean).length;
      expect(left, 'the run was interrupted before it finished').toBeGreaterThan(0);

      // another node (same database and storage) takes the job over once its lease has run out
      s = await startServer({ db, dataDir, pgUrl: pgDb?.url, adapters: { clock }, config: { gc: { batchSize: 50 }, auth: { admin } } });
      clock.advance(61_000);
      for (let i = 0; i < 3000 && ['queued', 'running'].includes((await s.app.executions.get(id)).status); i++) {
        await s.app.jobs.runner.runDue();
        await new Promise((r) => setTimeout(r, 10));
      }
      const run = await apiCaller(s.url, admin)('GET', `/api/v1/gc/runs/${id}`);
      expect(run.body.status).toBe('succeeded');
      expect(run.body.counts.linksDeleted).toBe(N);
      expect(run.body.counts.blobsDeleted).toBe(N);
      for (const d of digests) expect(await fileExists(join(dataDir, 'storage', 'blobs', 'sha256', d.slice(7, 9), d.slice(7)))).toBe(false);
    } finally {
      await s.close();
      await pgDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
