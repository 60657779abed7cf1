/**
 * /api/v1/registries/{name}/replications: a registry's replication rules (the guide's "Replicate a Container Image"):
 * create (to an existing endpoint, or one created on the way), change, delete, Refresh (check the target), Run
 * Replication, Replication History (runs, and each run's artifacts), stop a run.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EndpointInput } from '../../domain/endpoints/model.js';
import type { ExecutionTask } from '../../domain/executions/ports.js';
import type { RuleInput } from '../../domain/replication/model.js';
import type { RuleView } from '../../domain/replication/replication.service.js';
import { actor, type ApiDeps, authorize, iso, NullableDate, PageFields, Paged, withErrors } from './common.js';
import { ExecutionOut, executionView, TaskOut, taskView } from './executions.routes.js';

const Syntax = Type.Union([Type.Literal('glob'), Type.Literal('regex')], { description: 'glob (default): `**` any path, `*` one segment, `{a,b}` either; regex: anchored to the whole name' });
const Mode = Type.Union([Type.Literal('matching'), Type.Literal('excluding')], { description: 'default matching' });
const ImageFilter = Type.Object(
  { pattern: Type.String({ minLength: 1, maxLength: 256 }), syntax: Type.Optional(Syntax), mode: Type.Optional(Mode) },
  { additionalProperties: false, description: 'which images (paths inside the registry, e.g. `team/app`); null or absent: every image' },
);
const TagFilter = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 256 }),
    syntax: Type.Optional(Syntax),
    mode: Type.Optional(Mode),
    untagged: Type.Optional(Type.Boolean({ description: 'also replicate artifacts with no tag; default false' })),
  },
  { additionalProperties: false, description: 'which artifacts, by their tags; null or absent: every tagged artifact' },
);
const NewEndpoint = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    provider: Type.String({ maxLength: 32, description: 'ncr, ecr, acr, gcr, docker-hub, docker-registry, harbor, quay (GET /api/v1/endpoint-providers)' }),
    url: Type.String({ minLength: 1, maxLength: 500 }),
    accessId: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    secret: Type.Optional(Type.Union([Type.String({ maxLength: 16384 }), Type.Null()])),
    caPem: Type.Optional(Type.Union([Type.String({ maxLength: 16384 }), Type.Null()])),
  },
  { additionalProperties: false, description: 'a new endpoint, created for the rule (see /api/v1/endpoints)' },
);
const settings = {
  name: Type.String({ minLength: 1, maxLength: 64 }),
  description: Type.String({ maxLength: 500 }),
  targetRegistry: Type.String({ minLength: 1, maxLength: 200, description: 'the path prefix at the target: REG/app is copied to TARGET/app; default the source registry\'s name' }),
  imageFilter: Type.Union([ImageFilter, Type.Null()]),
  tagFilter: Type.Union([TagFilter, Type.Null()]),
  enabled: Type.Boolean({ description: 'default true; the status is Enabled once the target was also checked reachable and writable' }),
};
const CreateBody = Type.Object(
  {
    name: settings.name,
    endpoint: Type.Union([Type.String({ minLength: 1, maxLength: 128, description: "an endpoint's id or name" }), NewEndpoint]),
    description: Type.Optional(settings.description),
    targetRegistry: Type.Optional(settings.targetRegistry),
    imageFilter: Type.Optional(settings.imageFilter),
    tagFilter: Type.Optional(settings.tagFilter),
    enabled: Type.Optional(settings.enabled),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Partial(Type.Object({ ...settings, endpoint: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }), { additionalProperties: false });

const RuleOut = Type.Object({
  id: Type.String(),
  registry: Type.String(),
  name: Type.String(),
  description: Type.String(),
  endpointId: Type.String(),
  endpoint: Type.String({ description: "the endpoint's name" }),
  targetRegistry: Type.String(),
  imageFilter: Type.Union([Type.Object({ pattern: Type.String(), syntax: Type.String(), mode: Type.String() }), Type.Null()]),
  tagFilter: Type.Union([Type.Object({ pattern: Type.String(), syntax: Type.String(), mode: Type.String(), untagged: Type.Boolean() }), Type.Null()]),
  filters: Type.String({ description: 'the filters in words' }),
  enabled: Type.Boolean(),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { description: 'Enabled: turned on and the target checked reachable and writable' }),
  statusReason: Type.Union([Type.String(), Type.Null()]),
  checkedAt: NullableDate,
  checkError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

const RegParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }) });
const RuleParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }), id: Type.String({ minLength: 1, maxLength: 128, description: 'id or name' }) });
const RunParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }), id: Type.String({ minLength: 1, maxLength: 128 }), executionId: Type.String({ minLength: 1, maxLength: 64 }) });
type P = { registry: string; id: string; executionId: string };

const ruleView = (r: RuleView) => {
  const { registryId: _r, ...rest } = r;
  return { ...rest, checkedAt: iso(r.checkedAt), createdAt: iso(r.createdAt)!, updatedAt: iso(r.updatedAt)! };
};

export function replicationRoutes(app: FastifyInstance, deps: ApiDeps) {
  const replication = deps.replication!;
  const tags = ['replication'];
  const reg = (req: FastifyRequest) => ({ registry: (req.params as P).registry });

  app.get('/registries/:registry/replications', { schema: { tags, summary: "List the registry's replications", params: RegParams, response: withErrors({ 200: Type.Object({ items: Type.Array(RuleOut) }) }) } }, async (req) => {
    const p = await authorize(deps, req, 'replication:view', reg(req));
    return { items: (await replication.list((req.params as P).registry, actor(req, p))).map(ruleView) };
  });

  app.post(
    '/registries/:registry/replications',
    {
      schema: {
        tags,
        summary: 'Create Replication: copy this registry\'s images to an endpoint (Disabled until the target is checked reachable and writable)',
        params: RegParams,
        body: CreateBody,
        response: withErrors({ 201: RuleOut }),
      },
    },
    async (req, reply) => {
      const p = await authorize(deps, req, 'replication:change', reg(req));
      return reply.code(201).send(ruleView(await replication.create((req.params as P).registry, req.body as RuleInput & { endpoint: string | EndpointInput }, actor(req, p))));
    },
  );

  app.get('/registries/:registry/replications/:id', { schema: { tags, summary: 'Get a replication', params: RuleParams, response: withErrors({ 200: RuleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'replication:view', reg(req));
    const { registry, id } = req.params as P;
    return ruleView(await replication.get(registry, id, actor(req, p)));
  });

  app.patch('/registries/:registry/replications/:id', { schema: { tags, summary: 'Change a replication (only the fields given)', params: RuleParams, body: UpdateBody, response: withErrors({ 200: RuleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'replication:change', reg(req));
    const { registry, id } = req.params as P;
    return ruleView(await replication.update(registry, id, req.body as RuleInput & { endpoint?: string }, actor(req, p)));
  });

  app.delete('/registries/:registry/replications/:id', { schema: { tags, summary: 'Delete a replication (what it copied stays at the target)', params: RuleParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'replication:change', reg(req));
    const { registry, id } = req.params as P;
    await replication.delete(registry, id, actor(req, p));
    return reply.code(204).send();
  });

  app.post('/registries/:registry/replications/:id/check', { schema: { tags, summary: 'Refresh: check the target now (reachable, credentials accepted, an upload can start) and return the status', params: RuleParams, response: withErrors({ 200: RuleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'replication:change', reg(req));
    const { registry, id } = req.params as P;
    return ruleView(await replication.refresh(registry, id, actor(req, p)));
  });

  app.post('/registries/:registry/replications/:id/run', { schema: { tags, summary: 'Run Replication: copy every artifact the replication selects (one manual run at a time)', params: RuleParams, response: withErrors({ 202: ExecutionOut }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'replication:change', reg(req));
    const { registry, id } = req.params as P;
    return reply.code(202).send(executionView(await replication.start(registry, id, actor(req, p))));
  });

  app.get(
    '/registries/:registry/replications/:id/executions',
    {
      schema: {
        tags,
        summary: 'Replication History: runs (manual, and automatic ones per pushed artifact), newest first; counts: artifacts, copied, skipped, failed, bytes',
        params: RuleParams,
        querystring: Type.Object({ ...PageFields, status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(ExecutionOut) }),
      },
    },
    async (req) => {
      const p = await authorize(deps, req, 'replication:view', reg(req));
      const { registry, id } = req.params as P;
      const page = await replication.history(registry, id, req.query as { page: number; perPage: number }, actor(req, p));
      return { ...page, items: page.items.map(executionView) };
    },
  );

  app.get(
    '/registries/:registry/replications/:id/executions/:executionId/tasks',
    {
      schema: {
        tags,
        summary: "A run's artifacts: status succeeded (copied), skipped (same digest at the target) or failed (message: the reason); detail: bytes, durationMs, blobs, target",
        params: RunParams,
        querystring: Type.Object({ ...PageFields, status: Type.Optional(Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped', 'stopped'].map((s) => Type.Literal(s)))) }),
        response: withErrors({ 200: Paged(TaskOut) }),
      },
    },
    async (req) => {
      const p = await authorize(deps, req, 'replication:view', reg(req));
      const { registry, id, executionId } = req.params as P;
      const page = await replication.tasks(registry, id, executionId, req.query as { page: number; perPage: number; status?: ExecutionTask['status'] }, actor(req, p));
      return { ...page, items: page.items.map(taskView) };
    },
  );

  app.post('/registries/:registry/replications/:id/executions/:executionId/stop', { schema: { tags, summary: 'Stop a queued or running run', params: RunParams, response: withErrors({ 200: ExecutionOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'replication:change', reg(req));
    const { registry, id, executionId } = req.params as P;
    return executionView(await replication.stop(registry, id, executionId, actor(req, p)));
  });
}
