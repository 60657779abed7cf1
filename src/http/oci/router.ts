/**
 * The /v2 API. Repository names contain slashes, so the path is matched here against the spec's endpoint shapes
 * (longest suffix first) rather than by Fastify's router. Request bodies are left unread for the handlers to stream.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NcrError } from '../../oci/errors.js';
import { getBlob, deleteBlob } from './blobs.routes.js';
import type { Authenticator } from '../auth.js';
import { listParams, type OciDeps, type OciRequest } from './context.js';
import { deleteManifest, getManifest, listReferrers, listTags, putManifest } from './manifests.routes.js';
import { cancelUpload, patchUpload, putUpload, startUpload, uploadStatus } from './uploads.routes.js';

type Handler = (o: OciRequest) => Promise<unknown>;
interface Route {
  kind: string;
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const ROUTES: Route[] = [
  { kind: 'tags', pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: listTags } },
  { kind: 'manifest', pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { kind: 'upload', pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  { kind: 'upload', pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, methods: { PATCH: patchUpload, PUT: putUpload, GET: uploadStatus, DELETE: cancelUpload } },
  { kind: 'blob', pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { kind: 'referrers', pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } },
];

/** A %-decoded path segment; a malformed escape is the caller's mistake (400), not a URIError (500). */
function decodeSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new NcrError('VALIDATION_FAILED', `"${segment}" in ${path} is not valid percent-encoding: escape each byte as %XX of UTF-8`);
  }
}

export function routeKind(url: string): string {
  const path = url.split('?')[0];
  if (/^\/v2\/?$/.test(path)) return 'base';
  if (path === '/v2/_catalog') return 'catalog';
  return ROUTES.find((r) => r.pattern.test(path))?.kind ?? 'unknown';
}

/**
 * The deps of a mirrored request: permissions and the token's scope are checked for the name the client asked for
 * (its token names `library/nginx`, not `CACHE/library/nginx`); everything else serves the mirrored repository.
 */
function mirrored(deps: OciDeps, asked: string, name: string): OciDeps {
  const auth = Object.create(deps.auth) as Authenticator;
  auth.requireRepo = (req, caller, repo, action) => deps.auth.requireRepo(req, caller, repo === name ? asked : repo, action);
  return { ...deps, auth };
}

export function ociRoutes(app: FastifyInstance, deps: OciDeps) {
  // Bodies (layers, chunks, manifests) are streamed by the handlers themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/v2/',
    handler: async (req, reply) => {
      const caller = await deps.auth.authenticate(req);
      if (!caller) throw deps.auth.challenge(req, undefined);
      return reply.code(200).header('Content-Type', 'application/json').send(req.method === 'HEAD' ? undefined : {});
    },
  });
  app.get('/v2', (_req, reply) => reply.redirect('/v2/', 301));

  app.get('/v2/_catalog', async (req, reply) => {
    deps.auth.requireCatalog(req, await deps.auth.authenticate(req));
    const q = listParams(req, 1000);
    const n = q.n ?? 100;
    // Every role may view every registry, so all repositories are listed; the filter is where narrower grants will plug in.
    const names = await deps.registries.catalogPage({ last: q.last, n: n + 1 });
    const page = names.slice(0, n);
    if (names.length > n && page.length > 0) reply.header('Link', `</v2/_catalog?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"`);
    return reply.code(200).send({ repositories: page });
  });

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v2/*',
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0];
      for (const route of ROUTES) {
        const m = route.pattern.exec(path);
        if (!m) continue;
        const handler = route.methods[req.method];
        if (!handler) {
          const allowed = Object.keys(route.methods).join(', ');
          throw new NcrError('METHOD_NOT_ALLOWED', `${req.method} is not supported on ${path}; allowed: ${allowed}`, { headers: { Allow: allowed } });
        }
        const asked = m[1];
        const ref = m[2] ? decodeSegment(m[2], path) : '';
        const caller = await deps.auth.authenticate(req);
        const name = deps.mirror ? await deps.mirror(asked) : asked;
        return handler({ req, reply, caller, name, ref, deps: name === asked ? deps : mirrored(deps, asked, name) });
      }
      throw new NcrError('NOT_FOUND', `${path} is not an OCI distribution endpoint`);
    },
  });
}
