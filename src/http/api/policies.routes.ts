/**
 * /api/v1/registries/{name}/cleanup-policies, /protection-policies, /cleanup/{test-run,run,schedule,executions}:
 * a registry's image cleanup and protection (the guide's "Container Image Cleanup" and "Container Image Protection").
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Execution } from '../../domain/executions/ports.js';
import { describePolicy, KEEP_KINDS, type Policy, type PolicyInput, type PolicyKind } from '../../domain/policies/model.js';
import type { Schedule } from '../../domain/queue/ports.js';
import { actor, type ApiDeps, authorize, iso, NullableDate, PageFields, Paged, withErrors } from './common.js';

const Syntax = Type.Union([Type.Literal('glob'), Type.Literal('regex')], { description: 'glob: `**` any path, `*` one segment, `{a,b}` either; regex: anchored to the whole name' });
const Mode = Type.Union([Type.Literal('matching'), Type.Literal('excluding')]);
const ImageFilter = Type.Object(
  { pattern: Type.String({ minLength: 1, maxLength: 256 }), syntax: Type.Optional(Syntax), mode: Type.Optional(Mode) },
  { additionalProperties: false, description: "which images (paths inside the registry, e.g. `team/app`); default every image (`**`)" },
);
const TagFilter = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 256 }),
    syntax: Type.Optional(Syntax),
    mode: Type.Optional(Mode),
    untagged: Type.Optional(Type.Boolean({ description: 'also select artifacts with no tag; default false' })),
  },
  { additionalProperties: false, description: 'which artifacts, by their tags (an artifact is selected when any of its tags is); default every tagged artifact' },
);
const Rule = Type.Object(
  { keep: Type.Union(KEEP_KINDS.map((k) => Type.Literal(k))), n: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })) },
  { additionalProperties: false, description: 'what the policy keeps of the artifacts it selects; it deletes the rest. latestPushed/latestPulled: N artifacts per image; pushedWithinDays/pulledWithinDays: N days; nothing: delete them all' },
);
const PolicyOut = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('cleanup'), Type.Literal('protection')]),
  imageFilter: Type.Object({ pattern: Type.String(), syntax: Syntax, mode: Mode }),
  tagFilter: Type.Object({ pattern: Type.String(), syntax: Syntax, mode: Mode, untagged: Type.Boolean() }),
  rule: Type.Union([Type.Object({ keep: Type.String(), n: Type.Optional(Type.Integer()) }), Type.Null()]),
  enabled: Type.Boolean(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});
const ScheduleOut = Type.Object({ cron: Type.Union([Type.String(), Type.Null()], { description: '5 fields, UTC; null: no schedule' }), nextAt: NullableDate, lastFiredAt: NullableDate });
const ExecutionOut = Type.Object({
  id: Type.String(),
  trigger: Type.String(),
  status: Type.String(),
  dryRun: Type.Boolean(),
  counts: Type.Record(Type.String(), Type.Number()),
  message: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: NullableDate,
  endedAt: NullableDate,
});

const RegParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }) });
const PolicyParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }), id: Type.String({ minLength: 1, maxLength: 64 }) });
type P = { registry: string; id?: string };

const policyView = (p: Policy) => ({ id: p.id, kind: p.kind, imageFilter: p.imageFilter, tagFilter: p.tagFilter, rule: p.rule, enabled: p.enabled, description: describePolicy(p), createdAt: iso(p.createdAt)!, createdBy: p.createdBy });
const scheduleView = (s: Schedule | undefined) => ({ cron: s?.cron ?? null, nextAt: iso(s?.nextAt), lastFiredAt: iso(s?.lastFiredAt) });
const executionView = (e: Execution) => ({
  id: e.id,
  trigger: e.trigger,
  status: e.status,
  dryRun: Boolean((e.params as { dryRun?: boolean } | null)?.dryRun),
  counts: e.counts,
  message: e.message,
  createdBy: e.createdBy,
  createdAt: iso(e.createdAt)!,
  startedAt: iso(e.startedAt),
  endedAt: iso(e.endedAt),
});

export function policyRoutes(app: FastifyInstance, deps: ApiDeps) {
  const { policies, cleanup } = deps;
  if (!policies || !cleanup) return;
  const reg = (req: FastifyRequest) => (req.params as P).registry;
  const id = (req: FastifyRequest) => (req.params as P).id!;

  for (const [kind, path, label] of [
    ['cleanup', 'cleanup-policies', 'cleanup'],
    ['protection', 'protection-policies', 'protection'],
  ] as [PolicyKind, string, string][]) {
    const view = kind === 'cleanup' ? 'cleanup:view' : 'protection:view';
    const change = kind === 'cleanup' ? 'cleanup:change' : 'protection:change';
    const body =
      kind === 'cleanup'
        ? Type.Object({ imageFilter: Type.Optional(ImageFilter), tagFilter: Type.Optional(TagFilter), rule: Rule }, { additionalProperties: false })
        : Type.Object({ imageFilter: Type.Optional(ImageFilter), tagFilter: Type.Optional(TagFilter) }, { additionalProperties: false });
    const tags = [kind === 'cleanup' ? 'cleanup' : 'protection'];

    app.get(`/registries/:registry/${path}`, { schema: { tags, summary: `List the registry's ${label} policies (oldest first)`, params: RegParams, response: withErrors({ 200: Type.Object({ items: Type.Array(PolicyOut) }) }) } }, async (req) => {
      const p = await authorize(deps, req, view, { registry: reg(req) });
      return { items: (await policies.list(reg(req), kind, actor(req, p))).map(policyView) };
    });
    app.post(
      `/registries/:registry/${path}`,
      { schema: { tags, summary: `Add a ${label} policy (enabled; at most 15 per registry; duplicates refused)`, params: RegParams, body, response: withErrors({ 201: PolicyOut }) } },
      async (req, reply) => {
        const p = await authorize(deps, req, change, { registry: reg(req) });
        return reply.code(201).send(policyView(await policies.create(reg(req), kind, req.body as PolicyInput, actor(req, p))));
      },
    );
    app.get(`/registries/:registry/${path}/:id`, { schema: { tags, summary: `Get a ${label} policy`, params: PolicyParams, response: withErrors({ 200: PolicyOut }) } }, async (req) => {
      const p = await authorize(deps, req, view, { registry: reg(req) });
      return policyView(await policies.get(reg(req), kind, id(req), actor(req, p)));
    });
    app.patch(
      `/registries/:registry/${path}/:id`,
      { schema: { tags, summary: `Enable or disable a ${label} policy`, params: PolicyParams, body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), response: withErrors({ 200: PolicyOut }) } },
      async (req) => {
        const p = await authorize(deps, req, change, { registry: reg(req) });
        return policyView(await policies.setEnabled(reg(req), kind, id(req), (req.body as { enabled: boolean }).enabled, actor(req, p)));
      },
    );
    app.delete(`/registries/:registry/${path}/:id`, { schema: { tags, summary: `Delete a ${label} policy`, params: PolicyParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
      const p = await authorize(deps, req, change, { registry: reg(req) });
      await policies.delete(reg(req), kind, id(req), actor(req, p));
      return reply.code(204).send();
    });
  }

  for (const [path, dryRun, summary] of [
    ['test-run', true, 'Test run: judge every artifact (KEEP / DELETE / PROTECTED) and record it in the history; delete nothing'],
    ['run', false, "Run the registry's enabled cleanup policies now"],
  ] as [string, boolean, string][]) {
    app.post(`/registries/:registry/cleanup/${path}`, { schema: { tags: ['cleanup'], summary, params: RegParams, response: withErrors({ 202: ExecutionOut }) } }, async (req, reply) => {
      const p = await authorize(deps, req, 'cleanup:run', { registry: reg(req) });
      return reply.code(202).send(executionView(await cleanup.start(reg(req), dryRun, actor(req, p))));
    });
  }

  app.get('/registries/:registry/cleanup/schedule', { schema: { tags: ['cleanup'], summary: "The registry's cleanup cycle (cron, UTC)", params: RegParams, response: withErrors({ 200: ScheduleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'cleanup:view', { registry: reg(req) });
    return scheduleView(await policies.schedule(reg(req), actor(req, p)));
  });
  app.put(
    '/registries/:registry/cleanup/schedule',
    {
      schema: {
        tags: ['cleanup'],
        summary: 'Set (cron: 5 fields, UTC, e.g. "0 3 * * *") or remove (cron: null) the cleanup cycle',
        params: RegParams,
        body: Type.Object({ cron: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]) }, { additionalProperties: false }),
        response: withErrors({ 200: ScheduleOut }),
      },
    },
    async (req) => {
      const p = await authorize(deps, req, 'cleanup:change', { registry: reg(req) });
      return scheduleView(await policies.setSchedule(reg(req), (req.body as { cron: string | null }).cron, actor(req, p)));
    },
  );

  app.get(
    '/registries/:registry/cleanup/executions',
    {
      schema: {
        tags: ['cleanup'],
        summary: "The registry's cleanup history (runs and test runs, newest first); each run's artifacts and verdicts are its tasks: GET /api/v1/executions/{id}/tasks",
        params: RegParams,
        querystring: Type.Object(PageFields),
        response: withErrors({ 200: Paged(ExecutionOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'cleanup:view', { registry: reg(req) });
      const r = await deps.registries.get(reg(req));
      const page = await deps.executions.list({ kind: 'cleanup', subject: r.name, ...(req.query as { page: number; perPage: number }) });
      return { ...page, items: page.items.map(executionView) };
    },
  );
}
