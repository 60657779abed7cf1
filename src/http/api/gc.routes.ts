/** /api/v1/gc: online garbage collection for admins: run now (or a dry run), its history and progress, stop, schedule. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Execution, ExecutionTask } from '../../domain/executions/ports.js';
import type { GcSchedule } from '../../domain/gc/gc.service.js';
import { actor, type ApiDeps, authorize, iso, NullableDate, PageFields as Page, Paged, withErrors } from './common.js';
import { ExecutionOut, executionView, TaskOut, taskView } from './executions.routes.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const RunIn = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'report what would be deleted (counts, and one task per item), delete nothing' })),
    deleteUntagged: Type.Optional(Type.Boolean({ default: false, description: 'first delete artifacts no tag names (index children in use and referrers of a present subject are kept; protection applies)' })),
  },
  { additionalProperties: false },
);

const ScheduleOut = Type.Object({
  cron: Type.Union([Type.String(), Type.Null()], { description: '5-field cron, UTC; null when none was ever set' }),
  enabled: Type.Boolean(),
  deleteUntagged: Type.Boolean({ description: 'scheduled runs also delete untagged artifacts' }),
  nextAt: NullableDate,
  lastFiredAt: NullableDate,
});
const ScheduleIn = Type.Object(
  {
    cron: Type.Union([Type.String({ minLength: 9, maxLength: 100 }), Type.Null()], { description: '5-field cron, UTC (e.g. "0 4 * * 0"), or null to turn the schedule off' }),
    deleteUntagged: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

const scheduleView = (s: GcSchedule) => ({ ...s, nextAt: iso(s.nextAt), lastFiredAt: iso(s.lastFiredAt) });

export function gcRoutes(app: FastifyInstance, deps: ApiDeps) {
  app.post(
    '/gc/run',
    {
      schema: {
        tags: ['gc'],
        summary: 'Start a garbage collection run now (admins); 409 while one is queued or running',
        body: RunIn,
        response: withErrors({ 202: ExecutionOut }),
      },
    },
    async (req, reply) => {
      const p = await authorize(deps, req, 'gc:run');
      const body = (req.body ?? {}) as { dryRun?: boolean; deleteUntagged?: boolean };
      const e = await deps.gc.start({ dryRun: body.dryRun, deleteUntagged: body.deleteUntagged, actor: actor(req, p) });
      return reply.code(202).send(executionView(e));
    },
  );

  app.get(
    '/gc',
    {
      schema: {
        tags: ['gc'],
        summary: 'Garbage collection runs, newest first, with their counts (admins)',
        querystring: Type.Object({ ...Page, status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(ExecutionOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'gc:view');
      const page = await deps.gc.history(req.query as { page: number; perPage: number; status?: Execution['status'] });
      return { ...page, items: page.items.map(executionView) };
    },
  );

  app.get('/gc/runs/:id', { schema: { tags: ['gc'], summary: 'One garbage collection run (admins)', params: IdParams, response: withErrors({ 200: ExecutionOut }) } }, async (req) => {
    await authorize(deps, req, 'gc:view');
    return executionView(await deps.gc.get((req.params as { id: string }).id));
  });

  app.get(
    '/gc/runs/:id/tasks',
    {
      schema: {
        tags: ['gc'],
        summary: "A run's tasks: failed deletions, deleted untagged artifacts, and (dry run) what would be deleted (admins)",
        params: IdParams,
        querystring: Type.Object({ ...Page, status: Type.Optional(Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped', 'stopped'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(TaskOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'gc:view');
      const id = (req.params as { id: string }).id;
      await deps.gc.get(id);
      const page = await deps.executions.tasks(id, req.query as { page: number; perPage: number; status?: ExecutionTask['status'] });
      return { ...page, items: page.items.map(taskView) };
    },
  );

  app.post('/gc/runs/:id/stop', { schema: { tags: ['gc'], summary: 'Stop a queued or running garbage collection run (admins)', params: IdParams, response: withErrors({ 200: ExecutionOut }) } }, async (req) => {
    await authorize(deps, req, 'gc:run');
    const id = (req.params as { id: string }).id;
    await deps.gc.get(id);
    return executionView(await deps.executions.stop(id));
  });

  app.get('/gc/schedule', { schema: { tags: ['gc'], summary: 'When garbage collection runs by itself (admins)', response: withErrors({ 200: ScheduleOut }) } }, async (req) => {
    await authorize(deps, req, 'gc:view');
    return scheduleView(await deps.gc.schedule());
  });

  app.put('/gc/schedule', { schema: { tags: ['gc'], summary: 'Set or turn off the garbage collection schedule (admins)', body: ScheduleIn, response: withErrors({ 200: ScheduleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'gc:run');
    const body = req.body as { cron: string | null; deleteUntagged?: boolean };
    return scheduleView(await deps.gc.setSchedule(body.cron, { deleteUntagged: body.deleteUntagged }, actor(req, p)));
  });
}
