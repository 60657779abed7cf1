/** Shared pieces of /api/v1: who is calling, what they may do (via `can`), the one pagination shape and the error schema. */
import type { CacheService } from '../../domain/cache/service.js';
import type { EndpointService } from '../../domain/endpoints/service.js';
import { Type, type TSchema } from '@sinclair/typebox';
import type { CleanupService } from '../../domain/policies/cleanup.service.js';
import type { ScanService } from '../../domain/scanning/service.js';
import type { TrustService } from '../../domain/trust/trust.service.js';
import type { PolicyService } from '../../domain/policies/policy.service.js';
import type { ReplicationService } from '../../domain/replication/replication.service.js';
import type { FastifyRequest } from 'fastify';
import { SERVICE_SUBJECT_PREFIX, type IdentityService, type Principal } from '../../domain/auth/identity.service.js';
import type { SessionService } from '../../domain/auth/session.service.js';
import { type Action, require, type Resource } from '../../domain/auth/permissions.js';
import type { Actor } from '../../domain/events.js';
import { DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, type PageRequest } from '../../domain/pagination.js';
import type { BlobService } from '../../domain/registry/blob.service.js';
import type { ManifestService } from '../../domain/registry/manifest.service.js';
import type { RegistryService } from '../../domain/registry/registry.service.js';
import type { AuditStore } from '../../domain/audit/audit.js';
import type { ExecutionService } from '../../domain/executions/service.js';
import type { GcService } from '../../domain/gc/gc.service.js';
import type { JobQueue } from '../../domain/queue/queue.js';
import type { WebhookService } from '../../domain/webhooks/service.js';
import { isNcrError, NcrError } from '../../oci/errors.js';
import type { Authenticator } from '../auth.js';

export interface ApiDeps {
  auth: Authenticator;
  identity: IdentityService;
  registries: RegistryService;
  manifests: ManifestService;
  blobs: BlobService;
  audit: AuditStore;
  /** console sessions (cookie sign-in); absent when the app runs without the console */
  sessions?: SessionService;
  executions: ExecutionService;
  jobs: JobQueue;
  /** image cleanup and protection (domain/policies) */
  policies?: PolicyService;
  cleanup?: CleanupService;
  /** image trust (domain/trust) */
  trust?: TrustService;
  /** vulnerability scanning (domain/scanning) */
  scans?: ScanService;
  webhooks: WebhookService;
  gc: GcService;
  /** remote registries: replication targets, image cache sources (domain/endpoints) */
  endpoints?: EndpointService;
  /** replication rules and runs (domain/replication) */
  replication?: ReplicationService;
  /** image cache (pull-through) registries (domain/cache) */
  cache?: CacheService;
}

/** The cookie that carries the console's session id (HTTP-only, SameSite=Strict). */
export const SESSION_COOKIE = 'ncr_session';

/** The page and perPage query fields every /api/v1 list takes. */
export const PageFields = {
  page: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 }),
  perPage: Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE }),
};

export const PageQuery = Type.Object({
  ...PageFields,
  search: Type.Optional(Type.String({ maxLength: 255 })),
});

export function pageOf(q: unknown): PageRequest & { search?: string } {
  const { page, perPage, search } = q as { page: number; perPage: number; search?: string };
  return { page, perPage, search: search || undefined };
}

export const ErrorResponse = Type.Object({
  errors: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), detail: Type.Any() })),
});

export function Paged<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), page: Type.Integer(), perPage: Type.Integer(), total: Type.Integer() });
}

export const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());
export const NullableDate = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

/**
 * The logged-in principal; 401 with a Basic challenge when there is none or the credentials are wrong. Anything else
 * goes up unchanged: TOOMANYREQUESTS (429 with Retry-After) past the failed-login limit, UNAVAILABLE, ...
 */
export async function requireUser(deps: ApiDeps, req: FastifyRequest): Promise<Principal> {
  // No Authorization header: the console's session cookie, whose writes must carry the session's X-CSRF-Token.
  if (!req.headers.authorization && deps.sessions) {
    const csrf = req.headers['x-csrf-token'];
    const session = await deps.sessions.authenticate(req.cookies?.[SESSION_COOKIE], { method: req.method, csrfToken: Array.isArray(csrf) ? csrf[0] : csrf });
    if (session) return session.principal;
  }
  const caller = await deps.auth.authenticate(req).catch((err: unknown) => {
    if (isNcrError(err) && err.code === 'UNAUTHORIZED') throw new NcrError('UNAUTHORIZED', err.message, { headers: { 'WWW-Authenticate': 'Basic realm="ncr"' } });
    throw err;
  });
  if (caller?.principal.userId.startsWith(SERVICE_SUBJECT_PREFIX)) {
    throw new NcrError('UNAUTHORIZED', "this token is one of ncr's own services' (a scanner's pull token): it works only on /v2, for what it grants", { headers: { 'WWW-Authenticate': 'Basic realm="ncr"' } });
  }
  if (!caller) {
    throw new NcrError('UNAUTHORIZED', 'log in: send Basic auth with your access key (username) and secret key (password)', {
      headers: { 'WWW-Authenticate': 'Basic realm="ncr"' },
    });
  }
  return caller.principal;
}

/** The logged-in principal (key, password or console session), if it may take `action` on `resource`; 403 DENIED if not. */
export async function authorize(deps: ApiDeps, req: FastifyRequest, action: Action, resource?: Resource): Promise<Principal> {
  const p = await requireUser(deps, req);
  require(p, action, resource);
  return p;
}

export function actor(req: FastifyRequest, p: Principal): Actor {
  return { userId: p.userId, username: p.username, role: p.role, remoteAddr: req.ip };
}

/** Responses every route may give, for the OpenAPI document. */
export function withErrors(responses: Record<number, TSchema>): Record<number, TSchema> {
  return { ...responses, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse };
}
