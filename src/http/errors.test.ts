import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, NcrError } from '../oci/errors.js';
import { isUnavailable, sendError, toNcrError, UNAVAILABLE_RETRY_SECONDS } from './errors.js';

const withCode = (message: string, code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });
const fastifyError = (message: string, statusCode: number, code = 'FST_ERR_SOMETHING') => Object.assign(new Error(message), { statusCode, code });

describe('toNcrError', () => {
  it('passes an NcrError through unchanged', () => {
    const e = new NcrError('MANIFEST_UNKNOWN', 'tag x does not exist in team/app');
    expect(toNcrError(e)).toBe(e);
  });

  it('maps the 4xx errors of Fastify and its plugins to catalogue codes by status, with the catalogue status', () => {
    const cases: [number, string][] = [
      [400, 'VALIDATION_FAILED'],
      [401, 'UNAUTHORIZED'],
      [403, 'DENIED'],
      [404, 'NOT_FOUND'],
      [405, 'METHOD_NOT_ALLOWED'],
      [409, 'CONFLICT'],
      [413, 'BODY_TOO_LARGE'],
      [415, 'UNSUPPORTED'],
      [416, 'RANGE_INVALID'],
      [429, 'TOOMANYREQUESTS'],
    ];
    for (const [status, code] of cases) {
      const e = toNcrError(fastifyError('nope', status));
      expect(e.code, String(status)).toBe(code);
      expect(e.status, String(status)).toBe(status);
      expect(e.message).toBe('nope');
    }
    // a status without a code of its own is a 400, never a status the catalogue does not give
    for (const status of [406, 408, 411, 412, 414, 418, 431]) {
      const e = toNcrError(fastifyError('odd', status));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.status).toBe(ERROR_CATALOGUE.VALIDATION_FAILED.status);
    }
  });

  it('maps Fastify body errors to their own codes', () => {
    expect(toNcrError(fastifyError('Request body is too large', 413, 'FST_ERR_CTP_BODY_TOO_LARGE'))).toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
    expect(toNcrError(fastifyError("Unsupported Media Type: 'text/x'", 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'))).toMatchObject({ code: 'UNSUPPORTED', status: 415 });
    expect(toNcrError(fastifyError('Unexpected token', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'))).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    const validation = Object.assign(fastifyError('body/name must be string', 400, 'FST_ERR_VALIDATION'), { validation: [{ instancePath: '/name' }] });
    expect(toNcrError(validation)).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, detail: [{ instancePath: '/name' }] });
  });

  const unreachable: [string, unknown][] = [
    ['pg: connection refused', withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED', { address: '10.1.2.3', port: 5432 })],
    ['pg: refused on every address (AggregateError)', Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed'))],
    ['pg: admin shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['pg: starting up', withCode('the database system is starting up', '57P03')],
    ['pg: connection failure', withCode('connection failure', '08006')],
    ['pg: cannot connect', withCode('sqlclient unable to establish sqlconnection', '08001')],
    ['pg: too many connections', withCode('sorry, too many clients already', '53300')],
    ['pg: dropped connection', new Error('Connection terminated unexpectedly')],
    ['pg: terminated', new Error('Connection terminated')],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['sqlite: busy', withCode('database is locked', 'SQLITE_BUSY')],
    ['sqlite: I/O error (extended code)', withCode('disk I/O error', 'SQLITE_IOERR_WRITE')],
    ['sqlite: cannot open', withCode('unable to open database file /srv/ncr/meta.db', 'SQLITE_CANTOPEN')],
    ['sqlite: disk full', withCode('database or disk is full', 'SQLITE_FULL')],
    ['fs: I/O error', withCode("EIO: i/o error, write '/srv/ncr/storage/uploads/ab/abcdef'", 'EIO')],
    ['fs: disk full', withCode("ENOSPC: no space left on device, write '/srv/ncr/storage/uploads/ab/abcdef'", 'ENOSPC')],
    ['fs: read-only', withCode("EROFS: read-only file system, open '/srv/ncr/storage/blobs/x'", 'EROFS')],
    ['wrapped in a cause', new Error('database migration 0003 failed: boom', { cause: withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED') })],
  ];

  it.each(unreachable)('a database or storage that cannot be reached is UNAVAILABLE (503) with a retry hint and no raw message: %s', (_name, err) => {
    expect(isUnavailable(err)).toBe(true);
    const e = toNcrError(err);
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.status).toBe(503);
    expect(e.message).toMatch(/database or storage is unavailable/);
    expect(e.message).toMatch(/retry/);
    expect(e.message).not.toMatch(/5432|\/srv|ECONN|SQLITE|EIO|ENOSPC|EROFS|Connection terminated|locked/);
    expect(e.detail).toEqual({ retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS });
    expect(e.cause).toBe(err);
  });

  it('anything else unexpected is INTERNAL (500) with a message that names nothing', () => {
    for (const err of [
      withCode('UNIQUE constraint failed: tags.name', 'SQLITE_CONSTRAINT_UNIQUE'),
      withCode("ENOENT: no such file or directory, open '/srv/ncr/storage/blobs/x'", 'ENOENT'),
      withCode("EACCES: permission denied, open '/srv/ncr/storage/blobs/x'", 'EACCES'),
      withCode('syntax error at or near "selct"', '42601'),
      new TypeError("Cannot read properties of undefined (reading 'name')"),
      'a thrown string',
      undefined,
    ]) {
      expect(isUnavailable(err)).toBe(false);
      const e = toNcrError(err);
      expect(e.code).toBe('INTERNAL');
      expect(e.status).toBe(500);
      expect(e.message).toBe('internal server error: the server log has the cause');
    }
  });
});

describe('sendError', () => {
  const app = Fastify({ logger: false });
  let thrown: unknown;
  beforeAll(async () => {
    app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
    app.route({ method: ['GET', 'HEAD', 'PATCH'], url: '/*', handler: async () => { throw thrown; } });
    await app.ready();
  });
  afterAll(() => app.close());

  const send = async (err: unknown, method: 'GET' | 'HEAD' | 'PATCH', url: string) => {
    thrown = err;
    return app.inject({ method, url });
  };

  it('renders the envelope with the catalogue status; HEAD gets the status without a body', async () => {
    const res = await send(new NcrError('NAME_UNKNOWN', 'repository team/x does not exist'), 'GET', '/v2/team/x/manifests/1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository team/x does not exist', detail: null }] });
    const head = await send(new NcrError('NAME_UNKNOWN', 'repository team/x does not exist'), 'HEAD', '/v2/team/x/manifests/1');
    expect(head.statusCode).toBe(404);
    expect(head.body).toBe('');
  });

  it('writes Retry-After from detail.retryAfterSeconds (TOOMANYREQUESTS) and for UNAVAILABLE', async () => {
    const limited = await send(new NcrError('TOOMANYREQUESTS', 'too many failed logins', { detail: { retryAfterSeconds: 42 } }), 'GET', '/api/v1/registries');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('42');
    const down = await send(withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED'), 'GET', '/api/v1/registries');
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe(String(UNAVAILABLE_RETRY_SECONDS));
    expect(down.body).not.toContain('10.1.2.3');
  });

  it("writes where an upload session stands on a chunk out of order (RANGE_INVALID with { uploadId, offset }) on /v2 only", async () => {
    const err = () => new NcrError('RANGE_INVALID', 'chunk starts at byte 1001 but the upload holds 1000 bytes', { detail: { uploadId: 'abc123', offset: 1000 } });
    const res = await send(err(), 'PATCH', '/v2/team/sub/app/blobs/uploads/abc123?x=1');
    expect(res.statusCode).toBe(416);
    expect(res.headers.range).toBe('0-999');
    expect(res.headers.location).toBe('/v2/team/sub/app/blobs/uploads/abc123');
    expect(res.headers['docker-upload-uuid']).toBe('abc123');
    const elsewhere = await send(err(), 'GET', '/api/v1/something');
    expect(elsewhere.statusCode).toBe(416);
    expect(elsewhere.headers.range).toBeUndefined();
    expect(elsewhere.headers.location).toBeUndefined();
  });
});
