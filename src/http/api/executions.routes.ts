/**
 * /api/v1/executions: runs of cleanup, replication, scanning, GC (one model for all), with their tasks; stop one.
 * /api/v1/jobs and /api/v1/schedules: the shared job queue and its cron schedules, for admins.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Execution, ExecutionTask } from '../../domain/executions/ports.js';
import type { Job, Schedule } from '../../domain/queue/ports.js';
import { type ApiDeps, authorize, iso, NullableDate, PageFields as Page, Paged, withErrors } from './common.js';

export const ExecutionOut = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'cleanup, gc, replication, scan, ...' }),
  trigger: Type.Union([Type.Literal('manual'), Type.Literal('schedule'), Type.Literal('event')]),
  status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s))),
  subject: Type.Union([Type.String(), Type.Null()], { description: 'what it ran on, e.g. a registry; null for system-wide runs' }),
  params: Type.Any(),
  counts: Type.Record(Type.String(), Type.Number()),
  message: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: NullableDate,
  endedAt: NullableDate,
  stopRequested: Type.Boolean(),
});
export const TaskOut = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  status: Type.String(),
  message: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Any(),
  log: Type.Array(Type.String()),
  startedAt: NullableDate,
  endedAt: NullableDate,
});
const JobOut = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  priority: Type.Integer(),
  runAt: Type.String({ format: 'date-time' }),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  singletonKey: Type.Union([Type.String(), Type.Null()]),
  lockedBy: Type.Union([Type.String(), Type.Null()]),
  cancelRequested: Type.Boolean(),
  progress: Type.Any(),
  result: Type.Any(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: NullableDate,
});
const ScheduleOut = Type.Object({
  name: Type.String(),
  cron: Type.String({ description: '5 fields, UTC' }),
  kind: Type.String(),
  enabled: Type.Boolean(),
  nextAt: Type.String({ format: 'date-time' }),
  lastFiredAt: NullableDate,
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const executionView = (e: Execution) => ({ ...e, createdAt: iso(e.createdAt)!, startedAt: iso(e.startedAt), endedAt: iso(e.endedAt) });
export const taskView = (t: ExecutionTask) => ({ ...t, startedAt: iso(t.startedAt), endedAt: iso(t.endedAt) });
const jobView = (j: Job) => ({ ...j, runAt: iso(j.runAt)!, createdAt: iso(j.createdAt)!, finishedAt: iso(j.finishedAt) });
const scheduleView = (s: Schedule) => ({ name: s.name, cron: s.cron, kind: s.kind, enabled: s.enabled, nextAt: iso(s.nextAt)!, lastFiredAt: iso(s.lastFiredAt) });

export function executionRoutes(app: FastifyInstance, deps: ApiDeps) {
  app.get(
    '/executions',
    {
      schema: {
        tags: ['executions'],
        summary: 'List executions (newest first)',
        querystring: Type.Object({
          ...Page,
          kind: Type.Optional(Type.String({ maxLength: 64 })),
          subject: Type.Optional(Type.String({ maxLength: 255, description: 'e.g. a registry name' })),
          status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s)))),
        }),
        response: withErrors({ 200: Paged(ExecutionOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'execution:view');
      const q = req.query as { page: number; perPage: number; kind?: string; subject?: string; status?: Execution['status'] };
      const page = await deps.executions.list(q);
      return { ...page, items: page.items.map(executionView) };
    },
  );

  app.get('/executions/:id', { schema: { tags: ['executions'], summary: 'Get an execution', params: IdParams, response: withErrors({ 200: ExecutionOut }) } }, async (req) => {
    await authorize(deps, req, 'execution:view');
    return executionView(await deps.executions.get((req.params as { id: string }).id));
  });

  app.get(
    '/executions/:id/tasks',
    {
      schema: {
        tags: ['executions'],
        summary: "An execution's tasks (one per artifact or repository), in order, with their log lines",
        params: IdParams,
        querystring: Type.Object({ ...Page, status: Type.Optional(Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped', 'stopped'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(TaskOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'execution:view');
      const q = req.query as { page: number; perPage: number; status?: ExecutionTask['status'] };
      const page = await deps.executions.tasks((req.params as { id: string }).id, q);
      return { ...page, items: page.items.map(taskView) };
    },
  );

  app.post('/executions/:id/stop', { schema: { tags: ['executions'], summary: 'Stop a queued or running execution', params: IdParams, response: withErrors({ 200: ExecutionOut }) } }, async (req) => {
    await authorize(deps, req, 'execution:stop');
    return executionView(await deps.executions.stop((req.params as { id: string }).id));
  });

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'The shared job queue (admins)',
        querystring: Type.Object({ ...Page, kind: Type.Optional(Type.String({ maxLength: 64 })), status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(JobOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'jobs:manage');
      const page = await deps.jobs.list(req.query as { page: number; perPage: number; kind?: string; status?: Job['status'] });
      return { ...page, items: page.items.map(jobView) };
    },
  );

  app.get('/jobs/:id', { schema: { tags: ['jobs'], summary: 'Get a job (admins)', params: IdParams, response: withErrors({ 200: JobOut }) } }, async (req) => {
    await authorize(deps, req, 'jobs:manage');
    return jobView(await deps.jobs.get((req.params as { id: string }).id));
  });

  app.post('/jobs/:id/cancel', { schema: { tags: ['jobs'], summary: 'Cancel a queued job, or ask a running one to stop (admins)', params: IdParams, response: withErrors({ 200: JobOut }) } }, async (req) => {
    await authorize(deps, req, 'jobs:manage');
    return jobView(await deps.jobs.cancel((req.params as { id: string }).id));
  });

  app.get('/schedules', { schema: { tags: ['jobs'], summary: 'Cron schedules (UTC) and when each fires next (admins)', response: withErrors({ 200: Type.Object({ items: Type.Array(ScheduleOut) }) }) } }, async (req) => {
    await authorize(deps, req, 'jobs:manage');
    return { items: (await deps.jobs.listSchedules()).map(scheduleView) };
  });
}
