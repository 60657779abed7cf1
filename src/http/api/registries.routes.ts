/** /api/v1/registries: create, list (image count, storage used and quota, address to push to), get, delete, quota. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RegistryView } from '../../domain/registry/registry.service.js';
import { NcrError } from '../../oci/errors.js';
import { actor, type ApiDeps, iso, authorize, PageQuery, pageOf, Paged, withErrors } from './common.js';

export const RegistryOut = Type.Object({
  name: Type.String(),
  address: Type.String({ description: 'prefix to tag and push images with, e.g. registry.example.com/team' }),
  privateAddress: Type.Union([Type.String(), Type.Null()], { description: "the same on the private endpoint (server.privateUrl), e.g. private-registry.example.com/team; null when there is none (the guide's Private URI)" }),
  imageCount: Type.Integer(),
  storageBytes: Type.Integer({ description: 'bytes of the distinct blobs (each counted once however many images link it) and manifests its images hold' }),
  quotaBytes: Type.Union([Type.Integer(), Type.Null()], { description: 'the most storageBytes may reach; a push beyond it is refused (403 DENIED); null for no limit' }),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Union([Type.Literal('standard'), Type.Literal('cache')], { description: 'standard, or cache: an image cache (pull-through) registry, which refuses pushes' }),
  endpoint: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], { description: "an image cache registry's source (a remote registry endpoint)" }),
});

const NameParams = Type.Object({ registry: Type.String() });

export function registryRoutes(app: FastifyInstance, deps: ApiDeps) {
  const view = (req: FastifyRequest, r: RegistryView, sources: Map<string, { id: string; name: string }>) => ({
    name: r.name,
    address: `${deps.auth.service(req)}/${r.name}`,
    privateAddress: deps.auth.privateHost() ? `${deps.auth.privateHost()}/${r.name}` : null,
    imageCount: r.imageCount,
    storageBytes: r.storageBytes,
    quotaBytes: r.quotaBytes ?? null,
    createdAt: iso(r.createdAt)!,
    createdBy: r.createdBy,
    kind: r.kind,
    endpoint: sources.get(r.name) ?? null,
  });
  const sourcesOf = async (rs: RegistryView[]) => {
    const caches = rs.filter((r) => r.kind === 'cache').map((r) => r.name);
    return caches.length && deps.cache ? deps.cache.sources(caches) : new Map<string, { id: string; name: string }>();
  };

  app.get('/registries', { schema: { tags: ['registries'], summary: 'List registries', querystring: PageQuery, response: withErrors({ 200: Paged(RegistryOut) }) } }, async (req) => {
    await authorize(deps, req, 'registry:view');
    const page = await deps.registries.list(pageOf(req.query));
    const sources = await sourcesOf(page.items);
    return { ...page, items: page.items.map((r) => view(req, r, sources)) };
  });

  app.post(
    '/registries',
    {
      schema: {
        tags: ['registries'],
        summary: 'Create a registry',
        description:
          'Names: lowercase letters and digits, separated by single ".", "_", "__" or runs of "-"; the address plus image name may be at most 255 characters. ' +
          'kind "cache" creates an image cache registry pulling from `endpoint` (id or name of a remote registry endpoint): pushes into it are refused, and it starts with the cleanup policy "delete all except artifacts pulled within 7 days".',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255 }),
            kind: Type.Optional(Type.Union([Type.Literal('standard'), Type.Literal('cache')], { default: 'standard' })),
            endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'for kind cache: the source endpoint (id or name)' })),
          },
          { additionalProperties: false },
        ),
        response: withErrors({ 201: RegistryOut }),
      },
    },
    async (req, reply) => {
      const { name, kind, endpoint } = req.body as { name: string; kind?: 'standard' | 'cache'; endpoint?: string };
      const p = await authorize(deps, req, 'registry:create', { registry: name });
      if (kind === 'cache') {
        if (!endpoint) throw new NcrError('VALIDATION_FAILED', 'an image cache registry needs its source: give endpoint (the id or name of a remote registry endpoint, /api/v1/endpoints)');
        if (!deps.cache) throw new NcrError('UNSUPPORTED', 'this server has no image cache');
        await deps.cache.createRegistry(name, endpoint, actor(req, p), deps.auth.service(req));
        const created = await deps.registries.get(name);
        return reply.code(201).send(view(req, created, await sourcesOf([created])));
      }
      if (endpoint) throw new NcrError('VALIDATION_FAILED', 'endpoint is only for kind "cache" (an image cache registry)');
      const created = await deps.registries.create(name, actor(req, p), deps.auth.service(req));
      return reply.code(201).send(view(req, created, new Map()));
    },
  );

  app.get('/registries/:registry', { schema: { tags: ['registries'], summary: 'Get a registry', params: NameParams, response: withErrors({ 200: RegistryOut }) } }, async (req) => {
    const { registry } = req.params as { registry: string };
    await authorize(deps, req, 'registry:view', { registry });
    const r = await deps.registries.get(registry);
    return view(req, r, await sourcesOf([r]));
  });

  app.put(
    '/registries/:registry/quota',
    {
      schema: {
        tags: ['registries'],
        summary: "Set or lift (null) a registry's storage quota (admins)",
        description: 'Pushes that would take storageBytes beyond quotaBytes are refused with 403 DENIED naming the quota; at 85% webhooks get QUOTA_WARNING, on a refusal QUOTA_EXCEED.',
        params: NameParams,
        // one schema with a type list, not a union: Ajv's coercion would turn null into 0 in an integer branch
        body: Type.Object({ quotaBytes: Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, description: 'bytes; null for no limit' }) }, { additionalProperties: false }),
        response: withErrors({ 200: RegistryOut }),
      },
    },
    async (req) => {
      const { registry } = req.params as { registry: string };
      const p = await authorize(deps, req, 'quota:change', { registry });
      const r = await deps.registries.setQuota(registry, (req.body as { quotaBytes: number | null }).quotaBytes, actor(req, p));
      return view(req, r, await sourcesOf([r]));
    },
  );

  app.delete(
    '/registries/:registry',
    {
      schema: {
        tags: ['registries'],
        summary: 'Delete a registry (refused while it holds images unless force=true)',
        params: NameParams,
        querystring: Type.Object({ force: Type.Boolean({ default: false }) }),
        response: withErrors({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      const { registry } = req.params as { registry: string };
      const p = await authorize(deps, req, 'registry:delete', { registry });
      await deps.registries.delete(registry, (req.query as { force: boolean }).force, actor(req, p));
      return reply.code(204).send();
    },
  );
}
