/**
 * Two ncr nodes on one database, as a cluster runs them: on PostgreSQL each with its own data directory and the same
 * `auth.signingKey.encryptionKey`; on SQLite sharing one data directory and so one database file. What one node does,
 * the other sees: tokens, sessions, deleted keys and changed roles (within the 5 s cache bound), failed-login counts,
 * the job queue, cron firings and durable outbox subscribers; and both survive the database dropping their connections.
 *
 * Blobs live in each node's data directory here (no shared storage), so an image is pushed and pulled through one node;
 * manifests live in the database and can be read through either. For the jobs tests node B is a process of its own
 * (node-process.ts), as two apps cannot share a SQLite file from one thread.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, DeepPartial } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { StoredEvent } from '../../src/domain/events.js';
import type { JobContext } from '../../src/jobs/runner.js';
import { basic, errorCode, OciClient, sha256, type Creds } from '../helpers/oci-client.js';
import { createPgDatabase, DB_KINDS, PG_ADMIN_URL, startServer, type TestServer } from '../helpers/server.js';
import { MT_MANIFEST, pushWith, sleep, tokenFrom, until } from './helpers.js';
import type { NodeMessage, NodeRequest } from './node-process.js';

interface Pair {
  a: TestServer;
  b: TestServer;
  /** the first admin, the same on both nodes (one database) */
  admin: Creds & { password: string };
  /** the shared PostgreSQL database */
  pgUrl: string;
  close(): Promise<void>;
}

/**
 * A fresh PostgreSQL database; node A, then node B on it (B finds the admin A created), each with its own data
 * directory and the same signing-key encryption key.
 */
async function startPair(config: DeepPartial<Config> = {}): Promise<Pair> {
  const pg = await createPgDatabase();
  const dirs = [await mkdtemp(join(tmpdir(), 'ncr-node-a-')), await mkdtemp(join(tmpdir(), 'ncr-node-b-'))];
  const admin = { accessKey: 'AKNODES' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url'), password: 'admin-' + randomBytes(8).toString('hex') };
  const shared: DeepPartial<Config> = { ...config, auth: { ...config.auth, admin, signingKey: { encryptionKey: randomBytes(32).toString('base64url') } } };
  const a = await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[0], config: shared });
  const b = await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[1], config: shared });
  return {
    a,
    b,
    admin,
    pgUrl: pg.url,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await pg.drop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}

async function api(s: TestServer, creds: Creds, method: string, path: string, body?: unknown) {
  return s.api(method, path, body, creds);
}

