/**
 * The webhook store (storage/meta/kysely/webhooks.repo.ts) against each database directly: names unique per
 * registry, at most one delivery per webhook and event, history paging, the breaker's one trial request, the purge,
 * and everything going with its registry.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/domain/webhooks/model.js';
import type { StoredWebhook } from '../../src/domain/webhooks/ports.js';
import { openMetaDb, type MetaDb } from '../../src/storage/meta/kysely/connect.js';
import { KyselyRegistryStore } from '../../src/storage/meta/kysely/registry.repo.js';
import { KyselyWebhookStore } from '../../src/storage/meta/kysely/webhooks.repo.js';
import { createPgDatabase, DB_KINDS } from '../helpers/server.js';

const T = 1_700_000_000_000;

describe.each(DB_KINDS)('webhook store (%s)', (db) => {
  let meta: MetaDb;
  let store: KyselyWebhookStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      meta = await openMetaDb({ databaseUrl: pg.url, dataDir: tmpdir() });
      cleanup = async () => {
        await meta.close();
        await pg.drop();
      };
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'ncr-whstore-'));
      meta = await openMetaDb({ dataDir: dir });
      cleanup = async () => {
        await meta.close();
        await rm(dir, { recursive: true, force: true });
      };
    }
    store = new KyselyWebhookStore(meta.db);
    const registries = new KyselyRegistryStore(meta.db);
    for (const name of ['one', 'two']) await registries.create({ id: randomUUID(), name, createdAt: T, createdBy: null, kind: 'standard' });
  });
  afterAll(async () => cleanup?.());

  const hook = (registry: string, name: string, over: Partial<StoredWebhook> = {}): StoredWebhook => ({
    id: randomUUID(),
    registry,
    name,
    description: '',
    targetType: 'http',
    address: 'https://example.com/hook',
    authHeaderSealed: 'sealed-auth',
    secretSealed: null,
    skipCertVerify: false,
    payloadFormat: 'Default',
    eventTypes: ['PUSH_ARTIFACT'],
    enabled: true,
    createdAt: T,
    createdBy: 'admin',
    updatedAt: T,
    breaker: { failures: 0, openUntil: 0 },
    ...over,
  });
  const delivery = (webhookId: string, eventId: string, over: Partial<Delivery> = {}): Delivery & { dedupeKey: string | null } => ({
    id: randomUUID(),
    webhookId,
    eventId,
    eventType: 'PUSH_ARTIFACT',
    status: 'pending',
    payload: '{}',
    contentType: 'application/json',
    attempts: 0,
    createdAt: T,
    nextAttemptAt: T,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    test: false,
    redeliveryOf: null,
    dedupeKey: `${eventId}/PUSH_ARTIFACT`,
    ...over,
  });

  it('keeps names unique per registry and finds the enabled webhooks of an event type', async () => {
    const a = hook('one', 'ci');
    expect(await store.create(a)).toBe(true);
    expect(await store.create(hook('nosuch', 'ci'))).toBe(false);
    await expect(store.create(hook('one', 'ci'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.create(hook('two', 'ci'))).toBe(true);
    await store.create(hook('one', 'pulls', { eventTypes: ['PULL_ARTIFACT'] }));
    await store.create(hook('one', 'off', { enabled: false }));
    expect((await store.enabledFor('one', 'PUSH_ARTIFACT')).map((w) => w.name)).toEqual(['ci']);
    expect((await store.enabledFor('one', 'PULL_ARTIFACT')).map((w) => w.name)).toEqual(['pulls']);
    expect(await store.get('two', a.id)).toBeUndefined();
    expect(await store.get('one', a.id)).toMatchObject({ name: 'ci', authHeaderSealed: 'sealed-auth', registry: 'one' });
    expect((await store.list('one', { page: 1, perPage: 2 })).total).toBe(3);
  });

  it('adds one delivery per webhook and event, pages history newest first with attempts, purges finished ones', async () => {
    const w = hook('one', `d-${db}`);
    await store.create(w);
    const first = delivery(w.id, 'evt-1');
    expect(await store.addDelivery(first)).toBe(true);
    expect(await store.addDelivery(delivery(w.id, 'evt-1'))).toBe(false);
    expect(await store.addDelivery(delivery(w.id, 'evt-1', { test: true, dedupeKey: null } as never))).toBe(true);
    const later = delivery(w.id, 'evt-2', { createdAt: T + 10 });
    await store.addDelivery(later);
    await store.addAttempt({ deliveryId: first.id, n: 1, at: T + 1, statusCode: 500, durationMs: 12, response: 'no', error: 'HTTP 500' });
    await store.addAttempt({ deliveryId: first.id, n: 2, at: T + 2, statusCode: 200, durationMs: 9, response: 'ok', error: null });
    await store.updateDelivery(first.id, { status: 'succeeded', attempts: 2, lastAttemptAt: T + 2, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const page = await store.deliveries(w.id, { page: 1, perPage: 10 });
    expect(page.total).toBe(3);
    expect(page.items[0].id).toBe(later.id);
    const got = page.items.find((d) => d.id === first.id)!;
    expect(got).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200 });
    expect(got.history.map((a) => [a.n, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 200, null],
    ]);
    expect((await store.deliveries(w.id, { page: 1, perPage: 10, status: 'succeeded' })).items.map((d) => d.id)).toEqual([first.id]);
    expect(await store.purgeDeliveries(T + 2)).toBe(0);
    expect(await store.purgeDeliveries(T + 3)).toBe(1);
    expect(await store.attempts(first.id)).toEqual([]);
    expect((await store.deliveries(w.id, { page: 1, perPage: 10 })).total).toBe(2);
  });

  it('opens the breaker at the threshold and lets exactly one trial through after the cooldown', async () => {
    const w = hook('two', `b-${db}`);
    await store.create(w);
    for (let i = 0; i < 2; i++) await store.breakerRecord(w.id, false, T, 3, 1000);
    expect(await store.breakerAcquire(w.id, T, 3, 500)).toEqual({ open: false });
    await store.breakerRecord(w.id, false, T, 3, 1000);
    expect(await store.breakerAcquire(w.id, T + 999, 3, 500)).toEqual({ open: true, until: T + 1000 });
    const racing = await Promise.all(Array.from({ length: 6 }, () => store.breakerAcquire(w.id, T + 1000, 3, 500)));
    expect(racing.filter((r) => !r.open)).toHaveLength(1);
    expect(racing.filter((r) => r.open).every((r) => r.open && r.until === T + 1500)).toBe(true);
    await store.breakerRecord(w.id, false, T + 1200, 3, 1000); // the trial failed: open again
    expect(await store.breakerAcquire(w.id, T + 1300, 3, 500)).toEqual({ open: true, until: T + 2200 });
    await store.breakerRecord(w.id, true, T + 2300, 3, 1000);
    expect((await store.getById(w.id))!.breaker).toEqual({ failures: 0, openUntil: 0 });
  });

  it('goes with its registry, deliveries and attempts too', async () => {
    const w = (await store.list('two', { page: 1, perPage: 100 })).items[0];
    const d = delivery(w.id, 'evt-gone');
    await store.addDelivery(d);
    await store.addAttempt({ deliveryId: d.id, n: 1, at: T, statusCode: 200, durationMs: 1, response: null, error: null });
    const reg = await new KyselyRegistryStore(meta.db).getByName('two');
    await meta.db.deleteFrom('registries').where('id', '=', reg!.id).execute();
    expect((await store.list('two', { page: 1, perPage: 100 })).total).toBe(0);
    expect(await store.getDelivery(d.id)).toBeUndefined();
    expect(await store.attempts(d.id)).toEqual([]);
  });

  it('runs a migration that lands after a later-numbered one has run (capabilities merge out of order: 0009 before 0008)', async () => {
    const fresh = db === 'postgres' ? await createPgDatabase() : undefined;
    const dir = await mkdtemp(join(tmpdir(), 'ncr-whmig-'));
    const open = () => openMetaDb({ databaseUrl: fresh?.url, dataDir: dir });
    try {
      let m = await open();
      // as if 0005 had arrived in a merge after 0008 had run (it is idempotent, so it can run again)
      await sql`delete from kysely_migration where name = '0005_names_in_code_point_order'`.execute(m.db);
      await m.close();
      m = await open();
      const names = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(m.db)).rows.map((r) => r.name);
      expect(names).toContain('0005_names_in_code_point_order');
      expect(names).toContain('0008_webhooks');
      await m.close();
    } finally {
      await fresh?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
