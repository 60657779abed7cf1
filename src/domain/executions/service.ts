/** Starting, reporting on and stopping executions; the job that does the work reports through `ExecutionRun`. */
import { randomUUID } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { JobStore } from '../queue/ports.js';
import type { JobQueue } from '../queue/queue.js';
import type { UnitOfWork } from '../uow.js';
import type { Page, PageRequest } from '../pagination.js';
import type { Execution, ExecutionStatus, ExecutionStore, ExecutionTask, ExecutionTrigger, TaskStatus } from './ports.js';

const FINISHED: ExecutionStatus[] = ['succeeded', 'failed', 'stopped'];

export class ExecutionService {
  constructor(
    private readonly store: ExecutionStore,
    private readonly jobs: JobQueue,
    private readonly uow: UnitOfWork<{ executions: ExecutionStore; jobs: JobStore }>,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a queued execution and enqueues the job `jobKind` with `{ executionId, ...payload }`, in one transaction.
   * `job.singletonKey`: at most one such run queued or running at a time (across nodes); starting another is CONFLICT,
   * naming the one in progress. `job.maxAttempts` (default 1): a run whose node died is claimed again by another node
   * up to that many times in all, so a resumable run finishes.
   */
  async start(s: {
    kind: string;
    jobKind: string;
    trigger: ExecutionTrigger;
    subject?: string | null;
    params?: unknown;
    payload?: Record<string, unknown>;
    actor: Actor;
    job?: { singletonKey?: string; maxAttempts?: number };
  }): Promise<Execution> {
    const e: Execution = {
      id: randomUUID(),
      kind: s.kind,
      trigger: s.trigger,
      status: 'queued',
      subject: s.subject ?? null,
      params: s.params ?? null,
      counts: {},
      message: null,
      createdBy: s.actor.username,
      createdAt: this.clock.now(),
      startedAt: null,
      endedAt: null,
      stopRequested: false,
      jobId: null,
    };
    const jobId = await this.uow.transaction(async (tx) => {
      await tx.executions.create(e);
      const { job, created } = await tx.jobs.enqueue(
        { kind: s.jobKind, payload: { executionId: e.id, ...(s.payload ?? {}) }, maxAttempts: s.job?.maxAttempts ?? 1, singletonKey: s.job?.singletonKey },
        e.createdAt,
      );
      if (!created) {
        const running = (job.payload as { executionId?: string } | null)?.executionId;
        throw new NcrError('CONFLICT', `a ${s.kind} run is already queued or running${running ? ` (execution ${running})` : ''}: wait for it to finish, or stop it first`, { detail: { executionId: running } });
      }
      await tx.executions.update(e.id, { jobId: job.id });
      return job.id;
    });
    this.jobs.poke();
    return { ...e, jobId };
  }

  async get(id: string): Promise<Execution> {
    const e = await this.store.get(id);
    if (!e) throw new NcrError('NOT_FOUND', `execution ${id} does not exist (finished executions are kept for a limited time)`);
    return e;
  }

  list(q: { kind?: string; subject?: string; status?: ExecutionStatus } & PageRequest): Promise<Page<Execution>> {
    return this.store.list(q);
  }

  async tasks(id: string, q: { status?: TaskStatus } & PageRequest): Promise<Page<ExecutionTask>> {
    await this.get(id);
    return this.store.tasks(id, q);
  }

  /** Asks a queued or running execution to stop; a finished one is CONFLICT. */
  async stop(id: string): Promise<Execution> {
    const e = await this.get(id);
    if (FINISHED.includes(e.status)) throw new NcrError('CONFLICT', `execution ${id} already ${e.status}: there is nothing to stop`);
    await this.store.update(id, { stopRequested: true });
    if (e.jobId) await this.jobs.cancel(e.jobId).catch(() => undefined);
    if (e.status === 'queued') await this.store.update(id, { status: 'stopped', endedAt: this.clock.now(), message: 'stopped before it started' });
    return this.get(id);
  }

  /** The handle a job uses to report on its execution. */
  async run(id: string): Promise<ExecutionRun> {
    const e = await this.get(id);
    return new ExecutionRun(e, this.store, this.clock);
  }

  /**
   * Ends, as failed, the queued or running executions whose job is over or gone (its node died mid-run, or the job
   * failed without reporting): a run can then be started again. Returns how many were ended. Idempotent, any node.
   */
  async reconcile(filter: { kind?: string; subject?: string } = {}): Promise<number> {
    let ended = 0;
    for (const status of ['queued', 'running'] as const) {
      const page = await this.store.list({ ...filter, status, page: 1, perPage: 500 });
      for (const e of page.items) {
        if (!e.jobId) continue;
        const job = await this.jobs.get(e.jobId).catch(() => undefined);
        if (job && (job.status === 'queued' || job.status === 'running')) continue;
        // re-read: the job may have ended the execution itself just now
        const now = await this.store.get(e.id);
        if (!now || FINISHED.includes(now.status)) continue;
        await this.store.update(e.id, { status: 'failed', endedAt: this.clock.now(), message: `its job ${job ? `ended (${job.status}${job.lastError ? `: ${job.lastError}` : ''})` : 'is gone'} before the run finished; start it again` });
        ended++;
      }
    }
    return ended;
  }

  /** Deletes executions that ended more than `retentionMs` ago. */
  purge(retentionMs: number): Promise<number> {
    return this.store.purge(this.clock.now() - retentionMs);
  }
}

export class ExecutionRun {
  constructor(
    readonly execution: Execution,
    private readonly store: ExecutionStore,
    private readonly clock: Clock,
  ) {}

  get id() {
    return this.execution.id;
  }

  async begin(): Promise<void> {
    await this.store.update(this.id, { status: 'running', startedAt: this.clock.now() });
  }

  /** Adds tasks (pending); returns their ids in order. */
  async addTasks(tasks: { subject: string; detail?: unknown; status?: TaskStatus; message?: string }[]): Promise<string[]> {
    const rows: ExecutionTask[] = tasks.map((t) => ({
      id: randomUUID(),
      executionId: this.id,
      subject: t.subject,
      status: t.status ?? 'pending',
      message: t.message ?? null,
      detail: t.detail ?? null,
      log: [],
      startedAt: null,
      endedAt: null,
    }));
    for (let i = 0; i < rows.length; i += 500) await this.store.addTasks(rows.slice(i, i + 500));
    return rows.map((r) => r.id);
  }

  task(id: string, patch: { status?: TaskStatus; message?: string; detail?: unknown; log?: string[] }): Promise<void> {
    const t = this.clock.now();
    return this.store.updateTask(id, {
      status: patch.status,
      message: patch.message,
      detail: patch.detail,
      appendLog: patch.log,
      ...(patch.status === 'running' ? { startedAt: t } : {}),
      ...(patch.status && !['pending', 'running'].includes(patch.status) ? { endedAt: t } : {}),
    });
  }

  count(counts: Record<string, number>): Promise<void> {
    return this.store.update(this.id, { addCounts: counts });
  }

  /** True when someone asked the execution to stop. */
  async stopRequested(): Promise<boolean> {
    return (await this.store.get(this.id))?.stopRequested ?? true;
  }

  async end(status: 'succeeded' | 'failed' | 'stopped', message?: string): Promise<void> {
    await this.store.update(this.id, { status, endedAt: this.clock.now(), message: message ?? null });
  }
}