describe.skipIf(!DB_KINDS.includes('postgres'))('two nodes on one PostgreSQL database: identity', () => {
  let p: Pair;
  beforeAll(async () => {
    p = await startPair();
    expect((await api(p.a, p.admin, 'POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
  });
  afterAll(async () => p?.close());

  it("a token from one node's /service/token is accepted by the other, both ways", async () => {
    const fromA = await tokenFrom(p.a, p.admin, 'repository:team/app:pull,push');
    // push and pull through B (B's blobs are in B's data directory) with A's token
    const pushed = await pushWith(p.b, `Bearer ${fromA}`, 'team/app', '1.0', 'tokens');
    const manifest = await fetch(`${p.b.url}/v2/team/app/manifests/1.0`, { headers: { authorization: `Bearer ${fromA}`, accept: MT_MANIFEST } });
    expect(manifest.status).toBe(200);
    expect(sha256(new Uint8Array(await manifest.arrayBuffer()))).toBe(pushed.digest);
    for (const digest of pushed.blobs) {
      const blob = await fetch(`${p.b.url}/v2/team/app/blobs/${digest}`, { headers: { authorization: `Bearer ${fromA}` } });
      expect(blob.status).toBe(200);
      expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(digest);
    }
    // and B's token on A: the manifest is in the shared database
    const fromB = await tokenFrom(p.b, p.admin, 'repository:team/app:pull');
    const onA = await fetch(`${p.a.url}/v2/team/app/manifests/${pushed.digest}`, { headers: { authorization: `Bearer ${fromB}`, accept: MT_MANIFEST } });
    expect(onA.status).toBe(200);
    expect(sha256(new Uint8Array(await onA.arrayBuffer()))).toBe(pushed.digest);
    const tags = await fetch(`${p.a.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${fromB}` } });
    expect(await tags.json()).toEqual({ name: 'team/app', tags: ['1.0'] });
  });

  it('API Basic logins and console sessions work on both nodes; a session made on one is valid on the other', async () => {
    for (const s of [p.a, p.b]) {
      const me = await api(s, p.admin, 'GET', '/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body.username).toBe('admin');
    }
    for (const [signIn, use] of [
      [p.a, p.b],
      [p.b, p.a],
    ]) {
      const res = await fetch(`${signIn.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: p.admin.password }) });
      expect(res.status).toBe(200);
      const cookie = res.headers.get('set-cookie')!.split(';')[0];
      const session = await fetch(`${use.url}/api/v1/session`, { headers: { cookie } });
      expect(session.status).toBe(200);
      expect(((await session.json()) as { user: { username: string } }).user.username).toBe('admin');
    }
  });

  it('an access key deleted on A stops working on B within 5 s (Basic and the tokens it got)', async () => {
    expect((await api(p.a, p.admin, 'POST', '/api/v1/users', { username: 'dora', role: 'member' })).status).toBe(201);
    const k = await api(p.a, p.admin, 'POST', '/api/v1/users/dora/access-keys');
    expect(k.status).toBe(201);
    const dora = { accessKey: k.body.accessKey as string, secretKey: k.body.secretKey as string };
    // B has verified (and cached) the key and issued a token for it
    const v2 = () => fetch(`${p.b.url}/v2/`, { headers: { authorization: basic(dora) } }).then((r) => r.status);
    expect(await v2()).toBe(200);
    expect((await api(p.b, dora, 'GET', '/api/v1/me')).status).toBe(200);
    const token = await tokenFrom(p.b, dora, 'repository:team/app:pull');
    const pullWithToken = () => fetch(`${p.b.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await pullWithToken()).toBe(200);

    expect((await api(p.a, p.admin, 'DELETE', `/api/v1/users/dora/access-keys/${dora.accessKey}`)).status).toBe(204);
    const basicGone = await until(v2, 401, 6000);
    expect(basicGone.last).toBe(401);
    expect(basicGone.ms).toBeLessThanOrEqual(5000);
    const tokenGone = await until(pullWithToken, 401, 6000);
    expect(tokenGone.last).toBe(401);
    expect(tokenGone.ms).toBeLessThanOrEqual(5000);
    expect((await api(p.b, dora, 'GET', '/api/v1/me')).status).toBe(401);
    expect(await v2()).toBe(401);
    console.log(`multinode: deleted key refused on the other node after ${basicGone.ms} ms (Basic), token after a further ${tokenGone.ms} ms`);
  });

  it('a role changed on A from member to viewer stops pushes via Basic on B within 5 s', async () => {
    expect((await api(p.a, p.admin, 'POST', '/api/v1/users', { username: 'milo', role: 'member' })).status).toBe(201);
    const k = await api(p.a, p.admin, 'POST', '/api/v1/users/milo/access-keys');
    const milo = { accessKey: k.body.accessKey as string, secretKey: k.body.secretKey as string };
    let n = 0;
    const push = async () => {
      const blob = `milo-${n++}-${randomBytes(8).toString('hex')}`;
      const res = await fetch(`${p.b.url}/v2/team/app/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { authorization: basic(milo), 'content-type': 'application/octet-stream' }, body: blob });
      return res.status === 403 ? ((await errorCode(res)) ?? '403') : String(res.status);
    };
    expect(await push()).toBe('201');
    expect((await api(p.a, p.admin, 'PATCH', '/api/v1/users/milo', { role: 'viewer' })).status).toBe(200);
    const denied = await until(push, 'DENIED', 6000);
    expect(denied.last).toBe('DENIED');
    expect(denied.ms).toBeLessThanOrEqual(5000);
    // still allowed to pull: a viewer
    expect((await fetch(`${p.b.url}/v2/team/app/tags/list`, { headers: { authorization: basic(milo) } })).status).toBe(200);
    console.log(`multinode: role change took effect on the other node after ${denied.ms} ms`);
  });

  it('both nodes survive PostgreSQL closing their connections, and a change on one still reaches the other', async () => {
    // what a database restart or failover does to the nodes' pooled and LISTEN connections
    const admin = new pgClient.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(p.pgUrl).pathname.slice(1)]);
      expect(r.rowCount).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.end();
    }
    await sleep(300);
    expect((await api(p.a, p.admin, 'POST', '/api/v1/users', { username: 'rita', role: 'member' })).status).toBe(201);
    const k = await api(p.a, p.admin, 'POST', '/api/v1/users/rita/access-keys');
    const rita = { accessKey: k.body.accessKey as string, secretKey: k.body.secretKey as string };
    const v2 = () => fetch(`${p.b.url}/v2/`, { headers: { authorization: basic(rita) } }).then((r) => r.status);
    expect(await v2()).toBe(200);
    expect((await api(p.a, p.admin, 'DELETE', `/api/v1/users/rita/access-keys/${rita.accessKey}`)).status).toBe(204);
    const gone = await until(v2, 401, 6000);
    expect(gone.last).toBe(401);
    expect(gone.ms).toBeLessThanOrEqual(5000);
    // each node's LISTEN connection (cross-node wake-ups) came back by itself
    const listening = async () => {
      const c = new pgClient.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        const r = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN ncr_events'", [new URL(p.pgUrl).pathname.slice(1)]);
        return r.rows[0]!.n;
      } finally {
        await c.end();
      }
    };
    expect((await until(listening, 2, 10_000)).last).toBe(2);
  });

  it('a durable subscriber registered on both nodes under one name gets every event exactly once', async () => {
    const seen: { node: string; seq: number; digest: string }[] = [];
    const record = (node: string) => (e: StoredEvent) => {
      if (e.event.type === 'ArtifactPushed' && e.event.repository.startsWith('team/outbox')) seen.push({ node, seq: e.seq, digest: e.event.digest });
    };
    p.a.app.outbox.subscribe('multinode-test', record('a'), { types: ['ArtifactPushed'], from: 'beginning' });
    p.b.app.outbox.subscribe('multinode-test', record('b'), { types: ['ArtifactPushed'], from: 'beginning' });
    const clientA = new OciClient(p.a.url, p.admin);
    const clientB = new OciClient(p.b.url, p.admin);
    const pushed: string[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => {
        const r = await (i % 2 ? clientB : clientA).pushImage(`team/outbox${i % 3}`, `v${i}`, `outbox-${i}-${randomBytes(4).toString('hex')}`);
        pushed.push(r.digest);
      }),
    );
    for (let round = 0; round < 3; round++) await Promise.all([p.a.app.outbox.drain(), p.b.app.outbox.drain()]);
    expect(seen.map((s) => s.digest).sort()).toEqual([...pushed].sort());
    expect(new Set(seen.map((s) => s.seq)).size).toBe(seen.length);

    // A goes away (its lease is released): B takes over from the stored cursor, still exactly once
    await p.a.close();
    const more = await clientB.pushImage('team/outbox9', 'after', `outbox-after-${randomBytes(4).toString('hex')}`);
    pushed.push(more.digest);
    for (let round = 0; round < 2; round++) await p.b.app.outbox.drain();
    expect(seen.map((s) => s.digest).sort()).toEqual([...pushed].sort());
    expect(new Set(seen.map((s) => s.seq)).size).toBe(seen.length);
    expect(seen.at(-1)).toMatchObject({ node: 'b', digest: more.digest });
  });
});

describe.skipIf(!DB_KINDS.includes('postgres'))('two nodes on one PostgreSQL database: failed logins', () => {
  let p: Pair;
  beforeAll(async () => {
    p = await startPair({ auth: { login: { failureLimit: 3, failureWindowSeconds: 60 } } });
  });
  afterAll(async () => p?.close());

  it('are counted across nodes: 2 on A and 1 on B, then 429 with Retry-After on either', async () => {
    const wrong = { accessKey: p.admin.accessKey, secretKey: 'not-the-secret' };
    const attempt = (s: TestServer, creds: Creds) => fetch(`${s.url}/v2/`, { headers: { authorization: basic(creds) } });
    for (const s of [p.a, p.a, p.b]) expect((await attempt(s, wrong)).status).toBe(401);
    for (const s of [p.a, p.b]) {
      const limited = await attempt(s, wrong);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await errorCode(limited)).toBe('TOOMANYREQUESTS');
    }
    // the token endpoint and the console sign-in count the same failures
    const token = await fetch(`${p.b.url}/service/token?service=x`, { headers: { authorization: basic(wrong) } });
    expect(token.status).toBe(429);
    expect(token.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});


/** Node B of the jobs tests: an ncr process of its own (node-process.ts), driven over IPC. */
class ChildNode {
  owner = '';
  /** jobs this node ran, in order */
  readonly ran: { kind: string; jobId: string }[] = [];
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private constructor(private readonly child: ChildProcess) {}

  static start(overrides: DeepPartial<Config>, now: number): Promise<ChildNode> {
    const child = fork(join(ROOT, 'test/multinode/node-process.ts'), [JSON.stringify({ overrides, now })], {
      execArgv: ['--import', 'tsx'],
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const node = new ChildNode(child);
    return new Promise((resolve, reject) => {
      child.on('exit', (code) => {
        for (const p of node.pending.values()) p.reject(new Error(`node B exited (${code})`));
        reject(new Error(`node B exited before it was ready (${code})`));
      });
      child.on('message', (m: NodeMessage) => {
        if (m.type === 'ready') {
          node.owner = m.owner;
          resolve(node);
        } else if (m.type === 'ran') {
          node.ran.push({ kind: m.kind, jobId: m.jobId });
        } else {
          const p = node.pending.get(m.id);
          node.pending.delete(m.id);
          if (m.ok) p?.resolve(m.result);
          else p?.reject(new Error(`node B: ${m.error}`));
        }
      });
    });
  }

  call<T = unknown>(req: DistributiveOmit<NodeRequest, 'id'>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, id });
    });
  }

  runDue() {
    return this.call({ op: 'runDue' });
  }

  async close() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call({ op: 'close' }).catch(() => undefined);
    await exited;
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The job queue and cron schedules, shared by two nodes whose clocks the test moves together; node A in this process,
 * node B in its own (node-process.ts). On PostgreSQL (a data directory each) and on one SQLite file (one data directory).
 */
describe.each(DB_KINDS)('two nodes on one %s database: jobs and schedules', (db) => {
  let a: TestServer;
  let b: ChildNode;
  let pgDb: { url: string; drop(): Promise<void> } | undefined;
  const dirs: string[] = [];
  const clock = new ManualClock();
  /** moves both nodes' clocks */
  const setClock = async (t: number) => {
    clock.set(t);
    await b.call({ op: 'clock', t });
  };
  const runBoth = () => Promise.all([a.app.jobs.runner.runDue(), b.runDue()]);

  beforeAll(async () => {
    pgDb = db === 'postgres' ? await createPgDatabase() : undefined;
    dirs.push(await mkdtemp(join(tmpdir(), 'ncr-node-a-')));
    if (db === 'postgres') dirs.push(await mkdtemp(join(tmpdir(), 'ncr-node-b-')));
    const encryptionKey = randomBytes(32).toString('base64url');
    a = await startServer({ db, pgUrl: pgDb?.url, dataDir: dirs[0], config: { auth: { signingKey: { encryptionKey } } }, adapters: { clock } });
    b = await ChildNode.start({ dataDir: dirs.at(-1), database: { url: pgDb?.url }, server: { logLevel: 'silent' }, auth: { signingKey: { encryptionKey } } }, clock.now());
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await pgDb?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('runs every job exactly once when both nodes work the queue', async () => {
    const ranOnA: string[] = [];
    a.app.jobs.runner.register({
      kind: 'multinode.work',
      concurrency: 3,
      async run(_payload: unknown, ctx: JobContext) {
        ranOnA.push(ctx.job.id);
        await sleep(Math.floor(Math.random() * 25));
        return 'a';
      },
    });
    await b.call({ op: 'register', kind: 'multinode.work', result: 'b', concurrency: 3, sleepMs: 25 });
    const jobs = [];
    for (let i = 0; i < 20; i++) jobs.push(await a.app.jobs.queue.enqueue({ kind: 'multinode.work', payload: { i } }));
    for (let round = 0; round < 3; round++) await runBoth();

    const ranOnB = b.ran.filter((r) => r.kind === 'multinode.work').map((r) => r.jobId);
    const all = [...ranOnA, ...ranOnB];
    expect(all).toHaveLength(20);
    expect(new Set(all)).toEqual(new Set(jobs.map((j) => j.id)));
    for (const j of jobs) {
      const done = await a.app.jobs.queue.get(j.id);
      expect(done.status).toBe('succeeded');
      expect(done.attempts).toBe(1);
      expect(done.result).toBe(ranOnA.includes(j.id) ? 'a' : 'b');
    }
    console.log(`multinode (${db}): 20 jobs, ${ranOnA.length} ran on A, ${ranOnB.length} on B`);
  });

  it('fires a cron schedule once across nodes per firing', async () => {
    const ranOnA: string[] = [];
    a.app.jobs.runner.register({ kind: 'multinode.cron', run: async (_p: unknown, ctx: JobContext) => void ranOnA.push(ctx.job.id) });
    await b.call({ op: 'register', kind: 'multinode.cron', result: null });
    const runs = () => [...ranOnA, ...b.ran.filter((r) => r.kind === 'multinode.cron').map((r) => r.jobId)];
    const schedule = await a.app.jobs.queue.schedule({ name: 'multinode-every-5', cron: '*/5 * * * *', kind: 'multinode.cron' });
    const rounds = async () => {
      for (let round = 0; round < 3; round++) await Promise.all([a.app.jobs.runner.runDue(), b.runDue(), a.app.jobs.runner.runDue(), b.runDue()]);
    };
    await rounds();
    expect(runs()).toHaveLength(0);
    await setClock(schedule.nextAt + 1000);
    await rounds();
    expect(runs()).toHaveLength(1);
    await setClock(clock.now() + 5 * 60_000);
    await rounds();
    expect(runs()).toHaveLength(2);
    expect(new Set(runs()).size).toBe(2);
    const after = await a.app.jobs.queue.getSchedule('multinode-every-5');
    expect(after?.nextAt).toBe(schedule.nextAt + 10 * 60_000);
  });

  it('a job whose node stopped renewing its lease is run by the other node once the lease lapses', async () => {
    // A claims the job and hangs in it (a node frozen, or gone before it could finish): it never renews in time
    let startedOnA: (id: string) => void = () => undefined;
    const claimedByA = new Promise<string>((r) => (startedOnA = r));
    a.app.jobs.runner.register({
      kind: 'multinode.reclaim',
      // one at a time on A: A does not claim the lapsed job back for itself
      concurrency: 1,
      leaseMs: 30_000,
      run: (_payload: unknown, ctx: JobContext) =>
        new Promise((resolve) => {
          startedOnA(ctx.job.id);
          ctx.signal.addEventListener('abort', () => resolve('aborted on A'));
        }),
    });
    const job = await a.app.jobs.queue.enqueue({ kind: 'multinode.reclaim' });
    expect(await Promise.race([claimedByA, sleep(10_000).then(() => 'not claimed')])).toBe(job.id);
    expect(await a.app.jobs.queue.get(job.id)).toMatchObject({ status: 'running', lockedBy: a.app.jobs.runner.owner, attempts: 1 });

    await b.call({ op: 'register', kind: 'multinode.reclaim', result: 'done on B' });
    await b.runDue();
    expect(b.ran.filter((r) => r.kind === 'multinode.reclaim')).toEqual([]);
    await setClock(clock.now() + 30_001);
    await b.runDue();
    expect(b.ran.filter((r) => r.kind === 'multinode.reclaim').map((r) => r.jobId)).toEqual([job.id]);
    expect(await a.app.jobs.queue.get(job.id)).toMatchObject({ status: 'succeeded', lockedBy: b.owner, attempts: 2, result: 'done on B' });

    // A stops: its hung run is aborted and must not overwrite B's outcome
    await a.close();
    expect(await b.call({ op: 'job', jobId: job.id })).toMatchObject({ status: 'succeeded', result: 'done on B' });
    expect(b.ran.filter((r) => r.kind === 'multinode.reclaim')).toHaveLength(1);
  });
});
