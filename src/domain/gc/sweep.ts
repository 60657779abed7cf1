/**
 * One garbage-collection run's sweep (gc.service.ts describes the phases and why each deletion is safe): the phases
 * in batches, counters and tasks written to the execution at checkpoints, stop and shutdown honoured between batches.
 */
import { isNcrError } from '../../oci/errors.js';
import type { ExecutionRun } from '../executions/service.js';
import type { Counts, GcDeps, GcParams } from './gc.service.js';
import type { GcBlob } from './ports.js';

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

/** One run's sweep: its phases, its counters (written to the execution after each batch). */
export class Sweep {
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
