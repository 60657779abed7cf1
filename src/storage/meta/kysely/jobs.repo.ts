/**
 * The job queue and cron schedules on SQLite and PostgreSQL. Claiming is one UPDATE ... RETURNING over a subquery
 * (PostgreSQL: FOR UPDATE SKIP LOCKED, so nodes claim different jobs without waiting on each other; SQLite: write
 * transactions are serial). Singletons: `active_key` holds the singleton key while a job is queued or running and is
 * unique, so a second enqueue with the key finds the first instead.
 */
import { randomUUID } from 'node:crypto';
import type { Job, JobSpec, JobStatus, JobStore, Schedule, ScheduleStore } from '../../../domain/queue/ports.js';
import { offsetOf, type Page, type PageRequest } from '../../../domain/pagination.js';
import type { Dialect } from './migrations.js';
import type { JobsTable, SchedulesTable } from './schema.js';
import { fromJson, toJson, type Db } from './util.js';

const toJob = (r: JobsTable): Job => ({
  id: r.id,
  kind: r.kind,
  payload: fromJson(r.payload),
  status: r.status as JobStatus,
  priority: Number(r.priority),
  runAt: Number(r.run_at),
  attempts: Number(r.attempts),
  maxAttempts: Number(r.max_attempts),
  backoffMs: Number(r.backoff_ms),
  singletonKey: r.singleton_key,
  lockedBy: r.locked_by,
  lockedUntil: r.locked_until == null ? null : Number(r.locked_until),
  cancelRequested: Boolean(r.cancel_requested),
  progress: fromJson(r.progress),
  result: fromJson(r.result),
  lastError: r.last_error,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  finishedAt: r.finished_at == null ? null : Number(r.finished_at),
});

