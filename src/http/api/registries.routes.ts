/** /api/v1/registries: create, list (image count, storage used, address to push to), get, delete. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RegistryView } from '../../domain/registry/registry.service.js';
import { actor, type ApiDeps, iso, authorize, PageQuery, pageOf, Paged, withErrors } from './common.js';

export const RegistryOut = Type.Object({
  name: Type.String(),
  address: Type.String({ description: 'prefix to tag and push images with, e.g. registry.example.com/team' }),
  imageCount: Type.Integer(),
  storageBytes: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});

const NameParams = Type.Object({ registry: Type.String() });

export function registryRoutes(app: FastifyInstance, deps: ApiDeps) {
  const view = (req: FastifyRequest, r: RegistryView) => ({
    name: r.name,
    address: `${deps.auth.service(req)}/${r.name}`,
    imageCount: r.imageCount,
    storageBytes: r.storageBytes,
    createdAt: iso(r.createdAt)!,
    createdBy: r.createdBy,
  });

  app.get('/registries', { schema: { tags: ['registries'], summary: 'List registries', querystring: PageQuery, response: withErrors({ 200: Paged(RegistryOut) }) } }, async (req) => {
    await authorize(deps, req, 'registry:view');
    const page = await deps.registries.list(pageOf(req.query));
    return { ...page, items: page.items.map((r) => view(req, r)) };
  });

  app.post(
    '/registries',
    {
      schema: {
        tags: ['registries'],
        summary: 'Create a registry',
        description: 'Names: lowercase letters and digits, separated by single ".", "_", "__" or runs of "-"; the address plus image name may be at most 255 characters.',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
        response: withErrors({ 201: RegistryOut }),
      },
    },
    async (req, reply) => {
      const { name } = req.body as { name: string };
      const p = await authorize(deps, req, 'registry:create', { registry: name });
      const created = await deps.registries.create(name, actor(req, p), deps.auth.service(req));
      return reply.code(201).send(view(req, created));
    },
  );

  app.get('/registries/:registry', { schema: { tags: ['registries'], summary: 'Get a registry', params: NameParams, response: withErrors({ 200: RegistryOut }) } }, async (req) => {
    const { registry } = req.params as { registry: string };
    await authorize(deps, req, 'registry:view', { registry });
    return view(req, await deps.registries.get(registry));
  });

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
