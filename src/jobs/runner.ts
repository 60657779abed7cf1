/**
 * Runs jobs from the shared queue: every node runs one runner; a job is claimed by one node at a time with a lease
 * that the runner extends while the job runs, so a job whose node died is claimed again when its lease runs out.
 * The runner also fires due cron schedules (each firing claimed once across nodes) and enqueues their jobs.
 * Polls every `pollIntervalMs`, and at once when this node enqueued something.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { nextCronTime } from '../domain/queue/cron.js';
import type { Job, JobStore, ScheduleStore } from '../domain/queue/ports.js';
import type { UnitOfWork } from '../domain/uow.js';

export interface JobContext {
  job: Job;
  /** aborted when someone cancels the job (or the node shuts down); stop soon and return */
  signal: AbortSignal;
  /** records progress (any JSON) for whoever looks at the job */
  progress(p: unknown): Promise<void>;
}

export interface JobHandler<P = any> {
  kind: string;
  /** jobs of this kind run at once on one node; default: the runner's (config jobs.concurrency) */
  concurrency?: number;
  /** lease length; extended every third of it while running; default 60 s */
  leaseMs?: number;
  run(payload: P, ctx: JobContext): Promise<unknown>;
}

export interface RunnerLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export class JobRunner {
  readonly owner = `node-${randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perKind = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private readonly stopAll = new AbortController();

  constructor(
    private readonly jobs: JobStore,
    private readonly schedules: ScheduleStore,
    private readonly uow: UnitOfWork<{ jobs: JobStore; schedules: ScheduleStore }>,
    private readonly clock: Clock,
    private readonly opts: { pollIntervalMs: number; /** per kind, when the handler sets none */ concurrency: number },
    private readonly log: RunnerLog,
  ) {}

  register(h: JobHandler): void {
    if (this.handlers.has(h.kind)) throw new Error(`job kind ${h.kind} is registered twice`);
    this.handlers.set(h.kind, h);
  }

  start(): void {
    this.started = true;
    this.schedule(0);
  }

  wake(): void {
    if (this.started && !this.stopped) this.schedule(0);
  }

  /** Fires due schedules and runs every due job until none is left; resolves when they have finished. For tests and tools. */
  async runDue(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      // a tick already under way (the timer's) may have looked for a kind before the caller's job was enqueued:
      // joining it could return with that job still queued, so wait for it and look again
      await this.ticking?.catch(() => undefined);
      await this.tick();
      if (this.inFlight.size === 0) return;
      await Promise.all(this.inFlight.values());
    }
  }

  /** Stops claiming, aborts running jobs and waits for them to return. Their leases lapse, so another node retries them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopAll.abort();
    await this.ticking?.catch(() => undefined);
    await Promise.all(this.inFlight.values());
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick()
        .catch((err) => this.log.error({ err }, 'job runner tick failed'))
        .finally(() => this.schedule(this.opts.pollIntervalMs));
    }, delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      await this.fireSchedules();
      await this.claim();
    })();
    try {
      await this.ticking;
    } finally {
      this.ticking = undefined;
    }
  }

  private async fireSchedules(): Promise<void> {
    const now = this.clock.now();
    for (const s of await this.schedules.due(now)) {
      const next = nextCronTime(s.cron, now) ?? Number.MAX_SAFE_INTEGER;
      const fired = await this.uow.transaction(async (tx) => {
        if (!(await tx.schedules.claimFiring(s.name, s.nextAt, next, now))) return false;
        await tx.jobs.enqueue({ kind: s.kind, payload: s.payload, singletonKey: `schedule:${s.name}` }, now);
        return true;
      });
      if (fired) this.log.info({ schedule: s.name, kind: s.kind }, 'schedule fired');
    }
  }

  private async claim(): Promise<void> {
    if (this.stopped) return;
    const room = [...this.handlers.values()].filter((h) => (h.concurrency ?? this.opts.concurrency) - (this.perKind.get(h.kind) ?? 0) > 0);
    // one read finds the kinds with due work; only those are claimed (a claim is a write, and on SQLite a commit)
    const due = new Set(await this.jobs.dueKinds(room.map((h) => h.kind), this.clock.now()));
    for (const h of room) {
      if (!due.has(h.kind)) continue;
      const free = (h.concurrency ?? this.opts.concurrency) - (this.perKind.get(h.kind) ?? 0);
      if (free <= 0) continue;
      const now = this.clock.now();
      const claimed = await this.jobs.claim([h.kind], this.owner, now, now + (h.leaseMs ?? 60_000), free);
      for (const job of claimed) this.launch(h, job);
    }
  }

  private launch(h: JobHandler, job: Job) {
    this.perKind.set(h.kind, (this.perKind.get(h.kind) ?? 0) + 1);
    const run = this.execute(h, job).finally(() => {
      this.inFlight.delete(job.id);
      this.perKind.set(h.kind, (this.perKind.get(h.kind) ?? 1) - 1);
      this.wake();
    });
    this.inFlight.set(job.id, run);
  }

  private async execute(h: JobHandler, job: Job): Promise<void> {
    const leaseMs = h.leaseMs ?? 60_000;
    const ctrl = new AbortController();
    const onStop = () => ctrl.abort();
    this.stopAll.signal.addEventListener('abort', onStop);
    let lost = false;
    const beat = setInterval(() => {
      void this.jobs
        .heartbeat(job.id, this.owner, this.clock.now() + leaseMs, this.clock.now())
        .then((r) => {
          if (!r) lost = true;
          if (!r || r.cancelRequested) ctrl.abort();
        })
        .catch((err) => this.log.warn({ err, job: job.id }, 'job heartbeat failed'));
    }, Math.max(50, Math.floor(leaseMs / 3)));
    beat.unref();
    try {
      if (job.attempts > job.maxAttempts) {
        // claimed again after its lease ran out more often than it may be tried: its runs keep dying (or hanging)
        await this.jobs.fail(job.id, this.owner, this.clock.now(), `gave up after ${job.maxAttempts} attempt(s): each time, the node running it stopped answering`, undefined);
        return;
      }
      if (job.cancelRequested) ctrl.abort();
      const ctx: JobContext = { job, signal: ctrl.signal, progress: (p) => this.jobs.progress(job.id, this.owner, p, this.clock.now()) };
      const result = ctrl.signal.aborted ? undefined : await h.run(job.payload, ctx);
      // lost the lease, or this node is stopping: the job is someone else's now (or again once its lease lapses)
      if (lost || this.stopAll.signal.aborted) return;
      await this.jobs.finish(job.id, this.owner, this.clock.now(), { status: ctrl.signal.aborted ? 'cancelled' : 'succeeded', result });
    } catch (err) {
      if (lost || this.stopAll.signal.aborted) return;
      const now = this.clock.now();
      const retryAt = job.attempts < job.maxAttempts ? now + job.backoffMs * 2 ** (job.attempts - 1) : undefined;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ err, job: job.id, kind: job.kind, attempt: job.attempts, retry: retryAt !== undefined }, 'job failed');
      await this.jobs.fail(job.id, this.owner, now, message.slice(0, 2000), retryAt).catch((e) => this.log.error({ err: e, job: job.id }, 'recording a job failure failed'));
    } finally {
      clearInterval(beat);
      this.stopAll.signal.removeEventListener('abort', onStop);
    }
  }
}
