/**
 * Storage quotas per registry, on both databases: usage counts each blob once per registry; a blob that would take
 * the registry over its quota is refused with 403 DENIED naming the quota (monolithic, chunked, and a cross-repository
 * mount alike), and its upload is gone; one already in the registry always passes; crossing 85% sends QUOTA_WARNING
 * and a refusal QUOTA_EXCEED to webhooks (Harbor's payload); only admins set quotas.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-inprocess.js';
import { Receiver } from '../webhooks/receiver.js';
import { OciClient } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

const bytes = (n: number) => randomBytes(n);

describe.each(DB_KINDS)('registry quotas (%s)', (db) => {
  let s: TestServer;
  let rx: Receiver;
  let oci: OciClient;

  beforeAll(async () => {
    [s, rx] = await Promise.all([startServer({ db, config: { webhooks: { allowPrivateNetworks: true, retryBackoffMs: 100 } } }), Receiver.start()]);
    oci = new OciClient(s.url, s.admin);
    for (const name of ['q', 'free']) expect((await s.api('POST', '/api/v1/registries', { name })).status).toBe(201);
    const hook = await s.api('POST', '/api/v1/registries/q/webhooks', { name: 'quota', address: `${rx.url}/q`, eventTypes: ['QUOTA_WARNING', 'QUOTA_EXCEED'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([s?.close(), rx?.stop()]);
  });

  it('refuses the blob that would go over, counts a shared blob once, warns at 85%, and tells webhooks', async () => {
    const set = await s.api('PUT', '/api/v1/registries/q/quota', { quotaBytes: 10_000 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ quotaBytes: 10_000, storageBytes: 0 });

    const a = bytes(6000);
    await oci.pushBlob('q/one', a);
    // the same blob in another image of the registry costs nothing
    await oci.pushBlob('q/two', a);
    expect((await s.api('GET', '/api/v1/registries/q')).body.storageBytes).toBe(6000);
    // 6000 + 2600 = 8600 >= 8500: the warning
    await oci.pushBlob('q/one', bytes(2600));
    // 8600 + 2000 > 10000: refused, monolithic
    const big = bytes(2000);
    const refused = await oci.req('POST', `/v2/q/one/blobs/uploads/?digest=sha256:${(await import('node:crypto')).createHash('sha256').update(big).digest('hex')}`, {
      body: big,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(refused.status).toBe(403);
    const err = ((await refused.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    expect(err.code).toBe('DENIED');
    expect(err.message).toContain('registry q is over its storage quota');
    expect(err.message).toContain('9.8 KiB');
    // ... and chunked: the session is gone afterwards
    const start = await oci.req('POST', '/v2/q/one/blobs/uploads/');
    const location = start.headers.get('location')!;
    const patched = await oci.req('PATCH', location, { body: big, headers: { 'content-type': 'application/octet-stream' } });
    expect(patched.status).toBe(202);
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(big).digest('hex')}`;
    const closed = await oci.req('PUT', `${patched.headers.get('location')!}${patched.headers.get('location')!.includes('?') ? '&' : '?'}digest=${digest}`);
    expect(closed.status).toBe(403);
    expect((await oci.req('GET', patched.headers.get('location')!)).status).toBe(404);
    // ... and a mount from another registry is refused too
    await oci.pushBlob('free/src', big);
    const mount = await oci.req('POST', `/v2/q/one/blobs/uploads/?mount=${digest}&from=free/src`, { scopes: ['repository:q/one:push,pull', 'repository:free/src:pull'] });
    expect(mount.status).toBe(403);
    expect((await oci.req('HEAD', `/v2/q/one/blobs/${digest}`)).status).toBe(404);
    expect((await s.api('GET', '/api/v1/registries/q')).body.storageBytes).toBe(8600);

    // webhooks: one warning (the push that crossed 85%), and the refusals
    let types: string[] = [];
    for (let i = 0; i < 200; i++) {
      types = rx.received.map((r) => r.json.type as string);
      if (types.filter((t) => t === 'QUOTA_EXCEED').length >= 3 && types.includes('QUOTA_WARNING')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(types.filter((t) => t === 'QUOTA_WARNING')).toHaveLength(1);
    expect(types.filter((t) => t === 'QUOTA_EXCEED')).toHaveLength(3);
    const exceed = rx.received.find((r) => r.json.type === 'QUOTA_EXCEED')!.json;
    expect(exceed.operator).toBe('admin');
    expect(exceed.event_data.repository).toMatchObject({ name: 'one', namespace: 'q', repo_full_name: 'q/one' });
    expect(exceed.event_data.resources[0].digest).toBe(digest);
    expect(exceed.event_data.custom_attributes.Details).toContain('will exceed the configured upper limit');

    // lifting the quota lets it in
    expect((await s.api('PUT', '/api/v1/registries/q/quota', { quotaBytes: null })).body.quotaBytes).toBeNull();
    await oci.pushBlob('q/one', big);
    expect((await s.api('GET', '/api/v1/registries/q')).body.storageBytes).toBe(10_600);
  });

  it('ncr registry quota sets and lifts it, with sizes as people write them', async () => {
    const env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
    const set = await runCli(['--json', 'registry', 'quota', 'free', '1.5GB'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).quotaBytes).toBe(1.5 * 1024 ** 3);
    const bad = await runCli(['registry', 'quota', 'free', 'lots'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('is not a size');
    const lifted = await runCli(['--json', 'registry', 'quota', 'free', 'none'], env);
    expect(JSON.parse(lifted.stdout).quotaBytes).toBeNull();
  });

  it('only admins set quotas, and the value must be a positive whole number', async () => {
    expect((await s.api('PUT', '/api/v1/registries/q/quota', { quotaBytes: 0 })).status).toBe(400);
    expect((await s.api('PUT', '/api/v1/registries/nope/quota', { quotaBytes: 5 })).status).toBe(404);
    const member = await s.api('POST', '/api/v1/users', { username: 'mem', password: 'member-password-1', role: 'member' });
    expect(member.status, JSON.stringify(member.body)).toBe(201);
    const key = await s.api('POST', '/api/v1/users/mem/access-keys', {});
    const creds = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
    const denied = await s.api('PUT', '/api/v1/registries/q/quota', { quotaBytes: 5 }, creds);
    expect(denied.status).toBe(403);
    const audit = await s.api('GET', '/api/v1/audit?action=RegistryQuotaChanged');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(2);
  });
});
