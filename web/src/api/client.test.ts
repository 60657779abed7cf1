import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, errorMessage, setCsrfToken, setUnauthorizedHandler } from './client';

function respond(status: number, body?: unknown, headers: Record<string, string> = {}) {
  const fetchMock = vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers }));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

const sent = (m: ReturnType<typeof respond>) => (m.mock.calls[0] as unknown as [string, RequestInit]);

describe('api client', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(undefined);
    setUnauthorizedHandler(undefined);
  });

  it('sends the CSRF token on writes only, and marks requests as the console', async () => {
    setCsrfToken('tok');
    let m = respond(200, { ok: 1 });
    expect(await api('GET', '/registries')).toEqual({ ok: 1 });
    let [url, init] = sent(m);
    expect(url).toBe('/api/v1/registries');
    expect((init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    expect((init.headers as Record<string, string>)['x-requested-with']).toBe('XMLHttpRequest');
    m = respond(201, { name: 'a' });
    await api('POST', '/registries', { name: 'a' });
    [url, init] = sent(m);
    expect((init.headers as Record<string, string>)['x-csrf-token']).toBe('tok');
    expect(init.body).toBe('{"name":"a"}');
  });

  it("turns the server's error envelope into an ApiError with its code and message", async () => {
    respond(409, { errors: [{ code: 'CONFLICT', message: 'registry "a" already exists', detail: null }] });
    const err = await api('POST', '/registries', { name: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('CONFLICT');
    expect(errorMessage(err)).toBe('Registry "a" already exists');
  });

  it('says how long to wait on 429, and reports a lost session on 401 (but not for the session check itself)', async () => {
    respond(429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'too many', detail: null }] }, { 'retry-after': '42' });
    expect(errorMessage(await api('POST', '/session', {}).catch((e: unknown) => e))).toBe('Too many attempts: wait 42 seconds, then try again.');
    const lost = vi.fn();
    setUnauthorizedHandler(lost);
    respond(401, { errors: [{ code: 'UNAUTHORIZED', message: 'no', detail: null }] });
    await api('GET', '/session').catch(() => undefined);
    expect(lost).not.toHaveBeenCalled();
    respond(401, { errors: [{ code: 'UNAUTHORIZED', message: 'no', detail: null }] });
    await api('GET', '/registries').catch(() => undefined);
    expect(lost).toHaveBeenCalledOnce();
  });

  it('returns nothing for 204 and explains a network failure', async () => {
    respond(204);
    expect(await api('DELETE', '/registries/a')).toBeUndefined();
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('failed to fetch'))));
    expect(errorMessage(await api('GET', '/registries').catch((e: unknown) => e))).toMatch(/cannot reach the ncr server/i);
  });
});
