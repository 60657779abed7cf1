/**
 * The only place that turns an error into a response: the spec's `{errors:[{code,message,detail}]}` on /v2 and the
 * same envelope and codes on /api. Every status comes from the catalogue (src/oci/errors.ts). An unexpected error is
 * a 500 whose message is logged, not shown; so is the raw message of a database or storage failure.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isNcrError, NcrError } from '../oci/errors.js';
import { rangeHeader } from './oci/context.js';

/** Seconds a client is asked to wait (Retry-After) when the database or the storage cannot be reached. */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** The catalogue code for a 4xx status that Fastify or a plugin answers with; a status without a code of its own is a 400. */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED',
  416: 'RANGE_INVALID',
  429: 'TOOMANYREQUESTS',
};

/** Error codes that mean the database or the storage cannot be reached or written right now, so a retry may work. */
const UNAVAILABLE_CODES = new Set([
  // the network between ncr and PostgreSQL
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  // PostgreSQL shutting down, crashed, starting up, out of connections; connection exceptions (class 08)
  '57P01', '57P02', '57P03', '57P04', '53300', '08000', '08001', '08003', '08004', '08006',
  // the database does not exist (dropped, or not created yet)
  '3D000',
  // the file system under the data directory
  'EIO', 'ENOSPC', 'EROFS', 'EDQUOT',
]);
/** SQLite's codes for a locked, failing, full, unopenable or read-only database file (extended codes included). */
const UNAVAILABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY)(_|$)/;
/** node-postgres reports a dropped or impossible connection by message only. */
const UNAVAILABLE_PG_MESSAGE = /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|is not currently accepting connections/;

/** True when `err`, or an error it wraps, says the database or the storage is unreachable (see the lists above). */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || UNAVAILABLE_SQLITE.test(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_PG_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isUnavailable(x, depth + 1))) return true;
  return isUnavailable(e.cause, depth + 1);
}

export function errorBody(err: NcrError) {
  return { errors: [{ code: err.code, message: err.message, detail: err.detail ?? null }] };
}

export function toNcrError(err: unknown): NcrError {
  if (isNcrError(err)) return err;
  if (isUnavailable(err)) {
    return new NcrError('UNAVAILABLE', `the database or storage is unavailable right now: retry in ${UNAVAILABLE_RETRY_SECONDS} s; if it persists, the server log has the cause`, {
      detail: { retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS },
      cause: err,
    });
  }
  const fe = err as FastifyError;
  if (fe?.validation) return new NcrError('VALIDATION_FAILED', `invalid request: ${fe.message}`, { detail: fe.validation });
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new NcrError('BODY_TOO_LARGE', `request body too large for this endpoint: ${fe.message}`);
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new NcrError('UNSUPPORTED', `unsupported content type: ${fe.message}`);
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err instanceof SyntaxError && fe?.statusCode === 400)) {
    return new NcrError('VALIDATION_FAILED', `request body is not valid JSON: ${fe.message}`);
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new NcrError(CODE_OF_STATUS[fe.statusCode] ?? 'VALIDATION_FAILED', fe.message, { cause: err });
  }
  return new NcrError('INTERNAL', 'internal server error: the server log has the cause', { cause: err });
}

/**
 * Headers the spec asks for with some errors, written here so the domain never builds HTTP: Retry-After from
 * `detail.retryAfterSeconds`, and on a chunk out of order (RANGE_INVALID with `detail: { uploadId, offset }`) where
 * the upload session stands, as its other responses say it.
 */
function headersFor(e: NcrError, request: FastifyRequest): Record<string, string> {
  const d = (e.detail ?? {}) as { retryAfterSeconds?: unknown; uploadId?: unknown; offset?: unknown };
  if ((e.code === 'TOOMANYREQUESTS' || e.code === 'UNAVAILABLE') && typeof d.retryAfterSeconds === 'number') {
    return { 'Retry-After': String(d.retryAfterSeconds) };
  }
  const path = request.url.split('?')[0];
  const upload = /^\/v2\/(.+)\/blobs\/uploads\/[^/]+$/.exec(path);
  if (e.code === 'RANGE_INVALID' && upload && typeof d.uploadId === 'string' && typeof d.offset === 'number') {
    return { Location: `/v2/${upload[1]}/blobs/uploads/${d.uploadId}`, 'Docker-Upload-UUID': d.uploadId, Range: rangeHeader(d.offset) };
  }
  return {};
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toNcrError(err);
  if (e.code === 'INTERNAL') request.log.error({ err }, 'unexpected error');
  else if (e.status >= 500) request.log.warn({ err }, e.message);
  for (const [k, v] of Object.entries({ ...headersFor(e, request), ...e.headers })) reply.header(k, v);
  reply.code(e.status).header('content-type', 'application/json; charset=utf-8');
  if (request.method === 'HEAD') return reply.send();
  return reply.send(errorBody(e));
}
