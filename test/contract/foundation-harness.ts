/**
 * Opens the real metadata database (a temp SQLite file or a fresh PostgreSQL database) with the foundation's stores
 * wired as buildApp wires them, for the outbox and job-queue contract suites. No HTTP, no mocks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditEntryOf } from '../../src/domain/audit/audit.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { OutboxDispatcher } from '../../src/domain/outbox/dispatcher.js';
import type { JobStore, ScheduleStore } from '../../src/domain/queue/ports.js';
import { JobQueue } from '../../src/domain/queue/queue.js';
import type { UnitOfWork } from '../../src/domain/uow.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { openMetaDb, type MetaDb } from '../../src/storage/meta/kysely/connect.js';
import { KyselyJobStore, KyselyScheduleStore } from '../../src/storage/meta/kysely/jobs.repo.js';
import { KyselyOutboxStore } from '../../src/storage/meta/kysely/outbox.repo.js';
import { KyselyRegistryStore } from '../../src/storage/meta/kysely/registry.repo.js';
import { KyselyUnitOfWork } from '../../src/storage/meta/kysely/uow.js';
import type { Db } from '../../src/storage/meta/kysely/util.js';
import { createPgDatabase, type DbKind } from '../helpers/server.js';

export const quietLog = { info() {}, warn() {}, error() {} };

/** One database shared by several "nodes" (each node: its own connection pool, dispatcher and runner). */
export interface Harness {
  clock: ManualClock;
  node(): Promise<Node>;
  close(): Promise<void>;
}

export interface Node {
  meta: MetaDb;
  outboxStore: KyselyOutboxStore;
  dispatcher: OutboxDispatcher;
  errors: unknown[];
  uow: UnitOfWork<{ registries: KyselyRegistryStore }>;
  jobs: JobStore;
  schedules: ScheduleStore;
  queue: JobQueue;
  runner: JobRunner;
  /** commits one event in its own transaction */
  publish(e: DomainEvent): Promise<void>;
}

export async function openHarness(db: DbKind): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'ncr-contract-'));
  const pgDb = db === 'postgres' ? await createPgDatabase() : undefined;
  const clock = new ManualClock(Date.UTC(2026, 11, 3, 10, 0, 0));
  const nodes: Node[] = [];
  let shared: MetaDb | undefined;
  return {
    clock,
    async node() {
      // SQLite: one connection per process (a second connection in the same process would wait on the first one's
      // write lock while blocking the event loop that has to release it); the "nodes" are separate dispatchers and
      // runners with their own owners on it. Separate processes on one file are what the kill -9 test runs.
      const meta = pgDb ? await openMetaDb({ databaseUrl: pgDb.url, dataDir: dir }) : (shared ??= await openMetaDb({ dataDir: dir }));
      const outboxStore = new KyselyOutboxStore(meta.db, meta.dialect, pgDb?.url);
      const errors: unknown[] = [];
      const dispatcher = new OutboxDispatcher(outboxStore, clock, { pollIntervalMs: 60_000, leaseMs: 30_000, batchSize: 50 }, (err) => errors.push(err));
      const hooks = { auditOf: auditEntryOf, committed: (events: DomainEvent[]) => dispatcher.committed(events) };
      const uow = new KyselyUnitOfWork(meta.db, meta.dialect, (d: Db) => ({ registries: new KyselyRegistryStore(d) }), hooks);
      const jobStores = (d: Db) => ({ jobs: new KyselyJobStore(d, meta.dialect) as JobStore, schedules: new KyselyScheduleStore(d) as ScheduleStore });
      const { jobs, schedules } = jobStores(meta.db);
      const queue = new JobQueue(jobs, schedules, clock);
      const runner = new JobRunner(jobs, schedules, new KyselyUnitOfWork(meta.db, meta.dialect, jobStores, hooks), clock, { pollIntervalMs: 60_000, concurrency: 4 }, quietLog);
      const node: Node = {
        meta,
        outboxStore,
        dispatcher,
        errors,
        uow,
        jobs,
        schedules,
        queue,
        runner,
        publish: (e) => uow.transaction(async (tx) => tx.publish(e)),
      };
      nodes.push(node);
      return node;
    },
    async close() {
      for (const n of nodes) {
        await n.runner.stop().catch(() => undefined);
        await n.dispatcher.stop().catch(() => undefined);
        if (n.meta !== shared) await n.meta.close().catch(() => undefined);
      }
      await shared?.close();
      await pgDb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a contract suite: `each(fn)` runs one test on a fresh harness (closed whatever happens); `h()` is the harness of
 * the test running now.
 */
export function perTest(open: () => Promise<Harness>): { each: (fn: () => Promise<void>) => () => Promise<void>; h: () => Harness } {
  let current: Harness | undefined;
  return {
    h: () => current!,
    each: (fn) => async () => {
      current = await open();
      try {
        await fn();
      } finally {
        await current.close();
      }
    },
  };
}

const system = { userId: null, username: 'system' };

/** A registry-scoped event (its ordering key is the registry). */
export function pushed(clock: ManualClock, registry: string, n: number): DomainEvent {
  return { type: 'ArtifactPushed', at: clock.now(), actor: system, repository: `${registry}/app`, digest: `sha256:${String(n).padStart(64, '0')}`, mediaType: 'x', size: n };
}
