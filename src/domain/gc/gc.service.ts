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
import type { ExecutionRun, ExecutionService } from '../executions/service.js';
import type { PageRequest, Page } from '../pagination.js';
import { parseCron } from '../queue/cron.js';
import type { JobQueue } from '../queue/queue.js';
import type { UnitOfWork } from '../uow.js';
import type { GcBlob, GcStore } from './ports.js';

export const GC_KIND = 'gc';
/** the job that does a run */
export const GC_JOB = 'gc';
/** the job a schedule fires: it starts a run (an execution) like "run now" does */
export const GC_SCHEDULED_JOB = 'gc-scheduled';
export const GC_SCHEDULE = 'system:gc';
/** a run whose node dies is resumed by another node up to this many times in all */
const MAX_ATTEMPTS = 5;
/** dry runs list what they would delete as tasks, up to this many (the counts cover everything) */
const MAX_DRY_RUN_TASKS = 10_000;
/** untagged-artifact passes: an index's children and a subject's referrers become untagged one pass later */
const MAX_UNTAGGED_PASSES = 8;
/** blob-store calls in flight at once within a batch */
const PARALLEL = 16;
/** counters are written and a stop request looked for at most this often (ms of real time), not after every batch */
const CHECKPOINT_MS = 200;
/** the blob store is listed this many batches at a time (listing is cheap per item, each page costs a lookup) */
const LIST_BATCHES = 4;

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

type Counts = Record<string, number>;

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

/** One run's sweep: its phases, its counters (written to the execution after each batch). */
class Sweep {
  /** counters not yet written to the execution */
  private pending: Counts = {};
  /** tasks not yet written (written with the counters, in one batch) */
  private tasks: Parameters<ExecutionRun['addTasks']>[0] = [];
  /** everything counted by this attempt */
  readonly total: Counts = {};
  private dryRunTasks = 0;
  private lastCheckpoint = Date.now();

  constructor(
    private readonly d: GcDeps,
    private readonly run: ExecutionRun,
    private readonly p: GcParams,
    private readonly cutoff: number,
    private readonly signal: AbortSignal,
  ) {}

  private get batch() {
    return this.d.opts.batchSize;
  }

  private add(c: Counts) {
    for (const [k, v] of Object.entries(c)) {
      if (!v) continue;
      this.pending[k] = (this.pending[k] ?? 0) + v;
      this.total[k] = (this.total[k] ?? 0) + v;
    }
  }

  async flush(): Promise<void> {
    const c = this.pending;
    this.pending = {};
    const tasks = this.tasks;
    this.tasks = [];
    if (tasks.length > 0) await this.run.addTasks(tasks);
    if (Object.keys(c).length > 0) await this.run.count(c);
  }

  /** After a batch: writes the counters (now and then); says whether to go on. */
  private async checkpoint(): Promise<'go' | 'stopped' | 'shutdown'> {
    if (this.signal.aborted) {
      await this.flush();
      return (await this.run.stopRequested()) ? 'stopped' : 'shutdown';
    }
    if (Date.now() - this.lastCheckpoint < CHECKPOINT_MS) return 'go';
    this.lastCheckpoint = Date.now();
    await this.flush();
    if (await this.run.stopRequested()) return 'stopped';
    return this.signal.aborted ? 'shutdown' : 'go';
  }

  private forecast(subject: string, detail: Record<string, unknown>) {
    if (this.dryRunTasks >= MAX_DRY_RUN_TASKS) return;
    this.dryRunTasks++;
    this.tasks.push({ subject, detail, status: 'skipped', message: 'would be deleted' });
  }

  private failed(subject: string, err: unknown, detail: Record<string, unknown>) {
    this.add({ failed: 1 });
    const message = err instanceof Error ? err.message : String(err);
    this.tasks.push({ subject, detail: { ...detail, error: message }, status: 'failed', message: message.slice(0, 500) });
  }

