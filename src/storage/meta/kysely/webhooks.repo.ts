/** Webhooks, their deliveries and attempts (domain/webhooks) on SQLite and PostgreSQL. Secrets arrive sealed. */
import { type Selectable, sql } from 'kysely';
import { offsetOf, type Page, type PageRequest } from '../../../domain/pagination.js';
import type { Attempt, Delivery, DeliveryStatus, DeliveryWithHistory, PayloadFormat, TargetType } from '../../../domain/webhooks/model.js';
import type { StoredWebhook, WebhookStore } from '../../../domain/webhooks/ports.js';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhooksTable } from './schema.js';
import { conflict, countOf, fromJson, isUniqueViolation, toJson, type Db } from './util.js';

const toWebhook = (r: Selectable<WebhooksTable> & { registry: string }): StoredWebhook => ({
  id: r.id,
  registry: r.registry,
  name: r.name,
  description: r.description,
  targetType: r.target_type as TargetType,
  address: r.address,
  authHeaderSealed: r.auth_header_sealed,
  secretSealed: r.secret_sealed,
  skipCertVerify: Boolean(r.skip_cert_verify),
  payloadFormat: r.payload_format as PayloadFormat,
  eventTypes: fromJson<string[]>(r.event_types) ?? [],
  enabled: Boolean(r.enabled),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  updatedAt: Number(r.updated_at),
  breaker: { failures: Number(r.breaker_failures), openUntil: Number(r.breaker_open_until) },
});

const num = (v: number | null) => (v == null ? null : Number(v));

const toDelivery = (r: WebhookDeliveriesTable): Delivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  status: r.status as DeliveryStatus,
  payload: r.payload,
  contentType: r.content_type,
  attempts: Number(r.attempts),
  createdAt: Number(r.created_at),
  nextAttemptAt: num(r.next_attempt_at),
  lastAttemptAt: num(r.last_attempt_at),
  lastStatusCode: num(r.last_status_code),
  lastError: r.last_error,
  test: Boolean(r.test),
  redeliveryOf: r.redelivery_of,
});

const toAttempt = (r: WebhookAttemptsTable): Attempt => ({
  deliveryId: r.delivery_id,
  n: Number(r.n),
  at: Number(r.at),
  statusCode: num(r.status_code),
  durationMs: Number(r.duration_ms),
  response: r.response,
  error: r.error,
});

/** The columns a webhook's settings are stored in (written alike on create and update). */
function settingsRow(w: StoredWebhook) {
  return {
    name: w.name,
    description: w.description,
    target_type: w.targetType,
    address: w.address,
    auth_header_sealed: w.authHeaderSealed,
    secret_sealed: w.secretSealed,
    skip_cert_verify: w.skipCertVerify ? 1 : 0,
    payload_format: w.payloadFormat,
    event_types: toJson(w.eventTypes),
    enabled: w.enabled ? 1 : 0,
    updated_at: w.updatedAt,
  };
}

