/**
 * The management API over real HTTP. The first describe runs on the run's shared server (test/helpers/shared.ts) as an
 * admin of this file's own, so "me", its access keys and the audit entries it wrote are this file's alone, and the
 * lists it checks are searched or filtered down to this file's names. What needs a server of its own is in the last
 * describe: the last-admin rule (it needs "admin" to be the only admin) and the failed-login limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { FILE_SUFFIX, ownAdmin, sharedServer, unique, type SharedServer } from '../helpers/shared.js';
import { basic, OciClient } from '../helpers/oci-client.js';

// this file's registries and users on the shared server
const TEAM = unique('team');
const [ALPHA, BETA, GAMMA] = [unique('alpha'), unique('beta'), unique('gamma')];
const TAGGED = unique('tagged');
const MIA = unique('mia');
const EVE = unique('eve');
const mine = (names: string[]) => names.filter((n) => n.endsWith(`-${FILE_SUFFIX}`));

describe.each(DB_KINDS)('management API (%s)', (db) => {
  let s: SharedServer & { username: string };
  let c: OciClient;
  beforeAll(async () => {
    s = await ownAdmin(sharedServer(db));
    c = new OciClient(s.url, s.admin);
  });

  it('answers unknown endpoints with NOT_FOUND in the error envelope', async () => {
    const res = await fetch(`${s.url}/api/v1/no-such-thing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0].code).toBe('NOT_FOUND');
  });

  it('requires login', async () => {
    const res = await fetch(`${s.url}/api/v1/registries`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Basic');
  });

  it('creates registries with the name rules, refuses duplicates, lists with counts and address', async () => {
    const created = await s.api('POST', '/api/v1/registries', { name: TEAM });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: TEAM, address: `${s.host}/${TEAM}`, imageCount: 0, storageBytes: 0, createdBy: s.username });
    const dup = await s.api('POST', '/api/v1/registries', { name: TEAM });
    expect(dup.status).toBe(409);
    for (const bad of ['Team', 'te am', '-team', 'team/sub', 'a'.repeat(260)]) {
      const res = await s.api('POST', '/api/v1/registries', { name: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0].message.length).toBeGreaterThan(10);
    }
    await c.pushImage(`${TEAM}/app`, '1.0', 'm1');
    await c.pushImage(`${TEAM}/web/frontend`, 'v1', 'm2');
    const list = await s.api('GET', `/api/v1/registries?perPage=10&search=${FILE_SUFFIX}`);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].name).toBe(TEAM);
    expect(list.body.items[0].imageCount).toBe(2);
    expect(list.body.items[0].storageBytes).toBeGreaterThan(0);
  });

  it('paginates and searches every list the same way', async () => {
    for (const n of [ALPHA, BETA, GAMMA]) expect((await s.api('POST', '/api/v1/registries', { name: n })).status).toBe(201);
    // this file's four registries, found by their common suffix
    const p1 = await s.api('GET', `/api/v1/registries?perPage=2&page=1&search=${FILE_SUFFIX}`);
    const p2 = await s.api('GET', `/api/v1/registries?perPage=2&page=2&search=${FILE_SUFFIX}`);
    expect(p1.body.items.map((r: { name: string }) => r.name)).toEqual([ALPHA, BETA]);
    expect(p1.body.total).toBe(4);
    expect(p2.body.items.map((r: { name: string }) => r.name)).toEqual([GAMMA, TEAM]);
    const found = await s.api('GET', '/api/v1/registries?search=amm&perPage=100');
    expect(mine(found.body.items.map((r: { name: string }) => r.name))).toEqual([GAMMA]);
    const bad = await s.api('GET', '/api/v1/registries?perPage=1000');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].code).toBe('VALIDATION_FAILED');
  });

  it('images, artifacts with detail, tags: list, create, search, delete', async () => {
    const images = await s.api('GET', `/api/v1/registries/${TEAM}/images?search=front`);
    expect(images.body.items).toHaveLength(1);
    expect(images.body.items[0]).toMatchObject({ name: 'web/frontend', repository: `${TEAM}/web/frontend`, artifactCount: 1, tagCount: 1 });
    const arts = await s.api('GET', `/api/v1/registries/${TEAM}/images/app/artifacts`);
    expect(arts.status).toBe(200);
    const a = arts.body.items[0];
    expect(a).toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json', tags: ['1.0'] });
    expect(a.size).toBeGreaterThan(0);
    const detail = await s.api('GET', `/api/v1/registries/${TEAM}/images/app/artifacts/${a.digest}`);
    expect(detail.status).toBe(200);
    expect(detail.body.manifest.schemaVersion).toBe(2);
    expect(detail.body.config).toMatchObject({ architecture: 'amd64', os: 'linux' });
    expect(detail.body.layers).toHaveLength(1);
    expect(detail.body.pullCommands.byDigest).toBe(`docker pull ${s.host}/${TEAM}/app@${a.digest}`);
    const tag = await s.api('POST', `/api/v1/registries/${TEAM}/images/app/tags`, { name: 'stable', digest: a.digest });
    expect(tag.status).toBe(201);
    expect(tag.body).toMatchObject({ name: 'stable', digest: a.digest });
    const v2 = await c.req('GET', `/v2/${TEAM}/app/manifests/stable`);
    expect(v2.headers.get('docker-content-digest')).toBe(a.digest);
    const badTag = await s.api('POST', `/api/v1/registries/${TEAM}/images/app/tags`, { name: '.bad', digest: a.digest });
    expect(badTag.status).toBe(400);
    const search = await s.api('GET', `/api/v1/registries/${TEAM}/images/app/tags?search=sta`);
    expect(search.body.items.map((t: { name: string }) => t.name)).toEqual(['stable']);
    expect((await s.api('DELETE', `/api/v1/registries/${TEAM}/images/app/tags/stable`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/registries/${TEAM}/images/app/tags/stable`)).status).toBe(404);
    const nested = await s.api('GET', `/api/v1/registries/${TEAM}/images/${encodeURIComponent('web/frontend')}/artifacts`);
    expect(nested.body.items).toHaveLength(1);
    expect((await s.api('DELETE', `/api/v1/registries/${TEAM}/images/app/artifacts/${a.digest}`)).status).toBe(204);
    expect((await c.req('GET', `/v2/${TEAM}/app/manifests/${a.digest}`)).status).toBe(404);
    expect((await s.api('DELETE', `/api/v1/registries/${TEAM}/images/${encodeURIComponent('web/frontend')}`)).status).toBe(204);
    // app's only artifact is gone and web/frontend was deleted: no images left
    expect((await s.api('GET', `/api/v1/registries/${TEAM}/images`)).body.items.map((i: { name: string }) => i.name)).toEqual([]);
  });

  it('deleting a registry is refused while it holds images unless forced', async () => {
    await c.pushImage(`${TEAM}/app`, '2.0', 'm3');
    const refused = await s.api('DELETE', `/api/v1/registries/${TEAM}`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].message).toMatch(/force/);
    expect((await s.api('DELETE', `/api/v1/registries/${TEAM}?force=true`)).status).toBe(204);
    expect((await s.api('GET', `/api/v1/registries/${TEAM}`)).status).toBe(404);
    expect((await c.req('GET', `/v2/${TEAM}/app/tags/list`)).status).toBe(404);
    expect((await s.api('DELETE', `/api/v1/registries/${ALPHA}`)).status).toBe(204);
  });

  it('users: admins add, change role, remove', async () => {
    const u = await s.api('POST', '/api/v1/users', { username: MIA, role: 'member', password: 'mia-password' });
    expect(u.status).toBe(201);
    expect((await s.api('POST', '/api/v1/users', { username: MIA, role: 'member' })).status).toBe(409);
    expect((await s.api('POST', '/api/v1/users', { username: 'x', role: 'owner' })).status).toBe(400);
    const role = await s.api('PATCH', `/api/v1/users/${MIA}`, { role: 'viewer' });
    expect(role.body.role).toBe('viewer');
    const key = await s.api('POST', `/api/v1/users/${MIA}/access-keys`);
    const mia = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
    expect((await s.api('GET', '/api/v1/users', undefined, mia)).status).toBe(403);
    expect((await s.api('POST', '/api/v1/users', { username: EVE, role: 'admin' }, mia)).status).toBe(403);
    expect((await s.api('GET', `/api/v1/users/${EVE}`)).status).toBe(404);
    expect((await s.api('DELETE', `/api/v1/users/${MIA}`)).status).toBe(204);
    expect((await s.api('GET', '/api/v1/me', undefined, mia)).status).toBe(401);
  });

  it('access keys: at most 5, secret shown once and stored hashed, regenerate, delete', async () => {
    const created = [];
    // This file's admin already has the key ownAdmin made.
    for (let i = 0; i < 4; i++) {
      const k = await s.api('POST', '/api/v1/users/me/access-keys');
      expect(k.status).toBe(201);
      expect(k.body.secretKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
      created.push(k.body);
    }
    const sixth = await s.api('POST', '/api/v1/users/me/access-keys');
    expect(sixth.status).toBe(409);
    expect(sixth.body.errors[0].code).toBe('LIMIT_EXCEEDED');
    const list = await s.api('GET', '/api/v1/users/me/access-keys');
    expect(list.body.items).toHaveLength(5);
    expect(JSON.stringify(list.body)).not.toContain(created[0].secretKey);
    expect(list.body.items.every((k: { rotationDue: boolean }) => k.rotationDue === false)).toBe(true);
    const k0 = { accessKey: created[0].accessKey, secretKey: created[0].secretKey };
    expect((await s.api('GET', '/api/v1/me', undefined, k0)).status).toBe(200);
    const regen = await s.api('POST', `/api/v1/users/me/access-keys/${k0.accessKey}/regenerate`);
    expect(regen.status).toBe(200);
    expect(regen.body.secretKey).not.toBe(k0.secretKey);
    expect((await s.api('GET', '/api/v1/me', undefined, k0)).status).toBe(401);
    expect((await s.api('GET', '/api/v1/me', undefined, { accessKey: k0.accessKey, secretKey: regen.body.secretKey })).status).toBe(200);
    expect((await s.api('DELETE', `/api/v1/users/me/access-keys/${k0.accessKey}`)).status).toBe(204);
    expect((await s.api('GET', '/api/v1/me', undefined, { accessKey: k0.accessKey, secretKey: regen.body.secretKey })).status).toBe(401);
    // Secrets never reach the database in the clear.
    const db = JSON.stringify((await s.api('GET', '/api/v1/audit?perPage=100')).body);
    expect(db).not.toContain(created[1].secretKey);
  });

  it('records every write in the audit log with who and from where', async () => {
    // what this file's admin did (other files write to the shared server's log at the same time)
    const audit = await s.api('GET', `/api/v1/audit?perPage=100&actor=${s.username}`);
    expect(audit.status).toBe(200);
    expect(audit.body.items.length).toBeGreaterThan(0);
    expect(audit.body.items.every((e: { actor: string }) => e.actor === s.username)).toBe(true);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    for (const a of ['RegistryCreated', 'RegistryDeleted', 'ArtifactPushed', 'TagCreated', 'TagDeleted', 'ArtifactDeleted', 'ImageDeleted', 'UserCreated', 'AccessKeyCreated', 'AccessKeyDeleted']) {
      expect(actions, a).toContain(a);
    }
    const created = audit.body.items.find((e: { action: string; target: string }) => e.action === 'RegistryCreated' && e.target === TEAM);
    expect(created).toMatchObject({ actor: s.username, remoteAddr: '127.0.0.1' });
  });

  it('serves the OpenAPI document, docs, health, readiness and metrics', async () => {
    const doc = await fetch(`${s.url}/api/v1/openapi.json`);
    expect(doc.status).toBe(200);
    const spec = (await doc.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toContain('/api/v1/registries');
    expect((await fetch(`${s.url}/api/v1/docs`, { redirect: 'follow' })).status).toBe(200);
    expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toEqual({ database: 'ok', storage: 'ok' });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('ncr_http_requests_total{method="PUT",route="oci_manifest",status="201"}');
    expect(metrics).toContain('ncr_http_request_duration_seconds_bucket');
    expect(metrics).toContain('ncr_uploads_in_progress');
  });

  it('creating a tag answers with the tag even when more than a page (100) of tags contain its name', async () => {
    expect((await s.api('POST', '/api/v1/registries', { name: TAGGED })).status).toBe(201);
    const img = await c.pushImage(`${TAGGED}/app`, 'a-build-000', 'tagged');
    for (let i = 1; i <= 100; i++) expect((await c.pushManifest(`${TAGGED}/app`, `a-build-${String(i).padStart(3, '0')}`, img.body)).status).toBe(201);
    // all 101 contain "build" and sort before it
    const created = await s.api('POST', `/api/v1/registries/${TAGGED}/images/app/tags`, { name: 'build', digest: img.digest });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'build', digest: img.digest, pulledAt: null });
    expect(Date.parse(created.body.pushedAt)).toBeGreaterThan(0);
    const moved = await s.api('POST', `/api/v1/registries/${TAGGED}/images/app/tags`, { name: 'a-build-100', digest: img.digest });
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ name: 'a-build-100', digest: img.digest });
    expect((await s.api('GET', `/api/v1/registries/${TAGGED}/images/app/tags?perPage=1`)).body.total).toBe(102);
  });
});

// A server of its own: "admin" must be the only admin, and the failed-login limit is low (and locks out 127.0.0.1).
describe.each(DB_KINDS)('management API on a server of its own (%s)', (db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ db, config: { auth: { login: { failureLimit: 2, failureWindowSeconds: 60 } } } });
  });
  afterAll(async () => s?.close());

  it('the last admin can be neither demoted nor removed', async () => {
    expect((await s.api('PATCH', '/api/v1/users/admin', { role: 'viewer' })).status).toBe(409);
    expect((await s.api('DELETE', '/api/v1/users/admin')).status).toBe(409);
    expect((await s.api('GET', '/api/v1/users/admin')).body.role).toBe('admin');
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After, as /service/token does, not 401', async () => {
    const wrong = { accessKey: 'AKNOSUCHKEY000000001', secretKey: 'wrong' };
    for (let i = 0; i < 2; i++) {
      const res = await s.api('GET', '/api/v1/registries', undefined, wrong);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Basic');
    }
    const limited = await s.api('GET', '/api/v1/registries', undefined, wrong);
    expect(limited.status).toBe(429);
    expect(limited.body.errors[0].code).toBe('TOOMANYREQUESTS');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('www-authenticate')).toBeNull();
    // the address is limited, whatever key it sends now: the API and the token endpoint agree
    const api = await s.api('GET', '/api/v1/me');
    expect(api.status).toBe(429);
    const token = await fetch(`${s.url}/service/token`, { headers: { authorization: basic(s.admin) } });
    expect(token.status).toBe(429);
    expect(api.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(token.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
