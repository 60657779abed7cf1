/** The job-queue contract: claiming, retries, singletons, cancel, leases, cron schedules firing once. */
import { expect, it } from 'vitest';
import { nextCronTime, parseCron } from '../../src/domain/queue/cron.js';
import type { JobHandler } from '../../src/jobs/runner.js';
import { perTest, type Harness, type Node } from './foundation-harness.js';

export function jobsContract(open: () => Promise<Harness>) {
  const harness = perTest(open);
  const withHarness = harness.each;
  // the harness of the running test
  const h = new Proxy({} as Harness, { get: (_t, k) => Reflect.get(harness.h(), k) });
  const recorder = (node: Node, kind: string, runs: string[], extra: Partial<JobHandler> = {}) =>
    node.runner.register({ kind, run: async (p: { n?: number } | null) => void runs.push(`${kind}:${p?.n ?? ''}`), ...extra });

  it('runs due jobs by priority, not before runAt, and records the result', withHarness(async () => {
    const a = await h.node();
    const runs: string[] = [];
    recorder(a, 'k', runs);
    await a.queue.enqueue({ kind: 'k', payload: { n: 1 } });
    await a.queue.enqueue({ kind: 'k', payload: { n: 2 }, priority: 5 });
    const later = await a.queue.enqueue({ kind: 'k', payload: { n: 3 }, runAt: h.clock.now() + 60_000 });
    await a.runner.runDue();
    expect(runs).toEqual(['k:2', 'k:1']);
    expect((await a.queue.get(later.id)).status).toBe('queued');
    h.clock.advance(60_000);
    await a.runner.runDue();
    expect(runs).toEqual(['k:2', 'k:1', 'k:3']);
    const done = await a.queue.get(later.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(1);
    expect(done.finishedAt).toBe(h.clock.now());
  }));

  it('retries a failing job with exponential backoff, then fails it for good', withHarness(async () => {
    const a = await h.node();
    let calls = 0;
    a.runner.register({ kind: 'flaky', run: async () => { calls++; throw new Error(`attempt ${calls} failed`); } });
    const job = await a.queue.enqueue({ kind: 'flaky', maxAttempts: 3, backoffMs: 1000 });
    await a.runner.runDue();
    expect(calls).toBe(1);
    let j = await a.queue.get(job.id);
    expect([j.status, j.runAt - h.clock.now(), j.lastError]).toEqual(['queued', 1000, 'attempt 1 failed']);
    h.clock.advance(1000);
    await a.runner.runDue();
    j = await a.queue.get(job.id);
    expect([j.status, j.runAt - h.clock.now()]).toEqual(['queued', 2000]);
    h.clock.advance(1999);
    await a.runner.runDue();
    expect(calls).toBe(2);
    h.clock.advance(1);
    await a.runner.runDue();
    j = await a.queue.get(job.id);
    expect([calls, j.status, j.attempts, j.lastError]).toEqual([3, 'failed', 3, 'attempt 3 failed']);
  }));

  it('a singleton key gives back the queued or running job instead of a second one', withHarness(async () => {
    const a = await h.node();
    const one = await a.queue.enqueue({ kind: 's', singletonKey: 'only' });
    const two = await a.queue.enqueue({ kind: 's', singletonKey: 'only' });
    expect(two.id).toBe(one.id);
    const runs: string[] = [];
    recorder(a, 's', runs);
    await a.runner.runDue();
    const three = await a.queue.enqueue({ kind: 's', singletonKey: 'only' });
    expect(three.id).not.toBe(one.id);
    expect(runs).toEqual(['s:']);
  }));

  it('cancels a queued job at once and asks a running one to stop', withHarness(async () => {
    const a = await h.node();
    const queued = await a.queue.enqueue({ kind: 'c', runAt: h.clock.now() + 1000 });
    expect((await a.queue.cancel(queued.id)).status).toBe('cancelled');
    let started!: () => void;
    const isRunning = new Promise<void>((r) => (started = r));
    a.runner.register({
      kind: 'long',
      leaseMs: 150,
      run: (_p, ctx) =>
        new Promise((resolve) => {
          started();
          ctx.signal.addEventListener('abort', () => resolve('stopped early'));
        }),
    });
    const long = await a.queue.enqueue({ kind: 'long' });
    const running = a.runner.runDue();
    await isRunning;
    await a.queue.cancel(long.id);
    await running; // the heartbeat sees the request and aborts the handler
    const j = await a.queue.get(long.id);
    expect(j.status).toBe('cancelled');
    h.clock.advance(2000);
    await a.runner.runDue();
    expect((await a.queue.get(queued.id)).status).toBe('cancelled');
  }));

  it('a job whose node died is claimed again once its lease runs out; progress is recorded', withHarness(async () => {
    const a = await h.node();
    const b = await h.node();
    const job = await a.queue.enqueue({ kind: 'orphan', maxAttempts: 3 });
    // node a claims it and dies: nothing extends the lease
    const claimed = await a.jobs.claim(['orphan'], 'dead-node', h.clock.now(), h.clock.now() + 60_000, 5);
    expect(claimed.map((c) => c.id)).toEqual([job.id]);
    const runs: string[] = [];
    b.runner.register({ kind: 'orphan', run: async (_p, ctx) => { await ctx.progress({ done: 1, of: 1 }); runs.push('b'); } });
    await b.runner.runDue();
    expect(runs).toEqual([]);
    h.clock.advance(60_001);
    await b.runner.runDue();
    expect(runs).toEqual(['b']);
    const j = await b.queue.get(job.id);
    expect([j.status, j.attempts, j.progress]).toEqual(['succeeded', 2, { done: 1, of: 1 }]);
  }));

  it('a job whose runs keep dying is given up after maxAttempts, not run forever', withHarness(async () => {
    const a = await h.node();
    const job = await a.queue.enqueue({ kind: 'doomed', maxAttempts: 2 });
    for (let i = 0; i < 2; i++) {
      expect((await a.jobs.claim(['doomed'], `dying-node-${i}`, h.clock.now(), h.clock.now() + 1000, 1)).length).toBe(1);
      h.clock.advance(1001);
    }
    const runs: string[] = [];
    recorder(a, 'doomed', runs);
    await a.runner.runDue();
    expect(runs).toEqual([]);
    const j = await a.queue.get(job.id);
    expect([j.status, j.attempts]).toEqual(['failed', 3]);
    expect(j.lastError).toMatch(/gave up after 2 attempt\(s\)/);
  }));

  it('two nodes share the queue: every job runs exactly once', withHarness(async () => {
    const a = await h.node();
    const b = await h.node();
    const runs: string[] = [];
    for (const [n, name] of [[a, 'a'], [b, 'b']] as const) n.runner.register({ kind: 'shared', concurrency: 3, run: async (p: { n: number }) => void runs.push(`${p.n}@${name}`) });
    for (let i = 0; i < 30; i++) await a.queue.enqueue({ kind: 'shared', payload: { n: i } });
    await Promise.all([a.runner.runDue(), b.runner.runDue(), a.runner.runDue(), b.runner.runDue()]);
    const ns = runs.map((r) => Number(r.split('@')[0])).sort((x, y) => x - y);
    expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => i));
  }));

  it('a cron schedule fires once per firing across nodes, and not while disabled', withHarness(async () => {
    const a = await h.node();
    const b = await h.node();
    const runs: string[] = [];
    recorder(a, 'tick', runs);
    recorder(b, 'tick', runs);
    const s = await a.queue.schedule({ name: 'test:tick', cron: '*/5 * * * *', kind: 'tick' });
    expect(s.nextAt).toBe(nextCronTime('*/5 * * * *', h.clock.now()));
    await Promise.all([a.runner.runDue(), b.runner.runDue()]);
    expect(runs).toEqual([]);
    h.clock.set(s.nextAt);
    await Promise.all([a.runner.runDue(), b.runner.runDue(), a.runner.runDue(), b.runner.runDue()]);
    expect(runs).toEqual(['tick:']);
    h.clock.advance(5 * 60_000);
    await Promise.all([a.runner.runDue(), b.runner.runDue()]);
    await Promise.all([a.runner.runDue(), b.runner.runDue()]);
    expect(runs).toEqual(['tick:', 'tick:']);
    await a.queue.schedule({ name: 'test:tick', cron: '*/5 * * * *', kind: 'tick', enabled: false });
    h.clock.advance(5 * 60_000);
    await Promise.all([a.runner.runDue(), b.runner.runDue()]);
    expect(runs.length).toBe(2);
    // a node that was down for hours fires a missed schedule once, not once per missed slot
    await a.queue.schedule({ name: 'test:tick', cron: '*/5 * * * *', kind: 'tick', enabled: true });
    h.clock.advance(3 * 3600_000);
    await a.runner.runDue();
    await a.runner.runDue();
    expect(runs.length).toBe(3);
  }));

  it('purges finished jobs past their retention and keeps the rest', withHarness(async () => {
    const a = await h.node();
    recorder(a, 'p', []);
    const done = await a.queue.enqueue({ kind: 'p' });
    await a.runner.runDue();
    const waiting = await a.queue.enqueue({ kind: 'p', runAt: h.clock.now() + 10 * 86_400_000 });
    h.clock.advance(2 * 86_400_000);
    expect(await a.jobs.purgeFinished(h.clock.now() - 86_400_000)).toBe(1);
    await expect(a.queue.get(done.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await a.queue.get(waiting.id)).status).toBe('queued');
  }));
}

/** The cron dialect of the product guide's "Cleanup Cycle Setting" table (pure: no database). */
export function cronDialect() {
  it('accepts the guide table: 5 fields, UTC, ? in day fields, JAN-DEC, SUN-SAT', () => {
    const thu = Date.UTC(2026, 11, 3, 0, 0, 0); // Thursday
    expect(new Date(nextCronTime('0 0 ? * SAT', thu)!).toISOString()).toBe('2026-12-05T00:00:00.000Z');
    expect(new Date(nextCronTime('30 2 1 JAN ?', thu)!).toISOString()).toBe('2027-01-01T02:30:00.000Z');
    expect(new Date(nextCronTime('*/15 9-17 * * MON-FRI', thu)!).toISOString()).toBe('2026-12-03T09:00:00.000Z');
    expect(new Date(nextCronTime('0 0 * 2 0', thu)!).toISOString()).toBe('2027-02-07T00:00:00.000Z');
    for (const bad of ['* * * *', '0 0 * * * *', '61 * * * *', '? * * * *', '0 ? * * *', 'a b c d e', '0 0 32 * *']) {
      expect(() => parseCron(bad), bad).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });
}
