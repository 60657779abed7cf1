/**
 * /api/v1/endpoints: remote registries (replication targets and image cache sources; the console's "Image Cache"
 * tab): create, change, check (Refresh), delete. The secret is write-only: responses say only whether one is set.
 * /api/v1/endpoint-providers: the kinds of remote registry and what their access id and secret are.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PROVIDER_TYPES, PROVIDERS, type EndpointInput } from '../../domain/endpoints/model.js';
import type { EndpointView } from '../../domain/endpoints/service.js';
import { actor, type ApiDeps, authorize, iso, NullableDate, withErrors } from './common.js';

const Literals = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));

const EndpointOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  provider: Literals(PROVIDER_TYPES),
  url: Type.String(),
  accessId: Type.Union([Type.String(), Type.Null()]),
  secretSet: Type.Boolean({ description: 'a secret is set (it is never shown again)' }),
  caPem: Type.Union([Type.String(), Type.Null()]),
  status: Literals(['unchecked', 'reachable', 'unreachable']),
  checkedAt: NullableDate,
  checkError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

const settings = {
  name: Type.String({ minLength: 1, maxLength: 64 }),
  description: Type.String({ maxLength: 500 }),
  provider: Literals(PROVIDER_TYPES),
  url: Type.String({ minLength: 1, maxLength: 500, description: "the registry's address, scheme://host[:port] (Docker Hub: https://hub.docker.com)" }),
  accessId: Type.Union([Type.String({ maxLength: 256 }), Type.Null()], { description: 'user name, access key id, _json_key (GCR), json_file (Quay); null for anonymous' }),
  secret: Type.Union([Type.String({ maxLength: 16384 }), Type.Null()], { description: 'password, secret key, GCR JSON key or Quay json_file; write-only; null or "" removes it' }),
  caPem: Type.Union([Type.String({ maxLength: 16384 }), Type.Null()], { description: 'an extra CA certificate (PEM) trusted for this endpoint' }),
};
const CreateBody = Type.Object(
  {
    ...settings,
    description: Type.Optional(settings.description),
    accessId: Type.Optional(settings.accessId),
    secret: Type.Optional(settings.secret),
    caPem: Type.Optional(settings.caPem),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Partial(Type.Object(settings, { additionalProperties: false }), { additionalProperties: false });
const Params = Type.Object({ endpoint: Type.String({ maxLength: 128, description: 'id or name' }) });
type P = { endpoint: string };

const out = (e: EndpointView) => ({ ...e, checkedAt: iso(e.checkedAt), createdAt: iso(e.createdAt)!, updatedAt: iso(e.updatedAt)! });

export function endpointRoutes(app: FastifyInstance, deps: ApiDeps) {
  const tags = ['endpoints'];
  const endpoints = deps.endpoints!;

  app.get(
    '/endpoint-providers',
    {
      schema: {
        tags,
        summary: 'The kinds of remote registry (the guide\'s "Create Image Cache" table) and what their access id and secret are',
        response: withErrors({
          200: Type.Object({ items: Type.Array(Type.Object({ provider: Type.String(), title: Type.String(), urlExample: Type.String(), accessId: Type.String(), secret: Type.String() })) }),
        }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'endpoint:view');
      return { items: PROVIDER_TYPES.map((p) => ({ provider: p, title: PROVIDERS[p].title, urlExample: PROVIDERS[p].urlExample, accessId: PROVIDERS[p].accessId, secret: PROVIDERS[p].secret })) };
    },
  );

  app.get('/endpoints', { schema: { tags, summary: 'List remote registry endpoints', response: withErrors({ 200: Type.Object({ items: Type.Array(EndpointOut) }) }) } }, async (req) => {
    const p = await authorize(deps, req, 'endpoint:view');
    return { items: (await endpoints.list(actor(req, p))).map(out) };
  });

  app.post('/endpoints', { schema: { tags, summary: 'Create an endpoint', body: CreateBody, response: withErrors({ 201: EndpointOut }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'endpoint:change');
    return reply.code(201).send(out(await endpoints.create(req.body as EndpointInput, actor(req, p))));
  });

  app.get('/endpoints/:endpoint', { schema: { tags, summary: 'Get an endpoint', params: Params, response: withErrors({ 200: EndpointOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'endpoint:view');
    return out(await endpoints.get((req.params as P).endpoint, actor(req, p)));
  });

  app.patch('/endpoints/:endpoint', { schema: { tags, summary: 'Change an endpoint (only the fields given)', params: Params, body: UpdateBody, response: withErrors({ 200: EndpointOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'endpoint:change');
    return out(await endpoints.update((req.params as P).endpoint, req.body as EndpointInput, actor(req, p)));
  });

  app.post(
    '/endpoints/:endpoint/check',
    { schema: { tags, summary: 'Refresh: ask the remote registry now whether it answers and accepts the credentials; the outcome is kept as status', params: Params, response: withErrors({ 200: EndpointOut }) } },
    async (req) => {
      const p = await authorize(deps, req, 'endpoint:change');
      return out(await endpoints.check((req.params as P).endpoint, actor(req, p)));
    },
  );

  app.delete('/endpoints/:endpoint', { schema: { tags, summary: 'Delete an endpoint (refused while a replication rule or an image cache registry uses it)', params: Params, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'endpoint:change');
    await endpoints.delete((req.params as P).endpoint, actor(req, p));
    return reply.code(204).send();
  });
}
