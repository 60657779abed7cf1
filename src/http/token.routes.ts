/**
 * The Docker token endpoint: GET with Basic auth and `scope` parameters (docker, containerd, go-containerregistry,
 * containers/image), and POST with the OAuth2 password and refresh_token grants.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityService, Principal } from '../domain/auth/identity.service.js';
import { grant, parseScopes } from '../domain/auth/scopes.js';
import type { TokenService } from '../domain/auth/token.service.js';
import { NcrError } from '../oci/errors.js';
import { type Authenticator, decodeBasic } from './auth.js';

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function tokenRoutes(app: FastifyInstance, deps: { auth: Authenticator; tokens: TokenService; identity: IdentityService }) {
  const { auth, tokens, identity } = deps;

  async function issue(req: FastifyRequest, principal: Principal, scopes: string[], withRefresh: boolean) {
    const service = auth.service(req);
    const access = grant(principal.role, parseScopes(scopes));
    const t = await tokens.issueAccess(service, { userId: principal.userId, accessKeyId: principal.accessKeyId, access });
    const body: Record<string, unknown> = {
      token: t.token,
      access_token: t.token,
      expires_in: t.expiresIn,
      issued_at: t.issuedAt.toISOString(),
      scope: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
    };
    if (withRefresh) body.refresh_token = await tokens.issueRefresh(service, { userId: principal.userId, accessKeyId: principal.accessKeyId });
    return body;
  }

  app.get('/service/token', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const header = req.headers.authorization;
    if (!header || !/^basic /i.test(header)) {
      throw new NcrError('UNAUTHORIZED', 'log in with your access key (username) and secret key (password) to get a token', {
        headers: { 'WWW-Authenticate': `Basic realm="${auth.service(req)}"` },
      });
    }
    const { user, pass } = decodeBasic(header.slice(6));
    const principal = await auth.checkCredentials(req, user, pass);
    reply.header('cache-control', 'no-store');
    return issue(req, principal, list(q.scope), q.offline_token === 'true');
  });

  app.post('/service/token', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const grantType = String(b.grant_type ?? '');
    const scopes = list(b.scope);
    reply.header('cache-control', 'no-store');
    if (grantType === 'password') {
      const principal = await auth.checkCredentials(req, String(b.username ?? ''), String(b.password ?? ''));
      return issue(req, principal, scopes, true);
    }
    if (grantType === 'refresh_token') {
      const claims = await tokens.verifyRefresh(String(b.refresh_token ?? ''));
      const principal = claims && (await identity.principalOf(claims.userId, claims.accessKeyId));
      if (!principal) throw new NcrError('UNAUTHORIZED', 'the refresh token is invalid, expired or its access key was deleted: log in again');
      const body = await issue(req, principal, scopes, false);
      body.refresh_token = b.refresh_token;
      return body;
    }
    throw new NcrError('VALIDATION_FAILED', `grant_type "${grantType}" is not supported: use password or refresh_token`);
  });
}
