/**
 * Outbound requests refuse loopback, link-local and private addresses unless an admin allows them: on the shared
 * server (default configuration), a webhook aimed at a receiver on 127.0.0.1 — by address, by a name that resolves
 * there, or by an IPv4-mapped IPv6 address — is refused before any connection, and the history says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { DB_KINDS } from '../helpers/server.js';
import { sharedServer, unique, type SharedServer } from '../helpers/shared.js';
import { Receiver } from './receiver.js';

describe.each(DB_KINDS)('webhook SSRF guard (%s)', (db) => {
  let s: SharedServer;
  let rx: Receiver;
  const reg = unique(`ssrf-${db}`);

  beforeAll(async () => {
    s = sharedServer(db);
    rx = await Receiver.start();
    expect((await s.api('POST', '/api/v1/registries', { name: reg })).status).toBe(201);
  });
  afterAll(async () => rx?.stop());

  const tryAddress = async (address: string) => {
    const w = await s.api('POST', `/api/v1/registries/${reg}/webhooks`, { name: `h${Math.random().toString(36).slice(2, 8)}`, address, eventTypes: ['PUSH_ARTIFACT'] });
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    const res = await s.api('POST', `/api/v1/registries/${reg}/webhooks/${w.body.id}/test`);
    expect(res.status).toBe(200);
    return { hook: w.body, delivery: res.body };
  };

  it('refuses loopback by address, by name and IPv4-mapped, before connecting', async () => {
    for (const [address, kind] of [
      [`${rx.url}/hook`, 'loopback'],
      [`http://localhost:${rx.port}/hook`, 'loopback'],
      [`http://[::ffff:127.0.0.1]:${rx.port}/hook`, 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      ['http://10.20.30.40/hook', 'private'],
      ['http://[fd12::1]/hook', 'unique local'],
    ]) {
      const { delivery } = await tryAddress(address);
      expect(delivery, address).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(delivery.lastError, address).toContain(kind);
      expect(delivery.lastError, address).toContain('webhooks.allowPrivateNetworks');
      expect(delivery.history[0].durationMs, address).toBeLessThan(1000);
    }
    expect(rx.received).toEqual([]);
  });

  it('a real push to such a webhook is refused the same way, once (no retries), and the push itself is unaffected', async () => {
    const { hook } = await tryAddress(`${rx.url}/push`);
    const res = await new OciClient(s.url, s.admin).pushImage(`${reg}/app`, '1.0', `ssrf-${db}`);
    expect(res.digest).toMatch(/^sha256:/);
    let d: any;
    for (let i = 0; i < 200 && !d?.history?.length; i++) {
      await new Promise((r) => setTimeout(r, 25));
      d = (await s.api('GET', `/api/v1/registries/${reg}/webhooks/${hook.id}/deliveries`)).body.items.find((x: { test: boolean }) => !x.test);
    }
    expect(d.eventType).toBe('PUSH_ARTIFACT');
    expect(d.history[0].error).toContain('loopback');
    // a refused address is not retried: the refusal would only repeat
    for (let i = 0; i < 200 && d.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      d = (await s.api('GET', `/api/v1/registries/${reg}/webhooks/${hook.id}/deliveries/${d.id}`)).body;
    }
    expect(d).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: null });
    expect(rx.received).toEqual([]);
  });
});
