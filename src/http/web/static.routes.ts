/**
 * Serves the built console (web/dist) at `/` from the same process and port as the registry. Paths that are not a
 * file fall back to index.html (client-side routes), except the API, registry and token paths, which keep their
 * JSON 404s.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** web/dist beside src/ (and beside dist/ once compiled: both sit three levels below the project root). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const SERVER_PATHS = /^\/(api|v2|service|metrics|healthz|readyz)(\/|$)/;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ncr</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>ncr is running</h1><p>The web console has not been built. Run <code>npm run build</code> (or <code>npm run build:web</code>) and restart, or use
<code>npm run dev</code> while developing. The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p></body></html>`;

export async function staticRoutes(app: FastifyInstance, opts: { root?: string } = {}) {
  const root = opts.root ?? DEFAULT_WEB_ROOT;
  const built = existsSync(`${root}/index.html`);

  await app.register(async (web) => {
    if (built) await web.register(fastifyStatic, { root, serve: false });

    const sendIndex = (reply: FastifyReply) =>
      reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });

    web.get('/*', async (req, reply) => {
      const path = safeDecode(req.url.split('?')[0]);
      if (SERVER_PATHS.test(path)) return reply.callNotFound();
      if (!built) return reply.code(200).type('text/html; charset=utf-8').headers(SECURITY_HEADERS).send(NOT_BUILT);
      const rel = path.replace(/^\/+/, '');
      if (rel && !rel.split('/').includes('..') && isFile(`${root}/${rel}`)) {
        // Vite puts content hashes in the names under assets/: those never change.
        const immutable = rel.startsWith('assets/');
        return reply.headers(SECURITY_HEADERS).sendFile(rel, immutable ? { maxAge: '365d', immutable: true } : { cacheControl: false });
      }
      return sendIndex(reply);
    });
  });
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
