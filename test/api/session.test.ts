/** Console sessions over real HTTP: cookie attributes, CSRF, rate limiting, sign-out, and the console's static files. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

const json = async (res: Response) => (await res.json()) as any;

describe.each(DB_KINDS)('console session (%s)', (db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ db, config: { auth: { login: { failureLimit: 3 } } } });
  });
  afterAll(async () => s?.close());

  const signIn = (username: string, password: string, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0];
  const call = (method: string, path: string, cookie: string, opts: { csrf?: string; body?: unknown } = {}) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { cookie, ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}), ...(opts.body ? { 'content-type': 'application/json' } : {}) },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });

  it('signs in with the password: an HTTP-only, SameSite=Strict cookie, the user and a CSRF token', async () => {
    const res = await signIn('admin', s.admin.password);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ncr_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/i); // plain http here; https gets Secure
    const body = await json(res);
    expect(body.user).toMatchObject({ username: 'admin', role: 'admin', hasPassword: true });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.registryHost).toBe(s.host);

    const cookie = cookieOf(res);
    const me = await call('GET', '/api/v1/session', cookie);
    expect(me.status).toBe(200);
    expect((await json(me)).csrfToken).toBe(body.csrfToken);
    expect((await call('GET', '/api/v1/registries', cookie)).status).toBe(200);
  });

  it('writes with the cookie need the X-CSRF-Token header (403 DENIED without or with a wrong one)', async () => {
    const res = await signIn('admin', s.admin.password);
    const cookie = cookieOf(res);
    const { csrfToken } = await json(res);
    const without = await call('POST', '/api/v1/registries', cookie, { body: { name: 'csrf-test' } });
    expect(without.status).toBe(403);
    expect((await json(without)).errors[0].code).toBe('DENIED');
    expect((await call('POST', '/api/v1/registries', cookie, { body: { name: 'csrf-test' }, csrf: 'wrong' })).status).toBe(403);
    expect((await call('POST', '/api/v1/registries', cookie, { body: { name: 'csrf-test' }, csrf: csrfToken })).status).toBe(201);
    expect((await call('DELETE', '/api/v1/registries/csrf-test', cookie, { csrf: csrfToken })).status).toBe(204);
  });

  it('users change their own password with the session; the console gets no Basic challenge', async () => {
    expect((await s.api('POST', '/api/v1/users', { username: 'sam', role: 'viewer', password: 'first-password' })).status).toBe(201);
    const res = await signIn('sam', 'first-password');
    const cookie = cookieOf(res);
    const { csrfToken } = await json(res);
    const changed = await call('PATCH', '/api/v1/users/me', cookie, { csrf: csrfToken, body: { password: 'second-password' } });
    expect(changed.status).toBe(200);
    expect((await signIn('sam', 'second-password')).status).toBe(200);
    // A viewer's write is refused by the server, whatever the console shows.
    expect((await call('POST', '/api/v1/registries', cookie, { csrf: csrfToken, body: { name: 'nope' } })).status).toBe(403);

    const plain = await fetch(`${s.url}/api/v1/registries`);
    expect(plain.headers.get('www-authenticate')).toContain('Basic');
    const fromConsole = await fetch(`${s.url}/api/v1/registries`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(fromConsole.status).toBe(401);
    expect(fromConsole.headers.get('www-authenticate')).toBeNull();
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const res = await signIn('admin', s.admin.password);
    const cookie = cookieOf(res);
    const { csrfToken } = await json(res);
    expect((await call('DELETE', '/api/v1/session', cookie)).status).toBe(403);
    const out = await call('DELETE', '/api/v1/session', cookie, { csrf: csrfToken });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/ncr_session=;/);
    expect((await call('GET', '/api/v1/session', cookie)).status).toBe(401);
    expect((await call('GET', '/api/v1/registries', cookie)).status).toBe(401);
  });

  it('serves the console at / with a fallback to index.html, and keeps JSON 404s for the API', async () => {
    for (const path of ['/', '/registries/team/images/app']) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'self'");
    }
    const api = await fetch(`${s.url}/api/v1/no-such-thing`);
    expect(api.status).toBe(404);
    expect((await json(api)).errors[0].code).toBeDefined();
    const v2 = await fetch(`${s.url}/v2/`);
    expect(v2.status).toBe(401);
  });

  it('refuses a wrong password with 401 and, past the limit, 429 with Retry-After', async () => {
    // Last: the failures also count against this client address.
    const wrong = await signIn('ratelimited', 'nope-nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect((await json(wrong)).errors[0].message).toMatch(/username or password/);
    await signIn('ratelimited', 'nope-nope');
    await signIn('ratelimited', 'nope-nope');
    const limited = await signIn('ratelimited', 'nope-nope');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
