/**
 * Online garbage collection: mark and sweep over the metadata while pushes and pulls go on.
 *
 * A run (an execution of kind `gc`, one at a time across nodes) goes through four phases, each in batches:
 *   0. optionally, untagged artifacts pushed before the safe window are deleted through the registry core (so its
 *      protection check applies), repeatedly, so that an untagged index's children and a deleted subject's referrers
 *      follow in the next pass;
 *   1. links (repository_blobs rows) older than the window that no manifest of their repository references go, each
 *      batch in a short transaction under the repository's lock (`repo:<id>`), the lock a manifest push checks its
 *      blobs under: a push either committed first (and the link is referenced, so kept) or finds the link gone and
 *      gets a clean MANIFEST_BLOB_UNKNOWN;
 *   2. blob rows older than the window that no link and no manifest anywhere references go with their bytes, under a
 *      lock per digest that link writes (uploads, mounts) take as well; a link write that comes after checks that the
 *      bytes are still there, so it fails cleanly instead of linking a blob that is gone (storage/blob/port.ts);
 *   3. blob-store objects with no blob row at all (a crashed upload's commit) older than the window go, under the
 *      same lock.
 * The cutoff is fixed when the run starts (start − safe window), so nothing pushed, linked or re-uploaded during the
 * run is touched (a re-upload or mount refreshes its link's time). Every deletion re-checks its condition in the
 * statement that deletes, so a run is idempotent: one whose node died is resumed by the job's next attempt and simply
 * finds less to do. A failing blob is counted and recorded as a failed task; the run goes on.
 */
import { isNcrError, NcrError } from '../../oci/errors.js';
import type { BlobStore } from '../../storage/blob/port.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { Execution } from '../executions/ports.js';
import type { ExecutionService } from '../executions/service.js';
import type { PageRequest, Page } from '../pagination.js';
import { parseCron } from '../queue/cron.js';
import type { JobQueue } from '../queue/queue.js';
import type { UnitOfWork } from '../uow.js';
import type { GcStore } from './ports.js';
import { Sweep } from './sweep.js';

export const GC_KIND = 'gc';
/** the job that does a run */
export const GC_JOB = 'gc';
/** the job a schedule fires: it starts a run (an execution) like "run now" does */
export const GC_SCHEDULED_JOB = 'gc-scheduled';
export const GC_SCHEDULE = 'system:gc';
/** a run whose node dies is resumed by another node up to this many times in all */
const MAX_ATTEMPTS = 5;

export interface GcParams {
  dryRun: boolean;
  deleteUntagged: boolean;
}

export interface GcOptions {
  safeWindowMs: number;
  batchSize: number;
}

export interface GcSchedule {
  cron: string | null;
  enabled: boolean;
  deleteUntagged: boolean;
  nextAt: number | null;
  lastFiredAt: number | null;
}

export type GcStores = { gc: GcStore };

/**
 * Deletes an artifact through the registry core as the system, unless it is in use by the time the core holds the
 * repository's lock (tagged, listed by an index, a referrer of a subject still there, or pushed at or after
 * `pushedBefore`): false then. Throws what the core throws (PROTECTED when a protection policy forbids it).
 */
export type ArtifactRemover = (repository: string, digest: string, pushedBefore: number) => Promise<boolean>;

const SYSTEM: Actor = { userId: null, username: 'system', remoteAddr: null };

export type Counts = Record<string, number>;

export interface GcDeps {
  store: GcStore;
  uow: UnitOfWork<GcStores>;
  blobStore: BlobStore;
  executions: ExecutionService;
  queue: JobQueue;
  removeArtifact: ArtifactRemover;
  clock: Clock;
  opts: GcOptions;
}

export class GcService {
  constructor(private readonly d: GcDeps) {}

  /** Starts a run now (queued, then worked by one node); CONFLICT when one is already queued or running. */
  async start(p: Partial<GcParams> & { actor: Actor; trigger?: 'manual' | 'schedule' }): Promise<Execution> {
    requireActor(p.actor, 'gc:run');
    const params: GcParams = { dryRun: p.dryRun ?? false, deleteUntagged: p.deleteUntagged ?? false };
    return this.d.executions.start({
      kind: GC_KIND,
      jobKind: GC_JOB,
      trigger: p.trigger ?? 'manual',
      subject: null,
      params: { ...params, safeWindowSeconds: Math.round(this.d.opts.safeWindowMs / 1000) },
      actor: p.actor,
      job: { singletonKey: GC_KIND, maxAttempts: MAX_ATTEMPTS },
    });
  }

