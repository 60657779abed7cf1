/** Executions and their tasks (domain/executions). Counters are JSON, updated under a row lock. */
import type { Execution, ExecutionStatus, ExecutionStore, ExecutionTask, TaskStatus } from '../../../domain/executions/ports.js';
import { offsetOf, type Page, type PageRequest } from '../../../domain/pagination.js';
import type { Dialect } from './migrations.js';
import type { ExecutionsTable, ExecutionTasksTable } from './schema.js';
import { fromJson, toJson, withTx, type Db } from './util.js';

const toExecution = (r: ExecutionsTable): Execution => ({
  id: r.id,
  kind: r.kind,
  trigger: r.trigger as Execution['trigger'],
  status: r.status as ExecutionStatus,
  subject: r.subject,
  params: fromJson(r.params),
  counts: fromJson<Record<string, number>>(r.counts) ?? {},
  message: r.message,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  startedAt: r.started_at == null ? null : Number(r.started_at),
  endedAt: r.ended_at == null ? null : Number(r.ended_at),
  stopRequested: Boolean(r.stop_requested),
  jobId: r.job_id,
});

const toTask = (r: ExecutionTasksTable): ExecutionTask => ({
  id: r.id,
  executionId: r.execution_id,
  subject: r.subject,
  status: r.status as TaskStatus,
  message: r.message,
  detail: fromJson(r.detail),
  log: fromJson<string[]>(r.log) ?? [],
  startedAt: r.started_at == null ? null : Number(r.started_at),
  endedAt: r.ended_at == null ? null : Number(r.ended_at),
});

export class KyselyExecutionStore implements ExecutionStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async create(e: Execution) {
    await this.db
      .insertInto('executions')
      .values({
        id: e.id,
        kind: e.kind,
        trigger: e.trigger,
        status: e.status,
        subject: e.subject,
        params: toJson(e.params),
        counts: toJson(e.counts),
        message: e.message,
        created_by: e.createdBy,
        created_at: e.createdAt,
        started_at: e.startedAt,
        ended_at: e.endedAt,
        stop_requested: e.stopRequested ? 1 : 0,
        job_id: e.jobId,
      })
      .execute();
  }

  async get(id: string) {
    const r = await this.db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toExecution(r);
  }

  async list(q: { kind?: string; subject?: string; status?: ExecutionStatus } & PageRequest): Promise<Page<Execution>> {
    let base = this.db.selectFrom('executions');
    if (q.kind) base = base.where('kind', '=', q.kind);
    if (q.subject) base = base.where('subject', '=', q.subject);
    if (q.status) base = base.where('status', '=', q.status);
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toExecution), page: q.page, perPage: q.perPage, total: Number(total.n) };
  }

  async update(id: string, patch: Parameters<ExecutionStore['update']>[1]) {
    await withTx(this.db, async (tx) => {
      const set: Partial<ExecutionsTable> = {};
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.message !== undefined) set.message = patch.message;
      if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
      if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
      if (patch.stopRequested !== undefined) set.stop_requested = patch.stopRequested ? 1 : 0;
      if (patch.jobId !== undefined) set.job_id = patch.jobId;
      if (patch.addCounts && Object.keys(patch.addCounts).length > 0) {
        const row = await tx
          .selectFrom('executions')
          .select('counts')
          .where('id', '=', id)
          .$if(this.dialect === 'postgres', (q) => q.forUpdate())
          .executeTakeFirst();
        const counts = fromJson<Record<string, number>>(row?.counts) ?? {};
        for (const [k, v] of Object.entries(patch.addCounts)) counts[k] = (counts[k] ?? 0) + v;
        set.counts = toJson(counts);
      }
      if (Object.keys(set).length > 0) await tx.updateTable('executions').set(set).where('id', '=', id).execute();
    });
  }

  async addTasks(tasks: ExecutionTask[]) {
    if (tasks.length === 0) return;
    await withTx(this.db, async (tx) => {
      // the execution's row lock serialises concurrent adds, so each task gets its own seq
      await tx.selectFrom('executions').select('id').where('id', '=', tasks[0].executionId).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
      const r = await tx.selectFrom('execution_tasks').select((eb) => eb.fn.max('seq').as('m')).where('execution_id', '=', tasks[0].executionId).executeTakeFirst();
      const base = Number(r?.m ?? 0);
      await tx
        .insertInto('execution_tasks')
        .values(
          tasks.map((t, i) => ({
            id: t.id,
            execution_id: t.executionId,
            seq: base + i + 1,
            subject: t.subject,
            status: t.status,
            message: t.message,
            detail: toJson(t.detail),
            log: toJson(t.log),
            started_at: t.startedAt,
            ended_at: t.endedAt,
          })),
        )
        .execute();
    });
  }

  async updateTask(id: string, patch: Parameters<ExecutionStore['updateTask']>[1]) {
    await withTx(this.db, async (tx) => {
      const set: Partial<ExecutionTasksTable> = {};
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.message !== undefined) set.message = patch.message;
      if (patch.detail !== undefined) set.detail = toJson(patch.detail);
      if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
      if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
      if (patch.appendLog && patch.appendLog.length > 0) {
        const row = await tx.selectFrom('execution_tasks').select('log').where('id', '=', id).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
        set.log = toJson([...(fromJson<string[]>(row?.log) ?? []), ...patch.appendLog].slice(-1000));
      }
      if (Object.keys(set).length > 0) await tx.updateTable('execution_tasks').set(set).where('id', '=', id).execute();
    });
  }

  async tasks(executionId: string, q: { status?: TaskStatus } & PageRequest): Promise<Page<ExecutionTask>> {
    let base = this.db.selectFrom('execution_tasks').where('execution_id', '=', executionId);
    if (q.status) base = base.where('status', '=', q.status);
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('seq').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toTask), page: q.page, perPage: q.perPage, total: Number(total.n) };
  }

  async purge(before: number) {
    const r = await this.db.deleteFrom('executions').where('ended_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