  async all(): Promise<'done' | 'stopped' | 'shutdown'> {
    const totals = await this.d.store.totals();
    if (this.run.execution.status === 'queued') this.add({ blobsExamined: totals.blobs, linksExamined: totals.links });
    for (const phase of [
      () => (this.p.deleteUntagged ? this.untagged() : Promise.resolve('go' as const)),
      () => this.links(),
      () => this.blobs(),
      () => this.orphans(),
    ]) {
      const r = await phase();
      if (r !== 'go') return r;
    }
    await this.flush();
    return 'done';
  }

  private async untagged(): Promise<'go' | 'stopped' | 'shutdown'> {
    for (let pass = 0; pass < (this.p.dryRun ? 1 : MAX_UNTAGGED_PASSES); pass++) {
      let deleted = 0;
      let after: { repository: string; digest: string } | undefined;
      for (;;) {
        const page = await this.d.store.untaggedArtifacts({ before: this.cutoff, after, limit: this.batch });
        if (page.length === 0) break;
        after = page[page.length - 1]!;
        for (const a of page) {
          const subject = `${a.repository}@${a.digest}`;
          if (this.p.dryRun) {
            this.add({ artifactsToDelete: 1 });
            this.forecast(subject, { kind: 'artifact', size: a.size });
            continue;
          }
          try {
            if (await this.d.removeArtifact(a.repository, a.digest, this.cutoff)) {
              deleted++;
              this.add({ artifactsDeleted: 1 });
              this.tasks.push({ subject, detail: { kind: 'artifact', size: a.size }, status: 'succeeded', message: 'untagged artifact deleted' });
            }
          } catch (err) {
            if (isNcrError(err) && err.code === 'PROTECTED') {
              this.add({ artifactsProtected: 1 });
              this.tasks.push({ subject, detail: { kind: 'artifact', verdict: 'PROTECTED' }, status: 'skipped', message: err.message });
            } else if (isNcrError(err) && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) {
              // deleted meanwhile by someone else
            } else {
              this.failed(subject, err, { kind: 'artifact' });
            }
          }
        }
        const c = await this.checkpoint();
        if (c !== 'go') return c;
      }
      if (deleted === 0) break;
    }
    return 'go';
  }

  private async links(): Promise<'go' | 'stopped' | 'shutdown'> {
    let after: { repositoryId: string; digest: string } | undefined;
    for (;;) {
      const page = await this.d.store.unreferencedLinks({ before: this.cutoff, after, limit: this.batch });
      if (page.length === 0) return 'go';
      after = page[page.length - 1]!;
      if (this.p.dryRun) {
        this.add({ linksToDelete: page.length });
      } else {
        const byRepo = new Map<string, { repository: string; digests: string[] }>();
        for (const l of page) {
          const g = byRepo.get(l.repositoryId) ?? { repository: l.repository, digests: [] };
          g.digests.push(l.digest);
          byRepo.set(l.repositoryId, g);
        }
        for (const [repositoryId, g] of byRepo) {
          try {
            const n = await this.d.uow.transaction(async (tx) => {
              await tx.lock(`repo:${repositoryId}`);
              return tx.gc.deleteLinks(repositoryId, g.digests, this.cutoff);
            });
            this.add({ linksDeleted: n });
          } catch (err) {
            this.failed(g.repository, err, { kind: 'links', digests: g.digests.length });
          }
        }
      }
      const c = await this.checkpoint();
      if (c !== 'go') return c;
    }
  }

  private async blobs(): Promise<'go' | 'stopped' | 'shutdown'> {
    let after: string | undefined;
    for (;;) {
      const page = await this.d.store.unreferencedBlobs({ before: this.cutoff, after, limit: this.batch, ignoringOldLinks: this.p.dryRun });
      if (page.length === 0) return 'go';
      after = page[page.length - 1]!.digest;
      if (this.p.dryRun) {
        for (const b of page) {
          this.add({ blobsToDelete: 1, bytesToFree: b.size });
          this.forecast(b.digest, { kind: 'blob', size: b.size });
        }
      } else {
        await this.deleteBlobs(page);
      }
      const c = await this.checkpoint();
      if (c !== 'go') return c;
    }
  }

