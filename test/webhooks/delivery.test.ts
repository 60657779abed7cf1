/**
 * Webhooks end to end on each database: a real receiver on 127.0.0.1 (HTTP, and HTTPS with a self-signed
 * certificate), real pushes and pulls with skopeo, deletes through the API. The server runs on a ManualClock: retries
 * and the circuit breaker are driven by moving it and running due jobs, not by sleeping.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { skopeo } from '../helpers/clients.js';
import { OciClient } from '../helpers/oci-client.js';
import { buildImage } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { Receiver } from './receiver.js';

const RETRY_MS = 1000;
const COOLDOWN_MS = 30_000;
/** the default timeout (3 s) and 2 s: how long deliveries wait for a breaker's trial request */
const TRIAL_MS = 5000;

describe.each(DB_KINDS)('webhooks (%s)', { timeout: 120_000 }, (db) => {
  let s: TestServer;
  let clock: ManualClock;
  let rx: Receiver;
  let oci: OciClient;
  let work: string;
  let n = 0;
  const creds = () => `${s.admin.accessKey}:${s.admin.secretKey}`;

  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    s = await startServer({
      db,
      adapters: { clock },
      config: { webhooks: { allowPrivateNetworks: true, retryBackoffMs: RETRY_MS, maxAttempts: 4, breaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS } } },
    });
    rx = await Receiver.start();
    oci = new OciClient(s.url, s.admin);
    work = await mkdtemp(join(tmpdir(), 'ncr-wh-'));
  });
  afterAll(async () => {
    await rx?.stop();
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A registry of its own for one test. */
  async function registry(): Promise<string> {
    const name = `wh${++n}`;
    expect((await s.api('POST', '/api/v1/registries', { name })).status).toBe(201);
    return name;
  }
  async function webhook(reg: string, body: Record<string, unknown>) {
    const res = await s.api('POST', `/api/v1/registries/${reg}/webhooks`, { name: `hook-${++n}`, eventTypes: ['PUSH_ARTIFACT'], address: rx.url + `/${reg}`, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; authHeaderSet: boolean; secretSet: boolean };
  }
  const deliveries = async (reg: string, id: string) => {
    const res = await s.api('GET', `/api/v1/registries/${reg}/webhooks/${id}/deliveries?perPage=100`);
    expect(res.status).toBe(200);
    return res.body.items as any[];
  };
  /** Everything due now: buffered pulls, outbox events, delivery jobs. */
  const settle = async () => {
    await s.app.flush();
    await s.app.jobs.runner.runDue();
  };
  const to = (reg: string) => (r: { path: string }) => r.path === `/${reg}`;

  it('creates, lists, changes, disables and deletes webhooks; secrets are never shown; every change is audited', async () => {
    const reg = await registry();
    const w = await webhook(reg, { description: 'ci', authHeader: 'Bearer s3cret-token', secret: 'signing-secret-1', eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'] });
    expect(w).toMatchObject({ authHeaderSet: true, secretSet: true, enabled: true, payloadFormat: 'Default', targetType: 'http', eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'] });
    expect(JSON.stringify(w)).not.toContain('s3cret-token');
    expect(JSON.stringify(w)).not.toContain('signing-secret-1');

    const list = await s.api('GET', `/api/v1/registries/${reg}/webhooks`);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].address).toBe(`${rx.url}/${reg}`);
    expect(JSON.stringify(list.body)).not.toContain('s3cret');
    // a viewer sees the webhook, but not the receiver URL's path (it often is the credential, as Slack's are)
    const viewer = `viewer${n}`;
    expect((await s.api('POST', '/api/v1/users', { username: viewer, role: 'viewer', password: 'viewer-password-1' })).status).toBe(201);
    const vkey = (await s.api('POST', `/api/v1/users/${viewer}/access-keys`)).body;
    const seen = await s.api('GET', `/api/v1/registries/${reg}/webhooks/${w.id}`, undefined, vkey);
    expect(seen.status).toBe(200);
    expect(seen.body.address).toBe(`${rx.url}/…`);

    const changed = await s.api('PATCH', `/api/v1/registries/${reg}/webhooks/${w.id}`, { payloadFormat: 'CloudEvents', authHeader: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ payloadFormat: 'CloudEvents', authHeaderSet: false, secretSet: true });
    expect((await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/disable`)).body.enabled).toBe(false);
    expect((await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/enable`)).body.enabled).toBe(true);

    // refused input names the field
    for (const [body, field] of [
      [{ name: 'x', address: 'ftp://example.com', eventTypes: ['PUSH_ARTIFACT'] }, 'address'],
      [{ name: 'x', address: 'https://example.com', eventTypes: [] }, 'eventTypes'],
      [{ name: 'x', address: 'https://example.com', eventTypes: ['PUSH_ARTIFACT'], targetType: 'email' }, 'targetType'],
    ] as const) {
      const res = await s.api('POST', `/api/v1/registries/${reg}/webhooks`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field);
    }
    const dup = await s.api('POST', `/api/v1/registries/${reg}/webhooks`, { name: changed.body.name, address: 'https://example.com', eventTypes: ['PUSH_ARTIFACT'] });
    expect(dup.status).toBe(409);
    expect((await s.api('GET', `/api/v1/registries/nosuch${n}/webhooks`)).status).toBe(404);

    expect((await s.api('DELETE', `/api/v1/registries/${reg}/webhooks/${w.id}`)).status).toBe(204);
    expect((await s.api('GET', `/api/v1/registries/${reg}/webhooks/${w.id}`)).status).toBe(404);

    // a registry goes with its webhooks
    const doomed = await registry();
    await webhook(doomed, {});
    expect((await s.api('DELETE', `/api/v1/registries/${doomed}`)).status).toBe(204);
    expect((await s.api('POST', '/api/v1/registries', { name: doomed })).status).toBe(201);
    expect((await s.api('GET', `/api/v1/registries/${doomed}/webhooks`)).body.total).toBe(0);

    // every endpoint is in the OpenAPI document
    const spec = (await (await fetch(`${s.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const ops = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'GET /api/v1/webhook-event-types',
      'GET /api/v1/registries/{registry}/webhooks',
      'POST /api/v1/registries/{registry}/webhooks',
      'GET /api/v1/registries/{registry}/webhooks/{id}',
      'PATCH /api/v1/registries/{registry}/webhooks/{id}',
      'DELETE /api/v1/registries/{registry}/webhooks/{id}',
      'POST /api/v1/registries/{registry}/webhooks/{id}/enable',
      'POST /api/v1/registries/{registry}/webhooks/{id}/disable',
      'GET /api/v1/registries/{registry}/webhooks/{id}/deliveries',
      'GET /api/v1/registries/{registry}/webhooks/{id}/deliveries/{deliveryId}',
      'POST /api/v1/registries/{registry}/webhooks/{id}/test',
      'POST /api/v1/registries/{registry}/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    ]) {
      expect(ops, op).toContain(op);
    }

    const audit = await s.api('GET', `/api/v1/audit?perPage=100`);
    const mine = (audit.body.items as { action: string; target: string; detail: string | null }[]).filter((a) => a.target === `${reg}/${changed.body.name}`);
    expect(mine.map((a) => a.action).sort()).toEqual(['WebhookCreated', 'WebhookDeleted', 'WebhookUpdated', 'WebhookUpdated', 'WebhookUpdated'].sort());
    expect(JSON.stringify(mine)).not.toContain('s3cret');
  });

  it('skopeo push, pull and an API delete send exactly Harbor’s Default payloads, in order, signed', async () => {
    const reg = await registry();
    const w = await webhook(reg, { authHeader: 'Bearer hook-token', secret: 'signing-secret-2', eventTypes: ['PUSH_ARTIFACT', 'PULL_ARTIFACT', 'DELETE_ARTIFACT'] });
    const image = await buildImage({ dir: join(work, `img${n}`), tag: '1.0', seed: `wh-${db}` });
    const t0 = clock.now();
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(), image.ref, `docker://${s.host}/${reg}/app:1.0`]);
    await settle();
    const t1 = clock.advance(2000);
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', creds(), `docker://${s.host}/${reg}/app:1.0`, `oci:${join(work, `back${n}`)}:1.0`]);
    await settle();
    const t2 = clock.advance(2000);
    expect((await s.api('DELETE', `/api/v1/registries/${reg}/images/app/artifacts/${image.manifestDigest}`)).status).toBe(204);
    await settle();

    const got = await rx.waitFor(3, to(reg));
    const repository = { date_created: Math.floor(t0 / 1000), name: 'app', namespace: reg, repo_full_name: `${reg}/app`, repo_type: 'private' };
    const resource = { digest: image.manifestDigest, tag: '1.0', resource_url: `${s.host}/${reg}/app:1.0` };
    const expected = (type: string, t: number) => ({ type, occur_at: Math.floor(t / 1000), operator: 'admin', event_data: { resources: [resource], repository } });
    // byte for byte: Harbor's field names and order
    expect(got.map((r) => r.body)).toEqual([expected('PUSH_ARTIFACT', t0), expected('PULL_ARTIFACT', t1), expected('DELETE_ARTIFACT', t2)].map((p) => JSON.stringify(p)));

    const history = await deliveries(reg, w.id);
    expect(history.map((d) => [d.eventType, d.status, d.attempts])).toEqual([
      ['DELETE_ARTIFACT', 'succeeded', 1],
      ['PULL_ARTIFACT', 'succeeded', 1],
      ['PUSH_ARTIFACT', 'succeeded', 1],
    ]);
    const push = got[0];
    const pushDelivery = history[2];
    expect(push.method).toBe('POST');
    expect(push.headers['content-type']).toBe('application/json');
    expect(push.headers['user-agent']).toMatch(/^ncr\/\d+\.\d+\.\d+/);
    expect(push.headers.authorization).toBe('Bearer hook-token');
    expect(push.headers['x-ncr-delivery']).toBe(pushDelivery.id);
    expect(push.headers['x-ncr-event']).toBe('PUSH_ARTIFACT');
    expect(push.headers['x-ncr-signature-256']).toBe('sha256=' + createHmac('sha256', 'signing-secret-2').update(push.body).digest('hex'));
    expect(pushDelivery.payload).toBe(push.body);
    expect(pushDelivery.history).toEqual([{ n: 1, at: new Date(t0).toISOString(), statusCode: 200, durationMs: expect.any(Number), response: 'ok', error: null }]);
  });

  it('deleting a whole image sends DELETE_ARTIFACT for each of its artifacts, with their tags', async () => {
    const reg = await registry();
    await webhook(reg, { eventTypes: ['DELETE_ARTIFACT'] });
    const one = await oci.pushImage(`${reg}/gone`, 'v1', `gone1-${db}`);
    const two = await oci.pushImage(`${reg}/gone`, 'v2', `gone2-${db}`);
    await settle();
    expect((await s.api('DELETE', `/api/v1/registries/${reg}/images/gone`)).status).toBe(204);
    await settle();
    const got = await rx.waitFor(2, to(reg));
    const resources = got.map((r) => r.json.event_data.resources[0]).sort((a: { tag: string }, b: { tag: string }) => a.tag.localeCompare(b.tag));
    expect(resources).toEqual([
      { digest: one.digest, tag: 'v1', resource_url: `${s.host}/${reg}/gone:v1` },
      { digest: two.digest, tag: 'v2', resource_url: `${s.host}/${reg}/gone:v2` },
    ]);
    expect(got.every((r) => r.json.type === 'DELETE_ARTIFACT')).toBe(true);
  });

  it('sends CloudEvents 1.0 and Slack Block Kit, field by field', async () => {
    const reg = await registry();
    const ce = await webhook(reg, { payloadFormat: 'CloudEvents' });
    await webhook(reg, { targetType: 'slack', address: rx.url + `/${reg}-slack` });
    const t = clock.now();
    const { digest } = await oci.pushImage(`${reg}/svc`, 'v2', `ce-${db}`);
    await settle();
    const [ceReq] = await rx.waitFor(1, to(reg));
    const [slackReq] = await rx.waitFor(1, (r) => r.path === `/${reg}-slack`);

    expect(ceReq.headers['content-type']).toBe('application/cloudevents+json');
    const e = ceReq.json;
    expect(Object.keys(e)).toEqual(['specversion', 'id', 'source', 'type', 'datacontenttype', 'time', 'operator', 'data']);
    expect(e.specversion).toBe('1.0');
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.source).toBe(`/registries/${reg}/webhooks/${ce.id}`);
    expect(e.type).toBe('harbor.artifact.pushed');
    expect(e.datacontenttype).toBe('application/json');
    expect(e.time).toBe(new Date(t).toISOString());
    expect(e.operator).toBe('admin');
    expect(e.data).toEqual({
      resources: [{ digest, tag: 'v2', resource_url: `${s.host}/${reg}/svc:v2` }],
      repository: { date_created: Math.floor(t / 1000), name: 'svc', namespace: reg, repo_full_name: `${reg}/svc`, repo_type: 'private' },
    });
    expect(ceReq.headers['x-ncr-event-id']).toBe(e.id);

    const m = slackReq.json;
    expect(slackReq.headers['content-type']).toBe('application/json');
    expect(m.text).toBe(`Artifact pushed: ${reg}/svc:v2 by admin`);
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `Artifact pushed: ${reg}/svc:v2`, emoji: false } });
    expect(m.blocks[1].type).toBe('section');
    expect(m.blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*Event*\nArtifact pushed (PUSH_ARTIFACT)',
      `*Image*\n\`${reg}/svc:v2\``,
      `*Digest*\n\`${digest}\``,
      '*By*\nadmin',
      `*When*\n${new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
    ]);
    expect(m.blocks[2]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `\`${s.host}/${reg}/svc:v2\`` }] });
    const attached = m.blocks[3].text.text as string;
    expect(attached.startsWith('```') && attached.endsWith('```')).toBe(true);
    expect(JSON.parse(attached.slice(3, -3))).toMatchObject({ type: 'PUSH_ARTIFACT', operator: 'admin', event_data: { resources: [{ digest, tag: 'v2' }] } });
  });

  it('retries a receiver that is down with backoff and delivers once it is up; the history says why each attempt failed', async () => {
    const reg = await registry();
    const down = await Receiver.start();
    const port = down.port;
    await down.stop();
    const w = await webhook(reg, { address: `http://127.0.0.1:${port}/${reg}` });
    await oci.pushImage(`${reg}/app`, '1.0', `down-${db}`);
    await settle();
    let [d] = await deliveries(reg, w.id);
    expect(d).toMatchObject({ status: 'retrying', attempts: 1, lastStatusCode: null });
    expect(d.history[0].error).toMatch(/ECONNREFUSED/);
    expect(d.nextAttemptAt).toBe(new Date(clock.now() + RETRY_MS).toISOString());

    clock.advance(RETRY_MS);
    await settle();
    [d] = await deliveries(reg, w.id);
    expect(d).toMatchObject({ status: 'retrying', attempts: 2 });

    await down.listen(port);
    clock.advance(RETRY_MS * 2 - 1);
    await settle();
    expect(down.received).toHaveLength(0); // not due yet: backoff doubled
    clock.advance(1);
    await settle();
    await down.waitFor(1);
    [d] = await deliveries(reg, w.id);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null });
    expect(d.history.map((a: { statusCode: number | null; error: string | null }) => [a.statusCode, a.error === null])).toEqual([
      [null, false],
      [null, false],
      [200, true],
    ]);
    await down.stop();
  });

  it('marks a delivery failed after maxAttempts with the status codes; Redeliver sends it again', async () => {
    const reg = await registry();
    const bad = await Receiver.start();
    bad.behaviour = { status: 500, body: 'receiver exploded' };
    const w = await webhook(reg, { address: `${bad.url}/x` });
    await oci.pushImage(`${reg}/app`, '1.0', `fail-${db}`);
    await settle();
    for (let i = 1; i < 4; i++) {
      clock.advance(RETRY_MS * 2 ** (i - 1));
      await settle();
    }
    let [d] = await deliveries(reg, w.id);
    // the breaker opened at the third failure: the fourth attempt waited for its cooldown
    expect(d.attempts).toBe(3);
    clock.advance(COOLDOWN_MS);
    await settle();
    [d] = await deliveries(reg, w.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(d.history.map((a: { response: string }) => a.response)).toEqual(Array(4).fill('receiver exploded'));
    expect(bad.received).toHaveLength(4);

    bad.behaviour = {};
    const again = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/deliveries/${d.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ redeliveryOf: d.id, status: 'pending', payload: d.payload });
    await settle();
    await bad.waitFor(5);
    expect(bad.received[4].body).toBe(d.payload);
    expect(bad.received[4].headers['x-ncr-delivery']).toBe(again.body.id);
    const list = await deliveries(reg, w.id);
    expect(list.find((x) => x.id === again.body.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // only failed deliveries are redelivered
    expect((await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/deliveries/${again.body.id}/redeliver`)).status).toBe(409);
    await bad.stop();
  });

  it('a dead receiver opens its breaker and does not hold up another webhook', async () => {
    const reg = await registry();
    const dead = await Receiver.start();
    dead.behaviour = { status: 503 };
    const deadHook = await webhook(reg, { address: `${dead.url}/dead` });
    await webhook(reg, {});
    for (let i = 0; i < 3; i++) {
      await oci.pushImage(`${reg}/app`, `${i}`, `breaker-${db}-${i}`);
      await settle();
    }
    // three failures in a row (one per push): open
    expect(dead.received).toHaveLength(3);
    const hook = (await s.api('GET', `/api/v1/registries/${reg}/webhooks/${deadHook.id}`)).body;
    expect(hook.breaker).toEqual({ failures: 3, openUntil: new Date(clock.now() + COOLDOWN_MS).toISOString() });
    await oci.pushImage(`${reg}/app`, 'more', `breaker-${db}-more`);
    clock.advance(RETRY_MS * 4);
    await settle();
    expect(dead.received).toHaveLength(3); // open: nothing sent, the deliveries wait
    await rx.waitFor(4, to(reg)); // the healthy one has them all
    // after the cooldown one trial goes first, the others wait for its outcome; its success closes the breaker and the
    // rest follow
    // (the trial answers slowly: the deliveries due with it ask the breaker while it is in flight, and wait)
    dead.behaviour = { delayMs: 1500 };
    clock.advance(COOLDOWN_MS);
    await settle();
    expect(dead.received).toHaveLength(4);
    dead.behaviour = {};
    clock.advance(TRIAL_MS);
    await settle();
    const after = (await s.api('GET', `/api/v1/registries/${reg}/webhooks/${deadHook.id}`)).body;
    expect(after.breaker).toEqual({ failures: 0, openUntil: null });
    const ds = await deliveries(reg, deadHook.id);
    expect(ds.every((d) => d.status === 'succeeded')).toBe(true);
    await dead.stop();
  });

  it('Test sends a sample event now and returns the outcome; HTTPS with a self-signed certificate needs skipCertVerify', async () => {
    const reg = await registry();
    const secure = await Receiver.start({ tls: true });
    const w = await webhook(reg, { address: `${secure.url}/tls`, eventTypes: ['PULL_ARTIFACT'] });
    let res = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ test: true, status: 'failed', attempts: 1, lastStatusCode: null });
    expect(res.body.lastError).toMatch(/TLS|certificate/i);
    expect(secure.received).toHaveLength(0);

    await s.api('PATCH', `/api/v1/registries/${reg}/webhooks/${w.id}`, { skipCertVerify: true });
    res = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/test`);
    expect(res.body).toMatchObject({ test: true, status: 'succeeded', attempts: 1, lastStatusCode: 200, eventType: 'PULL_ARTIFACT' });
    expect(secure.received).toHaveLength(1);
    expect(secure.received[0].json).toMatchObject({ type: 'PULL_ARTIFACT', operator: 'admin', event_data: { repository: { repo_full_name: `${reg}/ncr-webhook-test` } } });
    await secure.stop();
  });

  it('sends nothing for a disabled webhook or an event type it does not want, and nothing twice', async () => {
    const reg = await registry();
    const off = await webhook(reg, { enabled: false, address: rx.url + `/${reg}-off` });
    const pullsOnly = await webhook(reg, { eventTypes: ['PULL_ARTIFACT'], address: rx.url + `/${reg}-pulls` });
    await oci.pushImage(`${reg}/app`, '1.0', `off-${db}`);
    await settle();
    // the outbox delivers at least once: a second fan-out of the same event adds nothing
    const added = await s.app.webhooks.fanOut({ seq: 1, id: 'evt-repeat', event: { type: 'ArtifactPushed', at: clock.now(), actor: { userId: null, username: 'admin' }, repository: `${reg}/app`, digest: 'sha256:' + 'a'.repeat(64), mediaType: 'x', size: 1 } });
    expect(added).toBe(0);
    expect(await deliveries(reg, off.id)).toEqual([]);
    expect(await deliveries(reg, pullsOnly.id)).toEqual([]);
    expect(rx.received.filter((r) => r.path.startsWith(`/${reg}-`))).toEqual([]);
  });

  it('maps a finished cleanup run to TAG_RETENTION, dry runs excepted', async () => {
    const reg = await registry();
    const w = await webhook(reg, { eventTypes: ['TAG_RETENTION'] });
    const event = (dryRun: boolean) => ({ type: 'CleanupRunFinished' as const, at: clock.now(), actor: { userId: null, username: null }, registry: reg, executionId: `exec-${dryRun}`, dryRun, status: 'succeeded', counts: { artifacts: 6, kept: 3, protected: 1, deleted: 2 } });
    expect(await s.app.webhooks.fanOut({ seq: 1, id: `dry-${reg}`, event: event(true) })).toBe(0);
    expect(await s.app.webhooks.fanOut({ seq: 2, id: `real-${reg}`, event: event(false) })).toBe(1);
    await settle();
    const [r] = await rx.waitFor(1, to(reg));
    expect(r.json).toEqual({
      type: 'TAG_RETENTION',
      occur_at: Math.floor(clock.now() / 1000),
      operator: 'system',
      event_data: { retention: { total: 6, retained: 4, hostname: s.host, project_name: reg, execution_id: 'exec-false', result: 'SUCCEEDED', counts: { artifacts: 6, kept: 3, protected: 1, deleted: 2 } } },
    });
    expect((await deliveries(reg, w.id))[0].eventType).toBe('TAG_RETENTION');
    // Test sends a sample of the webhook's own type
    const sample = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/test`);
    expect(sample.body).toMatchObject({ status: 'succeeded', eventType: 'TAG_RETENTION' });
    expect(JSON.parse(sample.body.payload).event_data.retention).toMatchObject({ project_name: reg, execution_id: 'ncr-webhook-test' });
  });

  it('never follows a redirect', async () => {
    const reg = await registry();
    const hop = await Receiver.start();
    hop.behaviour = { status: 302, headers: { location: `${rx.url}/${reg}-redirected` } };
    const w = await webhook(reg, { address: `${hop.url}/start` });
    const res = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/test`);
    expect(res.body).toMatchObject({ status: 'failed', lastStatusCode: 302 });
    expect(res.body.lastError).toContain('redirects are not followed');
    expect(rx.received.filter((r) => r.path === `/${reg}-redirected`)).toEqual([]);
    await hop.stop();
  });

  it('a slow receiver does not slow pushes: they are acknowledged long before it answers', async () => {
    const reg = await registry();
    const slow = await Receiver.start();
    const DELAY = 2800; // under the 3 s timeout: every delivery succeeds, late
    slow.behaviour = { delayMs: DELAY };
    await webhook(reg, { address: `${slow.url}/slow` });
    const timed = async (repo: string, tag: string) => {
      const t = performance.now();
      await oci.pushImage(repo, tag, `${repo}-${tag}-${db}`);
      return performance.now() - t;
    };
    const latencies: number[] = [];
    for (let i = 1; i <= 4; i++) latencies.push(await timed(`${reg}/app`, `${i}`));
    // a push that waited for its delivery would take the receiver's 2.8 s at least
    for (const ms of latencies) expect(ms).toBeLessThan(DELAY - 300);
    await slow.waitFor(4);
    await s.app.jobs.runner.runDue();
    await slow.stop();
  });

  it('gives a receiver that does not answer 3 s, then records the timeout', async () => {
    const reg = await registry();
    const silent = await Receiver.start();
    silent.behaviour = { hang: true };
    const w = await webhook(reg, { address: `${silent.url}/silent` });
    const t = performance.now();
    const res = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.id}/test`);
    const took = performance.now() - t;
    expect(res.body).toMatchObject({ status: 'failed', lastStatusCode: null, lastError: 'no response within 3000 ms' });
    expect(res.body.history[0].durationMs).toBeGreaterThanOrEqual(2900);
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(6000);
    expect(silent.received).toHaveLength(1);
    await silent.stop();
  });
});
