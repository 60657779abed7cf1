/**
 * Remote registry endpoints over the API, on both databases: the secret is write-only and sealed at rest (neither the
 * API, the audit log nor the database holds it in the clear); each provider's credential rules; the guide's port rule
 * and the SSRF guard on a default server; Refresh (check) against a real ncr on loopback with good and bad
 * credentials; deletion refused while something uses the endpoint.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { sharedServer, unique } from '../helpers/shared.js';

const SECRET = 'pa55-Word-never-shown-' + Math.random().toString(36).slice(2);

describe.each(DB_KINDS)('endpoints (%s)', (db) => {
  let s: TestServer;
  let remote: TestServer;

  beforeAll(async () => {
    [s, remote] = await Promise.all([startServer({ db, config: { endpoints: { allowPrivateNetworks: true } } }), startServer({ db: 'sqlite' })]);
  });
  afterAll(async () => {
    await Promise.all([s?.close(), remote?.close()]);
  });

  it('keeps the secret write-only: the API shows only that it is set, and neither the audit log nor the database holds it', async () => {
    const created = await s.api('POST', '/api/v1/endpoints', { name: 'harbor-main', provider: 'harbor', url: 'https://harbor.example.com', accessId: 'robot$ci', secret: SECRET });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'harbor-main', provider: 'harbor', url: 'https://harbor.example.com', accessId: 'robot$ci', secretSet: true, status: 'unchecked' });
    const all = JSON.stringify([created.body, (await s.api('GET', '/api/v1/endpoints')).body, (await s.api('GET', '/api/v1/endpoints/harbor-main')).body]);
    expect(all).not.toContain(SECRET);
    const audit = await s.api('GET', '/api/v1/audit?action=EndpointCreated');
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((e: { target: string }) => e.target)).toContain('endpoint/harbor-main');
    expect(JSON.stringify(audit.body)).not.toContain(SECRET);

    let stored: string;
    if (db === 'sqlite') {
      const d = new Database(join(s.dataDir, 'ncr.db'), { readonly: true });
      stored = JSON.stringify(d.prepare('select * from endpoints').all());
      d.close();
    } else {
      const c = new pg.Client({ connectionString: s.app.config.database.url });
      await c.connect();
      stored = JSON.stringify((await c.query('select * from endpoints')).rows);
      await c.end();
    }
    expect(stored).toContain('harbor-main');
    expect(stored).not.toContain(SECRET);

    // a change that leaves the secret alone keeps it; null removes it
    const changed = await s.api('PATCH', '/api/v1/endpoints/harbor-main', { description: 'the main Harbor' });
    expect(changed.body).toMatchObject({ description: 'the main Harbor', secretSet: true });
    expect((await s.api('PATCH', '/api/v1/endpoints/harbor-main', { secret: null })).body).toMatchObject({ secretSet: false, accessId: 'robot$ci' });
    expect((await s.api('POST', '/api/v1/endpoints', { name: 'harbor-main', provider: 'harbor', url: 'https://h2.example.com' })).status).toBe(409);
  });

  it("checks each provider's credentials and says what to fix", async () => {
    const tryCreate = (body: Record<string, unknown>) => s.api('POST', '/api/v1/endpoints', { name: `p${Math.random().toString(36).slice(2, 8)}`, ...body });
    const gcrKey = JSON.stringify({ type: 'service_account', client_email: 'ncr@project.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' });
    const gcr = await tryCreate({ provider: 'gcr', url: 'https://asia.gcr.io', secret: gcrKey });
    expect(gcr.status, JSON.stringify(gcr.body)).toBe(201);
    expect(gcr.body.accessId).toBe('_json_key');
    const badGcr = await tryCreate({ provider: 'gcr', url: 'https://asia.gcr.io', secret: 'not json' });
    expect(badGcr.status).toBe(400);
    expect(badGcr.body.errors[0].message).toContain('service account key as JSON');
    const quay = await tryCreate({ provider: 'quay', url: 'https://quay.io', accessId: 'json_file', secret: JSON.stringify({ account_name: 'org+robot', docker_cli_password: 'pw' }) });
    expect(quay.status, JSON.stringify(quay.body)).toBe(201);
    const badQuay = await tryCreate({ provider: 'quay', url: 'https://quay.io', secret: JSON.stringify({ account_name: 'x' }) });
    expect(badQuay.body.errors[0].message).toContain('docker_cli_password');
    const noId = await tryCreate({ provider: 'docker-registry', url: 'https://r.example.com', secret: 'pw' });
    expect(noId.body.errors[0].message).toContain('needs an access id');
    for (const [url, says] of [
      ['ftp://r.example.com', 'https://'],
      ['https://r.example.com/v2/', 'without a path'],
      ['https://user:pw@r.example.com', 'must not carry credentials'],
      ['registry.example.com', 'not a URL'],
    ]) {
      const res = await tryCreate({ provider: 'docker-registry', url });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].message, url).toContain(says);
    }
    expect((await tryCreate({ provider: 'artifactory', url: 'https://a.example.com' })).status).toBe(400);
  });

  it('Refresh asks the remote with the credentials: reachable with a good key, unreachable (and why) with a bad one', async () => {
    const good = await s.api('POST', '/api/v1/endpoints', { name: 'peer-good', provider: 'ncr', url: remote.url, accessId: remote.admin.accessKey, secret: remote.admin.secretKey });
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    const checked = await s.api('POST', '/api/v1/endpoints/peer-good/check');
    expect(checked.body, JSON.stringify(checked.body)).toMatchObject({ status: 'reachable', checkError: null });
    expect(checked.body.checkedAt).toMatch(/^\d{4}-/);
    await s.api('POST', '/api/v1/endpoints', { name: 'peer-bad', provider: 'ncr', url: remote.url, accessId: remote.admin.accessKey, secret: 'wrong' });
    const bad = await s.api('POST', '/api/v1/endpoints/peer-bad/check');
    expect(bad.body.status).toBe('unreachable');
    expect(bad.body.checkError).toMatch(/401|unauthorized|refused|credentials/i);
    expect(bad.body.checkError).not.toContain(remote.admin.secretKey);
    // the status is kept, and a change of the endpoint resets it
    expect((await s.api('GET', '/api/v1/endpoints/peer-good')).body.status).toBe('reachable');
    expect((await s.api('PATCH', '/api/v1/endpoints/peer-good', { description: 'x' })).body.status).toBe('unchecked');
  });

  it('deletion is refused while something uses the endpoint, naming it', async () => {
    const e = (await s.api('POST', '/api/v1/endpoints', { name: 'in-use', provider: 'docker-hub', url: 'https://hub.docker.com' })).body;
    let users: string[] = ['replication rule to-seoul'];
    s.app.endpoints.addUsage(async (id) => (id === e.id ? users : []));
    const refused = await s.api('DELETE', '/api/v1/endpoints/in-use');
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].message).toContain('replication rule to-seoul');
    users = [];
    expect((await s.api('DELETE', '/api/v1/endpoints/in-use')).status).toBe(204);
    expect((await s.api('GET', '/api/v1/endpoints/in-use')).status).toBe(404);
  });
});

describe.each(DB_KINDS)('endpoints on a default server (%s)', (db) => {
  it("keeps the guide's port rule and the SSRF guard: private addresses are refused unless allowed in config", async () => {
    const s = sharedServer(db);
    const odd = await s.api('POST', '/api/v1/endpoints', { name: unique('odd-port'), provider: 'docker-registry', url: 'https://registry.example.com:5000' });
    expect(odd.status).toBe(400);
    expect(odd.body.errors[0].message).toContain('port 80 or 443');
    const name = unique('loop');
    expect((await s.api('POST', '/api/v1/endpoints', { name, provider: 'docker-registry', url: 'http://127.0.0.1' })).status).toBe(201);
    const checked = await s.api('POST', `/api/v1/endpoints/${name}/check`);
    expect(checked.body.status).toBe('unreachable');
    expect(checked.body.checkError).toContain('loopback');
    expect(checked.body.checkError).toContain('endpoints.allowPrivateNetworks');
    expect((await s.api('DELETE', `/api/v1/endpoints/${name}`)).status).toBe(204);
  });
});