  /** One batch of blob rows and their bytes, in one short transaction holding their digests' locks. */
  private async deleteBlobs(page: GcBlob[]): Promise<void> {
    const { blobStore } = this.d;
    let outcome: { gone: GcBlob[]; kept: number; failures: { digest: string; err: unknown }[] };
    try {
      outcome = await this.d.uow.transaction(async (tx) => {
        await tx.gc.lockBlobs(page.map((b) => b.digest));
        const still = await tx.gc.stillUnreferenced(page.map((b) => b.digest), this.cutoff);
        const gone: GcBlob[] = [];
        const failures: { digest: string; err: unknown }[] = [];
        let kept = 0;
        await inParallel(still, async (b) => {
          try {
            // bytes committed within the window belong to an upload about to link them: theirs, not garbage
            const s = await blobStore.stat(b.digest);
            if (s && s.modifiedAt >= this.cutoff) {
              kept++;
              return;
            }
            await blobStore.delete(b.digest);
            gone.push(b);
          } catch (err) {
            failures.push({ digest: b.digest, err });
          }
        });
        await tx.gc.deleteBlobRows(gone.map((b) => b.digest));
        return { gone, kept, failures };
      });
    } catch (err) {
      this.failed(`${page.length} blobs from ${page[0]!.digest}`, err, { kind: 'blobs' });
      return;
    }
    this.add({ blobsDeleted: outcome.gone.length, bytesFreed: outcome.gone.reduce((n, b) => n + b.size, 0), blobsKept: outcome.kept });
    for (const f of outcome.failures) this.failed(f.digest, f.err, { kind: 'blob' });
  }

  private async orphans(): Promise<'go' | 'stopped' | 'shutdown'> {
    const { blobStore, store } = this.d;
    let cursor: string | undefined;
    do {
      const page = await blobStore.list({ cursor, limit: Math.min(this.batch * LIST_BATCHES, 5000) });
      cursor = page.next;
      this.add({ filesExamined: page.digests.length });
      const old = page.digests.filter((b) => b.modifiedAt < this.cutoff);
      if (old.length > 0) {
        const known = await store.knownBlobs(old.map((b) => b.digest));
        const candidates = old.filter((b) => !known.has(b.digest));
        if (this.p.dryRun) {
          for (const b of candidates) {
            this.add({ orphansToDelete: 1, bytesToFree: b.size });
            this.forecast(b.digest, { kind: 'orphan', size: b.size });
          }
        } else {
          for (let i = 0; i < candidates.length; i += this.batch) await this.deleteOrphans(candidates.slice(i, i + this.batch).map((b) => b.digest));
        }
      }
      const c = await this.checkpoint();
      if (c !== 'go') return c;
    } while (cursor !== undefined);
    return 'go';
  }

  private async deleteOrphans(digests: string[]): Promise<void> {
    const { blobStore } = this.d;
    let outcome: { gone: number; bytes: number; failures: { digest: string; err: unknown }[] };
    try {
      outcome = await this.d.uow.transaction(async (tx) => {
        await tx.gc.lockBlobs(digests);
        const known = await tx.gc.knownBlobs(digests);
        let gone = 0;
        let bytes = 0;
        const failures: { digest: string; err: unknown }[] = [];
        await inParallel(
          digests.filter((d) => !known.has(d)),
          async (digest) => {
            try {
              const s = await blobStore.stat(digest);
              if (!s || s.modifiedAt >= this.cutoff) return;
              await blobStore.delete(digest);
              gone++;
              bytes += s.size;
            } catch (err) {
              failures.push({ digest, err });
            }
          },
        );
        return { gone, bytes, failures };
      });
    } catch (err) {
      this.failed(`${digests.length} orphaned blobs from ${digests[0]!}`, err, { kind: 'orphans' });
      return;
    }
    this.add({ orphansDeleted: outcome.gone, bytesFreed: outcome.bytes });
    for (const f of outcome.failures) this.failed(f.digest, f.err, { kind: 'orphan' });
  }
}

async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
