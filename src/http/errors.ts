/**
 * The only place that turns an error into a response: the spec's `{errors:[{code,message,detail}]}` on /v2 and the
 * same envelope and codes on /api. An unexpected error is a 500 whose message is logged, not shown.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isNcrError, NcrError } from '../oci/errors.js';

export function errorBody(err: NcrError) {
  return { errors: [{ code: err.code, message: err.message, detail: err.detail ?? null }] };
}

export function toNcrError(err: unknown): NcrError {
  if (isNcrError(err)) return err;
  const fe = err as FastifyError;
  if (fe?.validation) return new NcrError('VALIDATION_FAILED', `invalid request: ${fe.message}`, { detail: fe.validation });
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new NcrError('SIZE_INVALID', 'request body too large', { status: 413 });
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new NcrError('UNSUPPORTED', `unsupported content type: ${fe.message}`);
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err instanceof SyntaxError && fe?.statusCode === 400)) {
    return new NcrError('VALIDATION_FAILED', `request body is not valid JSON: ${fe.message}`);
  }
  if (fe?.statusCode === 404) return new NcrError('NOT_FOUND', fe.message);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new NcrError('VALIDATION_FAILED', fe.message, { status: fe.statusCode });
  }
  return new NcrError('INTERNAL', 'internal server error: the server log has the cause', { cause: err });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toNcrError(err);
  if (e.code === 'INTERNAL') request.log.error({ err }, 'unexpected error');
  else if (e.status >= 500) request.log.warn({ err }, e.message);
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  reply.code(e.status).header('content-type', 'application/json; charset=utf-8');
  if (request.method === 'HEAD') return reply.send();
  return reply.send(errorBody(e));
}
