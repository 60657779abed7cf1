/**
 * Who is calling: Basic (access key : secret key, or username : password) or Bearer (a token from /service/token).
 * Also builds the Docker token challenge and checks a caller may take an action on a repository.
 */
import type { FastifyRequest } from 'fastify';
import type { IdentityService, Principal } from '../domain/auth/identity.service.js';
import type { LoginLimiter } from '../domain/auth/login-limiter.js';
import { REPO_SCOPE, require, type RepoPermission } from '../domain/auth/permissions.js';
import { type Access, formatScope, tokenAllows } from '../domain/auth/scopes.js';
import type { TokenService } from '../domain/auth/token.service.js';
import { NcrError } from '../oci/errors.js';

export interface Caller {
  principal: Principal;
  /** the token's granted access; undefined when the caller used Basic auth (then the role alone decides) */
  access?: Access[];
}

export class Authenticator {
  constructor(
    private readonly identity: IdentityService,
    private readonly tokens: TokenService,
    private readonly limiter: LoginLimiter,
    private readonly publicUrl: string | undefined,
    private readonly privateUrl?: string,
  ) {}

  /** Whether the request came to the private endpoint (server.privateUrl's host). */
  isPrivate(req: FastifyRequest): boolean {
    return this.privateUrl !== undefined && req.headers.host === new URL(this.privateUrl).host;
  }

  /** The base URL clients reach this server at (the private one for a request on the private endpoint). */
  baseUrl(req: FastifyRequest): string {
    if (this.isPrivate(req)) return this.privateUrl!.replace(/\/+$/, '');
    return this.publicUrl ?? `${req.protocol}://${req.headers.host ?? `${req.hostname}`}`;
  }

  /** The token service name: the public host (the same on the private endpoint, so one token serves both). */
  service(req: FastifyRequest): string {
    return new URL(this.publicUrl ?? `${req.protocol}://${req.headers.host ?? `${req.hostname}`}`).host;
  }

  /** host[:port] of the private endpoint, when there is one. */
  privateHost(): string | undefined {
    return this.privateUrl === undefined ? undefined : new URL(this.privateUrl).host;
  }

  /** Parses and checks the Authorization header; undefined when there is none; 401/429 when it is wrong. */
  async authenticate(req: FastifyRequest): Promise<Caller | undefined> {
    const header = req.headers.authorization;
    if (!header) return undefined;
    const [scheme, value = ''] = header.split(' ', 2);
    if (/^bearer$/i.test(scheme)) {
      const claims = await this.tokens.verifyAccess(value.trim());
      if (!claims) throw this.challenge(req, undefined, 'the token is invalid or has expired: log in again', 'invalid_token');
      const principal = await this.identity.principalOf(claims.userId, claims.accessKeyId);
      if (!principal) throw this.challenge(req, undefined, 'the user or access key behind this token no longer exists: log in again', 'invalid_token');
      return { principal, access: claims.access };
    }
    if (/^basic$/i.test(scheme)) {
      const { user, pass } = decodeBasic(value);
      const principal = await this.checkCredentials(req, user, pass);
      return { principal };
    }
    throw this.challenge(req, undefined, `unsupported authorization scheme "${scheme}": use Basic (access key : secret key) or Bearer`);
  }

  /** Verifies a user-supplied key pair (or username and password), with failed-login rate limiting. */
  async checkCredentials(req: FastifyRequest, user: string, pass: string): Promise<Principal> {
    await this.limiter.check(req.ip, user);
    const principal = (await this.identity.verifyKey(user, pass)) ?? (await this.identity.verifyPassword(user, pass));
    if (!principal) {
      await this.limiter.fail(req.ip, user);
      throw this.challenge(req, undefined, 'the access key or secret key is wrong: use the access key as username and the secret key as password');
    }
    return principal;
  }

  /** A 401 carrying the Docker token challenge for the given scope. */
  challenge(req: FastifyRequest, scope: string | undefined, message = 'authentication required: log in with your access key and secret key', error?: string): NcrError {
    let h = `Bearer realm="${this.baseUrl(req)}/service/token",service="${this.service(req)}"`;
    if (scope) h += `,scope="${scope}"`;
    if (error) h += `,error="${error}"`;
    return new NcrError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': h } });
  }

  /**
   * Requires the caller to be allowed `action` on the repository: 401 with a challenge when not logged in or the
   * token lacks the scope; 403 DENIED when the role may not (decided by `can`).
   */
  requireRepo(req: FastifyRequest, caller: Caller | undefined, repo: string, action: RepoPermission): Caller {
    const scopeAction = REPO_SCOPE[action];
    const scope = formatScope('repository', repo, scopeAction === 'push' ? ['pull', 'push'] : [scopeAction]);
    if (!caller) throw this.challenge(req, scope);
    require(caller.principal, action, { repository: repo });
    if (caller.access && !tokenAllows(caller.access, 'repository', repo, scopeAction)) {
      throw this.challenge(req, scope, `the token does not grant ${scopeAction} on ${repo}: request a token with scope ${scope}`, 'insufficient_scope');
    }
    return caller;
  }

  /**
   * Requires the caller to be allowed to list the catalog: 401 with a challenge for `registry:catalog:*` when not
   * logged in or a token lacks that scope; 403 DENIED when the role may not.
   */
  requireCatalog(req: FastifyRequest, caller: Caller | undefined): Caller {
    const scope = formatScope('registry', 'catalog', ['*']);
    if (!caller) throw this.challenge(req, scope);
    require(caller.principal, 'catalog:list');
    if (caller.access && !tokenAllows(caller.access, 'registry', 'catalog', '*')) {
      throw this.challenge(req, scope, `the token does not grant the catalog: request a token with scope ${scope}`, 'insufficient_scope');
    }
    return caller;
  }
}

export function decodeBasic(value: string): { user: string; pass: string } {
  const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return { user: decoded, pass: '' };
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}