export class KyselyWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  private base() {
    return this.db.selectFrom('webhooks').innerJoin('registries', 'registries.id', 'webhooks.registry_id').selectAll('webhooks').select('registries.name as registry');
  }

  async create(w: StoredWebhook): Promise<boolean> {
    const reg = await this.db.selectFrom('registries').select('id').where('name', '=', w.registry).executeTakeFirst();
    if (!reg) return false;
    try {
      await this.db
        .insertInto('webhooks')
        .values({
          id: w.id,
          registry_id: reg.id,
          ...settingsRow(w),
          created_at: w.createdAt,
          created_by: w.createdBy,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`registry ${w.registry} already has a webhook named "${w.name}": pick another name`, err);
      throw err;
    }
    return true;
  }

  async get(registry: string, id: string) {
    const r = await this.base().where('registries.name', '=', registry).where('webhooks.id', '=', id).executeTakeFirst();
    return r && toWebhook(r);
  }

  async getById(id: string) {
    const r = await this.base().where('webhooks.id', '=', id).executeTakeFirst();
    return r && toWebhook(r);
  }

  async list(registry: string, page: PageRequest): Promise<Page<StoredWebhook>> {
    const rows = await this.base().where('registries.name', '=', registry).orderBy('webhooks.name').orderBy('webhooks.id').limit(page.perPage).offset(offsetOf(page)).execute();
    const total = await countOf(
      this.db.selectFrom('webhooks').innerJoin('registries', 'registries.id', 'webhooks.registry_id').where('registries.name', '=', registry).select((eb) => eb.fn.countAll().as('n')),
    );
    return { items: rows.map(toWebhook), page: page.page, perPage: page.perPage, total };
  }

  async enabledFor(registry: string, eventType: string | null) {
    const rows = await this.base().where('registries.name', '=', registry).where('webhooks.enabled', '=', 1).execute();
    return rows.map(toWebhook).filter((w) => eventType === null || w.eventTypes.includes(eventType));
  }

  async update(w: StoredWebhook) {
    try {
      await this.db
        .updateTable('webhooks')
        .set(settingsRow(w))
        .where('id', '=', w.id)
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`registry ${w.registry} already has a webhook named "${w.name}": pick another name`, err);
      throw err;
    }
  }

  async delete(registry: string, id: string) {
    const w = await this.get(registry, id);
    if (!w) return false;
    const r = await this.db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async addDelivery(d: Delivery & { dedupeKey?: string | null }) {
    const r = await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: d.id,
        webhook_id: d.webhookId,
        event_id: d.eventId,
        event_type: d.eventType,
        dedupe_key: d.dedupeKey ?? null,
        status: d.status,
        payload: d.payload,
        content_type: d.contentType,
        attempts: d.attempts,
        created_at: d.createdAt,
        next_attempt_at: d.nextAttemptAt,
        last_attempt_at: d.lastAttemptAt,
        last_status_code: d.lastStatusCode,
        last_error: d.lastError,
        test: d.test ? 1 : 0,
        redelivery_of: d.redeliveryOf,
      })
      .onConflict((oc) => oc.columns(['webhook_id', 'dedupe_key']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async getDelivery(id: string) {
    const r = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDelivery(r);
  }

  async deliveries(webhookId: string, q: PageRequest & { status?: DeliveryStatus }): Promise<Page<DeliveryWithHistory>> {
    let sel = this.db.selectFrom('webhook_deliveries').where('webhook_id', '=', webhookId);
    if (q.status) sel = sel.where('status', '=', q.status);
    const rows = await sel.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.perPage).offset(offsetOf(q)).execute();
    const total = await countOf(sel.select((eb) => eb.fn.countAll().as('n')));
    const ids = rows.map((r) => r.id);
    const attempts = ids.length === 0 ? [] : await this.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', ids).orderBy('n').execute();
    const byDelivery = new Map<string, Attempt[]>();
    for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), toAttempt(a)]);
    return { items: rows.map((r) => ({ ...toDelivery(r), history: byDelivery.get(r.id) ?? [] })), page: q.page, perPage: q.perPage, total };
  }

  async updateDelivery(id: string, patch: Partial<Pick<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError'>>) {
    const set: Partial<WebhookDeliveriesTable> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.nextAttemptAt !== undefined) set.next_attempt_at = patch.nextAttemptAt;
    if (patch.lastAttemptAt !== undefined) set.last_attempt_at = patch.lastAttemptAt;
    if (patch.lastStatusCode !== undefined) set.last_status_code = patch.lastStatusCode;
    if (patch.lastError !== undefined) set.last_error = patch.lastError;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('webhook_deliveries').set(set).where('id', '=', id).execute();
  }

  async addAttempt(a: Attempt) {
    await this.db
      .insertInto('webhook_attempts')
      .values({ delivery_id: a.deliveryId, n: a.n, at: a.at, status_code: a.statusCode, duration_ms: Math.round(a.durationMs), response: a.response, error: a.error })
      .execute();
  }

  async attempts(deliveryId: string) {
    const rows = await this.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('n').execute();
    return rows.map(toAttempt);
  }

  async purgeDeliveries(before: number) {
    const r = await this.db
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
      .where((eb) => eb(eb.fn.coalesce('last_attempt_at', 'created_at'), '<', before))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async breakerAcquire(webhookId: string, now: number, threshold: number, trialMs: number): Promise<{ open: false } | { open: true; until: number }> {
    const r = await this.db.selectFrom('webhooks').select(['breaker_failures', 'breaker_open_until']).where('id', '=', webhookId).executeTakeFirst();
    if (!r || Number(r.breaker_failures) < threshold) return { open: false };
    const until = Number(r.breaker_open_until);
    if (until > now) return { open: true, until };
    // half open: one trial goes; whoever moves the window first has it
    const claimed = await this.db
      .updateTable('webhooks')
      .set({ breaker_open_until: now + trialMs })
      .where('id', '=', webhookId)
      .where('breaker_open_until', '=', until)
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1 ? { open: false } : { open: true, until: now + trialMs };
  }

  async breakerRecord(webhookId: string, ok: boolean, now: number, threshold: number, cooldownMs: number) {
    if (ok) {
      await this.db.updateTable('webhooks').set({ breaker_failures: 0, breaker_open_until: 0 }).where('id', '=', webhookId).execute();
      return;
    }
    await this.db
      .updateTable('webhooks')
      .set({
        breaker_failures: sql`breaker_failures + 1`,
        breaker_open_until: sql`case when breaker_failures + 1 >= ${threshold} then ${now + cooldownMs} else breaker_open_until end`,
      })
      .where('id', '=', webhookId)
      .execute();
  }
}