export class KyselyJobStore implements JobStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async enqueue(spec: JobSpec, now: number): Promise<{ job: Job; created: boolean }> {
    const id = randomUUID();
    const inserted = await this.db
      .insertInto('jobs')
      .values({
        id,
        kind: spec.kind,
        payload: toJson(spec.payload),
        status: 'queued',
        priority: spec.priority ?? 0,
        run_at: spec.runAt ?? now,
        attempts: 0,
        max_attempts: Math.max(1, spec.maxAttempts ?? 3),
        backoff_ms: spec.backoffMs ?? 10_000,
        singleton_key: spec.singletonKey ?? null,
        active_key: spec.singletonKey ?? null,
        locked_by: null,
        locked_until: null,
        cancel_requested: 0,
        progress: null,
        result: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        finished_at: null,
      })
      .onConflict((oc) => oc.column('active_key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { job: toJob(inserted), created: true };
    const existing = await this.db.selectFrom('jobs').selectAll().where('active_key', '=', spec.singletonKey!).executeTakeFirst();
    if (!existing) return this.enqueue(spec, now); // it finished in between: try again
    return { job: toJob(existing), created: false };
  }

  async claim(kinds: string[], owner: string, now: number, lockedUntil: number, limit: number) {
    if (kinds.length === 0 || limit <= 0) return [];
    const rows = await this.db
      .updateTable('jobs')
      .set((eb) => ({ status: 'running', locked_by: owner, locked_until: lockedUntil, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('kind', 'in', kinds)
          .where((w) =>
            w.or([
              w.and([w('status', '=', 'queued'), w('run_at', '<=', now)]),
              w.and([w('status', '=', 'running'), w('locked_until', '<', now)]),
            ]),
          )
          .orderBy('priority', 'desc')
          .orderBy('run_at')
          .orderBy('created_at')
          .limit(limit)
          .$if(this.dialect === 'postgres', (q) => q.forUpdate().skipLocked()),
      )
      .returningAll()
      .execute();
    return rows.map(toJob).sort((a, b) => b.priority - a.priority || a.runAt - b.runAt);
  }

  async dueKinds(kinds: string[], now: number) {
    if (kinds.length === 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .select('kind')
      .distinct()
      .where('kind', 'in', kinds)
      .where((w) => w.or([w.and([w('status', '=', 'queued'), w('run_at', '<=', now)]), w.and([w('status', '=', 'running'), w('locked_until', '<', now)])]))
      .execute();
    return rows.map((r) => r.kind);
  }

  async heartbeat(id: string, owner: string, lockedUntil: number, now: number) {
    const r = await this.db
      .updateTable('jobs')
      .set({ locked_until: lockedUntil, updated_at: now })
      .where('id', '=', id)
      .where('locked_by', '=', owner)
      .where('status', '=', 'running')
      .returning('cancel_requested')
      .executeTakeFirst();
    return r ? { cancelRequested: Boolean(r.cancel_requested) } : undefined;
  }

  async progress(id: string, owner: string, progress: unknown, now: number) {
    await this.db.updateTable('jobs').set({ progress: toJson(progress), updated_at: now }).where('id', '=', id).where('locked_by', '=', owner).execute();
  }

  async finish(id: string, owner: string, now: number, outcome: { status: 'succeeded' | 'cancelled'; result?: unknown }) {
    await this.db
      .updateTable('jobs')
      .set({ status: outcome.status, result: toJson(outcome.result), active_key: null, locked_until: null, finished_at: now, updated_at: now })
      .where('id', '=', id)
      .where('locked_by', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  async fail(id: string, owner: string, now: number, error: string, retryAt: number | undefined) {
    const set =
      retryAt === undefined
        ? { status: 'failed', last_error: error, active_key: null, locked_until: null, finished_at: now, updated_at: now }
        : { status: 'queued', last_error: error, run_at: retryAt, locked_by: null, locked_until: null, updated_at: now };
    await this.db.updateTable('jobs').set(set).where('id', '=', id).where('locked_by', '=', owner).where('status', '=', 'running').execute();
  }

  async cancel(id: string, now: number) {
    await this.db
      .updateTable('jobs')
      .set({ status: 'cancelled', active_key: null, finished_at: now, updated_at: now, cancel_requested: 1 })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .execute();
    await this.db.updateTable('jobs').set({ cancel_requested: 1, updated_at: now }).where('id', '=', id).where('status', '=', 'running').execute();
    return this.get(id);
  }

  async get(id: string) {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toJob(r);
  }

  async list(q: { kind?: string; status?: JobStatus } & PageRequest): Promise<Page<Job>> {
    let base = this.db.selectFrom('jobs');
    if (q.kind) base = base.where('kind', '=', q.kind);
    if (q.status) base = base.where('status', '=', q.status);
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toJob), page: q.page, perPage: q.perPage, total: Number(total.n) };
  }

  async purgeFinished(before: number) {
    const r = await this.db.deleteFrom('jobs').where('status', 'in', ['succeeded', 'failed', 'cancelled']).where('finished_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

const toSchedule = (r: SchedulesTable): Schedule => ({
  name: r.name,
  cron: r.cron,
  kind: r.kind,
  payload: fromJson(r.payload),
  enabled: Boolean(r.enabled),
  nextAt: Number(r.next_at),
  lastFiredAt: r.last_fired_at == null ? null : Number(r.last_fired_at),
});

export class KyselyScheduleStore implements ScheduleStore {
  constructor(private readonly db: Db) {}

  async put(s: Schedule) {
    const row = { name: s.name, cron: s.cron, kind: s.kind, payload: toJson(s.payload), enabled: s.enabled ? 1 : 0, next_at: s.nextAt, last_fired_at: s.lastFiredAt };
    await this.db
      .insertInto('schedules')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ cron: row.cron, kind: row.kind, payload: row.payload, enabled: row.enabled, next_at: row.next_at }))
      .execute();
  }

  async get(name: string) {
    const r = await this.db.selectFrom('schedules').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toSchedule(r);
  }

  async list(prefix?: string) {
    let q = this.db.selectFrom('schedules').selectAll();
    if (prefix) q = q.where('name', '>=', prefix).where('name', '<', prefix + '\uffff');
    return (await q.orderBy('name').execute()).map(toSchedule);
  }

  async delete(name: string) {
    const r = await this.db.deleteFrom('schedules').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async due(now: number) {
    const rows = await this.db.selectFrom('schedules').selectAll().where('enabled', '=', 1).where('next_at', '<=', now).orderBy('next_at').execute();
    return rows.map(toSchedule);
  }

  async claimFiring(name: string, expectedNextAt: number, nextAt: number, now: number) {
    const r = await this.db
      .updateTable('schedules')
      .set({ next_at: nextAt, last_fired_at: now })
      .where('name', '=', name)
      .where('next_at', '=', expectedNextAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
