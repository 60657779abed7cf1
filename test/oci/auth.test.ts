import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { ManualClock } from '../../src/domain/clock.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { basic, errorCode, OciClient } from '../helpers/oci-client.js';

async function tokenFor(s: TestServer, creds: { accessKey: string; secretKey: string }, scope: string): Promise<string> {
  const res = await fetch(`${s.url}/service/token?service=${s.host}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basic(creds) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe.each(DB_KINDS)('login, tokens, scopes and roles (%s)', (db) => {
  let s: TestServer;
  let viewer: { accessKey: string; secretKey: string };
  const clock = new ManualClock();
  beforeAll(async () => {
    s = await startServer({ db, config: { auth: { login: { failureLimit: 3, failureWindowSeconds: 60 } } }, adapters: { clock } });
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/users', { username: 'vera', role: 'viewer', password: 'vera-password' })).status).toBe(201);
    const k = await s.api('POST', '/api/v1/users/vera/access-keys');
    expect(k.status).toBe(201);
    viewer = { accessKey: k.body.accessKey, secretKey: k.body.secretKey };
    await new OciClient(s.url, s.admin).pushImage('team/app', '1.0');
  });
  afterAll(async () => s?.close());

  it('/v2/ challenges anonymous callers with the Docker token realm', async () => {
    const res = await fetch(`${s.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${s.url}/service/token",service="${s.host}"`);
    expect(await errorCode(res)).toBe('UNAUTHORIZED');
    const token = await tokenFor(s, s.admin, '');
    const ok = await fetch(`${s.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });

  it('the token endpoint refuses a wrong secret; POST grants give refresh tokens that work', async () => {
    const bad = await fetch(`${s.url}/service/token?service=x`, { headers: { authorization: basic({ accessKey: s.admin.accessKey + 'X', secretKey: 'nope' }) } });
    expect(bad.status).toBe(401);
    const form = new URLSearchParams({ grant_type: 'password', username: s.admin.accessKey, password: s.admin.secretKey, service: s.host, scope: 'repository:team/app:pull', client_id: 'test' });
    const pw = await fetch(`${s.url}/service/token`, { method: 'POST', body: form });
    expect(pw.status).toBe(200);
    const pwBody = (await pw.json()) as { access_token: string; refresh_token: string; expires_in: number };
    expect(pwBody.access_token).toBeTruthy();
    expect(pwBody.refresh_token).toBeTruthy();
    const refresh = await fetch(`${s.url}/service/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pwBody.refresh_token, service: s.host, scope: 'repository:team/app:pull', client_id: 'test' }),
    });
    expect(refresh.status).toBe(200);
    const t = ((await refresh.json()) as { access_token: string }).access_token;
    const tags = await fetch(`${s.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${t}` } });
    expect(tags.status).toBe(200);
    const junk = await fetch(`${s.url}/service/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'junk' }) });
    expect(junk.status).toBe(401);
  });

  it('a token for one repository cannot touch another', async () => {
    const token = await tokenFor(s, s.admin, 'repository:team/app:pull,push');
    const own = await fetch(`${s.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
    const other = await fetch(`${s.url}/v2/team/other/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(other.headers.get('www-authenticate')).toContain('scope="repository:team/other:pull,push"');
    const del = await fetch(`${s.url}/v2/team/app/manifests/1.0`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(401);
  });

  it('a viewer can pull but not push or delete, with tokens and with Basic', async () => {
    const token = await tokenFor(s, viewer, 'repository:team/app:pull,push,delete');
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { access: { actions: string[] }[] };
    expect(payload.access[0].actions).toEqual(['pull']);
    const pull = await fetch(`${s.url}/v2/team/app/manifests/1.0`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(pull.status).toBe(200);
    const push = await fetch(`${s.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(push.status).toBe(403);
    expect(await errorCode(push)).toBe('DENIED');
    const basicPush = await fetch(`${s.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { authorization: basic(viewer) } });
    expect(basicPush.status).toBe(403);
    const del = await fetch(`${s.url}/v2/team/app/manifests/1.0`, { method: 'DELETE', headers: { authorization: basic(viewer) } });
    expect(del.status).toBe(403);
    const apiWrite = await s.api('POST', '/api/v1/registries', { name: 'viewers' }, viewer);
    expect(apiWrite.status).toBe(403);
    expect(apiWrite.body.errors[0].code).toBe('DENIED');
  });

  it('expired and forged tokens are refused', async () => {
    const adminToken = await tokenFor(s, s.admin, 'repository:team/app:pull');
    const pull = (token: string) => fetch(`${s.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    expect((await pull(adminToken)).status).toBe(200);
    // a token signed by another key under the server's key id
    const { kid } = decodeProtectedHeader(adminToken);
    const other = await generateKeyPair('ES256');
    const payload = JSON.parse(Buffer.from(adminToken.split('.')[1], 'base64url').toString()) as { sub: string; exp: number };
    const foreign = await new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull'] }] })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer('ncr')
      .setSubject(payload.sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.privateKey);
    const refused = await pull(foreign);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    const [h, p] = adminToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url');
    const forged = await fetch(`${s.url}/v2/team/app/manifests/1.0`, { method: 'DELETE', headers: { authorization: `Bearer ${h}.${forgedPayload}.${adminToken.split('.')[2]}` } });
    expect(forged.status).toBe(401);
    // time passes (the server's clock): the token expires
    clock.advance((payload.exp * 1000 - clock.now()) + 1000);
    const expired = await pull(adminToken);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('failed logins are rate-limited per address and key (429 TOOMANYREQUESTS)', async () => {
    const wrong = { accessKey: 'NCRNOSUCHKEY000000001', secretKey: 'wrong' };
    // The limit is 3 failures per address in 60 s: let the window pass the earlier tests' failures first.
    clock.advance(61_000);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await fetch(`${s.url}/service/token`, { headers: { authorization: basic(wrong) } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    if (!limited) throw new Error('never limited');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await errorCode(limited)).toBe('TOOMANYREQUESTS');
  });
});
