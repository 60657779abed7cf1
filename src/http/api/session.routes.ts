/**
 * /api/v1/session: the console's sign-in (username and password → an HTTP-only, SameSite=Strict cookie and a CSRF
 * token), the current session, and sign-out. Other /api/v1 routes accept the cookie through requireUser.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/auth/identity.service.js';
import type { SessionService } from '../../domain/auth/session.service.js';
import { NcrError } from '../../oci/errors.js';
import { type ApiDeps, ErrorResponse, iso, SESSION_COOKIE, withErrors } from './common.js';

const SessionOut = Type.Object({
  user: Type.Object({ username: Type.String(), role: Type.String(), createdAt: Type.String({ format: 'date-time' }), hasPassword: Type.Boolean() }),
  csrfToken: Type.String({ description: 'send as the X-CSRF-Token header on every request that is not GET or HEAD' }),
  registryHost: Type.String({ description: 'host[:port] to docker login to and to put before registry/image' }),
});

const SignInBody = Type.Object({ username: Type.String({ maxLength: 256 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });

export function sessionRoutes(app: FastifyInstance, deps: ApiDeps & { sessions: SessionService }) {
  const { sessions } = deps;
  const secure = (req: FastifyRequest) => deps.auth.baseUrl(req).startsWith('https:');
  const view = async (req: FastifyRequest, p: Principal, csrfToken: string) => {
    const u = await deps.identity.getUser(p.username);
    return { user: { username: u.username, role: u.role, createdAt: iso(u.createdAt)!, hasPassword: u.hasPassword }, csrfToken, registryHost: deps.auth.service(req) };
  };
  const clear = (req: FastifyRequest, reply: FastifyReply) => reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(req) });

  // The console sends X-Requested-With: without a Basic challenge the browser shows no login dialog of its own on a 401.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.headers['x-requested-with'] === 'XMLHttpRequest' && /^basic/i.test(String(reply.getHeader('www-authenticate') ?? ''))) reply.removeHeader('www-authenticate');
    return payload;
  });

  app.post(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Sign in to the console with username and password (sets the session cookie)', body: SignInBody, response: { ...withErrors({ 200: SessionOut }), 429: ErrorResponse } } },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string };
      const s = await sessions.signIn(username, password, req.ip);
      reply.setCookie(SESSION_COOKIE, s.sessionId, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(req), maxAge: Math.floor(sessions.maxAgeMs / 1000) });
      return reply.header('cache-control', 'no-store').send(await view(req, s.principal, s.csrfToken));
    },
  );

  app.get('/api/v1/session', { schema: { tags: ['session'], summary: 'The signed-in console user and the CSRF token; 401 when not signed in', response: withErrors({ 200: SessionOut }) } }, async (req, reply) => {
    const s = await sessions.authenticate(req.cookies?.[SESSION_COOKIE], { method: 'GET' });
    if (!s) {
      if (req.cookies?.[SESSION_COOKIE]) clear(req, reply);
      throw new NcrError('UNAUTHORIZED', 'not signed in, or the session has expired: sign in again');
    }
    return reply.header('cache-control', 'no-store').send(await view(req, s.principal, s.csrfToken));
  });

  app.delete('/api/v1/session', { schema: { tags: ['session'], summary: 'Sign out (needs X-CSRF-Token)', response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const id = req.cookies?.[SESSION_COOKIE];
    const csrf = req.headers['x-csrf-token'];
    // Throws DENIED on a live session without its CSRF token, so another site cannot sign the user out.
    if (await sessions.authenticate(id, { method: 'DELETE', csrfToken: Array.isArray(csrf) ? csrf[0] : csrf })) await sessions.signOut(id);
    clear(req, reply);
    return reply.code(204).send();
  });
}
