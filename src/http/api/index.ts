/** Mounts /api/v1 with its OpenAPI document (/api/v1/openapi.json) and a browsable docs page (/api/v1/docs). */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './common.js';
import { endpointRoutes } from './endpoints.routes.js';
import { executionRoutes } from './executions.routes.js';
import { gcRoutes } from './gc.routes.js';
import { imageRoutes } from './images.routes.js';
import { policyRoutes } from './policies.routes.js';
import { scanningRoutes } from './scanning.routes.js';
import { trustRoutes } from './trust.routes.js';
import { registryRoutes } from './registries.routes.js';
import { replicationRoutes } from './replication.routes.js';
import { userRoutes } from './users.routes.js';
import { webhookRoutes } from './webhooks.routes.js';

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps, version: string) {
  await app.register(swagger, {
    openapi: {
      info: { title: 'ncr management API', version, description: 'Registries, images, artifacts, tags, policies, trust, scanning, webhooks, remote registry endpoints, replication, users and access keys, executions and garbage collection. Authenticate with HTTP Basic: access key as username, secret key as password.' },
      components: { securitySchemes: { accessKey: { type: 'http', scheme: 'basic' } } },
      security: [{ accessKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
  await app.register(
    async (api) => {
      registryRoutes(api, deps);
      imageRoutes(api, deps);
      userRoutes(api, deps);
      executionRoutes(api, deps);
      policyRoutes(api, deps);
      trustRoutes(api, deps);
      scanningRoutes(api, deps);
      webhookRoutes(api, deps);
      gcRoutes(api, deps);
      if (deps.endpoints) endpointRoutes(api, deps);
      if (deps.replication) replicationRoutes(api, deps);
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
}