  /** Past and current runs, newest first. */
  history(q: PageRequest & { status?: Execution['status'] }): Promise<Page<Execution>> {
    return this.d.executions.list({ ...q, kind: GC_KIND });
  }

  /** One run; NOT_FOUND unless it is a GC run. */
  async get(id: string): Promise<Execution> {
    const e = await this.d.executions.get(id);
    if (e.kind !== GC_KIND) throw new NcrError('NOT_FOUND', `execution ${id} is not a garbage collection run`);
    return e;
  }

  async schedule(): Promise<GcSchedule> {
    const s = await this.d.queue.getSchedule(GC_SCHEDULE);
    if (!s) return { cron: null, enabled: false, deleteUntagged: false, nextAt: null, lastFiredAt: null };
    return {
      cron: s.cron,
      enabled: s.enabled,
      deleteUntagged: Boolean((s.payload as { deleteUntagged?: boolean } | null)?.deleteUntagged),
      nextAt: s.enabled ? s.nextAt : null,
      lastFiredAt: s.lastFiredAt,
    };
  }

  /**
   * Sets the schedule (5-field cron, UTC), or turns it off with null. Off is kept as a disabled schedule, so the
   * configured default (gc.schedule) does not come back at the next start.
   */
  async setSchedule(cron: string | null, opts: { deleteUntagged?: boolean }, actor: Actor): Promise<GcSchedule> {
    requireActor(actor, 'gc:run');
    if (cron === null) {
      const prev = await this.d.queue.getSchedule(GC_SCHEDULE);
      await this.d.queue.schedule({ name: GC_SCHEDULE, cron: prev?.cron ?? '0 4 * * 0', kind: GC_SCHEDULED_JOB, payload: { deleteUntagged: false }, enabled: false });
    } else {
      parseCron(cron);
      await this.d.queue.schedule({ name: GC_SCHEDULE, cron, kind: GC_SCHEDULED_JOB, payload: { deleteUntagged: opts.deleteUntagged ?? false }, enabled: true });
    }
    return this.schedule();
  }

  /** At start: the configured schedule, unless one was ever set (through the API, or by an earlier start). */
  async ensureDefaultSchedule(cron: string): Promise<void> {
    if (!cron || (await this.d.queue.getSchedule(GC_SCHEDULE))) return;
    await this.d.queue.schedule({ name: GC_SCHEDULE, cron, kind: GC_SCHEDULED_JOB, payload: { deleteUntagged: false }, enabled: true });
  }

  /** What a fired schedule does: starts a run, unless one is in progress (then this firing is skipped). */
  async startScheduled(payload: { deleteUntagged?: boolean } | null): Promise<Execution | undefined> {
    try {
      return await this.start({ deleteUntagged: payload?.deleteUntagged ?? false, actor: SYSTEM, trigger: 'schedule' });
    } catch (err) {
      if (isNcrError(err) && err.code === 'CONFLICT') return undefined;
      throw err;
    }
  }

  /**
   * Does the run (the job's body). Resumes a run that was already running (its node died). Returns when the run has
   * ended, or when `signal` aborts without a stop request (this node is shutting down: the job's next attempt on
   * another node resumes it).
   */
  async run(executionId: string, signal: AbortSignal): Promise<Counts | undefined> {
    const run = await this.d.executions.run(executionId);
    const e = run.execution;
    if (e.status !== 'queued' && e.status !== 'running') return undefined;
    const params = (e.params ?? {}) as Partial<GcParams>;
    const p: GcParams = { dryRun: params.dryRun === true, deleteUntagged: params.deleteUntagged === true };
    if (e.status === 'queued') await run.begin();
    const cutoff = (e.startedAt ?? this.d.clock.now()) - this.d.opts.safeWindowMs;
    const sweep = new Sweep(this.d, run, p, cutoff, signal);
    let status: 'succeeded' | 'failed' | 'stopped';
    let message: string | undefined;
    try {
      const outcome = await sweep.all();
      if (outcome === 'shutdown') return undefined;
      status = outcome === 'stopped' ? 'stopped' : 'succeeded';
      const failed = sweep.total.failed ?? 0;
      message = outcome === 'stopped' ? 'stopped on request' : failed > 0 ? `${failed} deletion(s) failed; see the failed tasks (they are retried by the next run)` : undefined;
    } catch (err) {
      await sweep.flush().catch(() => undefined);
      status = 'failed';
      message = `garbage collection failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    await run.end(status, message);
    const counts = (await this.d.executions.get(executionId)).counts;
    await this.d.uow.transaction(async (tx) => {
      tx.publish({ type: 'GcRunFinished', at: this.d.clock.now(), actor: SYSTEM, executionId, dryRun: p.dryRun, status, counts });
    });
    return counts;
  }
}
