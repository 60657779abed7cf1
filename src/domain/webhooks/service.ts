/**
 * Webhooks: a registry's settings (create, change, enable, disable, delete; every change an audited event), the fan
 * out from the outbox (each matching event becomes one delivery row and one job per enabled webhook, in one
 * transaction, quickly: no HTTP there, so a slow receiver never holds up the outbox or a push), and the delivery job
 * (one POST per attempt, every attempt recorded, retries with exponential backoff, a circuit breaker per webhook kept
 * in the database so every node sees it). Test sends a sample event now; Redeliver sends a failed delivery again.
 */
import { randomUUID } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor, StoredEvent } from '../events.js';
import { OutboundError, type OutboundHttp, type OutboundResponse } from '../outbound/ports.js';
import type { Page, PageRequest } from '../pagination.js';
import type { UnitOfWork } from '../uow.js';
import { eventDef, webhookTypesOf } from './event-types.js';
import { validateInput, type Attempt, type Delivery, type DeliveryWithHistory, type PayloadFormat, type TargetType, type Webhook, type WebhookInput } from './model.js';
import { deliveryBatchJob, deliveryJob, newDelivery, sampleEvent, signature } from './deliveries.js';
import { buildBody } from './payloads.js';
import type { RegistryLookup, SecretBox, StoredWebhook, WebhookStore, WebhookStores } from './ports.js';


export interface WebhookSettings {
  timeoutMs: number;
  /** attempts per delivery in all (the first included) */
  maxAttempts: number;
  /** delay before the second attempt; doubled for each further one */
  retryBackoffMs: number;
  breaker: { failureThreshold: number; cooldownMs: number };
}

/** What the API shows of a webhook: its secrets only as set or not. */
export type WebhookView = Omit<Webhook, 'authHeader' | 'secret'> & { authHeaderSet: boolean; secretSet: boolean };

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How long a registry's enabled webhooks are remembered for the fan-out (changes drop them at once, on every node). */
const HOOKS_CACHE_MS = 5_000;
const EXCERPT = 1024;

export class WebhookService {
  /** registry → its enabled webhooks, for the fan-out: a busy registry's pulls do not each read the table */
  private readonly enabledCache = new Map<string, { until: number; hooks: Promise<StoredWebhook[]> }>();

  constructor(
    private readonly store: WebhookStore,
    private readonly uow: UnitOfWork<WebhookStores>,
    private readonly http: OutboundHttp,
    private readonly box: SecretBox,
    private readonly lookup: RegistryLookup & { registryExists(name: string): Promise<boolean> },
    private readonly queue: { poke(): void },
    private readonly clock: Clock,
    private readonly settings: WebhookSettings,
  ) {}

  // --- settings -----------------------------------------------------------------------------------------------------

  async list(registry: string, page: PageRequest): Promise<Page<WebhookView>> {
    await this.requireRegistry(registry);
    const p = await this.store.list(registry, page);
    return { ...p, items: p.items.map(view) };
  }

  async get(registry: string, id: string): Promise<WebhookView> {
    return view(await this.stored(registry, id));
  }

  async create(registry: string, input: WebhookInput, actor: Actor): Promise<WebhookView> {
    requireActor(actor, 'webhook:change', { registry });
    const v = validateInput(input, true);
    const now = this.clock.now();
    const w: StoredWebhook = {
      id: randomUUID(),
      registry,
      name: v.name!,
      description: v.description ?? '',
      targetType: v.targetType as TargetType,
      address: v.address!,
      authHeaderSealed: v.authHeader ? this.box.seal(v.authHeader) : null,
      secretSealed: v.secret ? this.box.seal(v.secret) : null,
      skipCertVerify: v.skipCertVerify ?? false,
      payloadFormat: v.payloadFormat as PayloadFormat,
      eventTypes: v.eventTypes!,
      enabled: v.enabled ?? true,
      createdAt: now,
      createdBy: actor.username,
      updatedAt: now,
      breaker: { failures: 0, openUntil: 0 },
    };
    await this.uow.transaction(async (tx) => {
      if (!(await tx.webhooks.create(w))) throw new NcrError('NOT_FOUND', `registry ${registry} does not exist`);
      tx.publish({ type: 'WebhookCreated', at: now, actor, registry, id: w.id, name: w.name, detail: settingsDetail(w) });
    });
    this.forget(registry);
    return view(w);
  }

  async update(registry: string, id: string, input: WebhookInput, actor: Actor): Promise<WebhookView> {
    requireActor(actor, 'webhook:change', { registry });
    const v = validateInput(input, false);
    const now = this.clock.now();
    const updated = await this.uow.transaction(async (tx) => {
      const w = await tx.webhooks.get(registry, id);
      if (!w) throw notFound(registry, id);
      const next: StoredWebhook = {
        ...w,
        ...(v.name !== undefined ? { name: v.name } : {}),
        ...(v.description !== undefined ? { description: v.description } : {}),
        ...(v.targetType !== undefined ? { targetType: v.targetType as TargetType } : {}),
        ...(v.address !== undefined ? { address: v.address } : {}),
        ...(v.skipCertVerify !== undefined ? { skipCertVerify: v.skipCertVerify } : {}),
        ...(v.payloadFormat !== undefined ? { payloadFormat: v.payloadFormat as PayloadFormat } : {}),
        ...(v.eventTypes !== undefined ? { eventTypes: v.eventTypes } : {}),
        ...(v.enabled !== undefined ? { enabled: v.enabled } : {}),
        ...(v.authHeader !== undefined ? { authHeaderSealed: v.authHeader === null ? null : this.box.seal(v.authHeader) } : {}),
        ...(v.secret !== undefined ? { secretSealed: v.secret === null ? null : this.box.seal(v.secret) } : {}),
        updatedAt: now,
      };
      await tx.webhooks.update(next);
      const changed = Object.keys(v).filter((k) => k !== 'authHeader' && k !== 'secret');
      const detail: Record<string, unknown> = { changed: Object.keys(v), ...pick(settingsDetail(next), changed) };
      tx.publish({ type: 'WebhookUpdated', at: now, actor, registry, id, name: next.name, detail });
      return next;
    });
    this.forget(registry);
    return view(updated);
  }

  setEnabled(registry: string, id: string, enabled: boolean, actor: Actor): Promise<WebhookView> {
    return this.update(registry, id, { enabled }, actor);
  }

  async delete(registry: string, id: string, actor: Actor): Promise<void> {
    requireActor(actor, 'webhook:change', { registry });
    await this.uow.transaction(async (tx) => {
      const w = await tx.webhooks.get(registry, id);
      if (!w || !(await tx.webhooks.delete(registry, id))) throw notFound(registry, id);
      tx.publish({ type: 'WebhookDeleted', at: this.clock.now(), actor, registry, id, name: w.name });
    });
    this.forget(registry);
  }

  /** Drops what the fan-out remembers of a registry's webhooks (all registries when none is named). */
  forget(registry?: string): void {
    if (registry === undefined) this.enabledCache.clear();
    else this.enabledCache.delete(registry);
  }

  private async enabledFor(registry: string, eventType: string): Promise<StoredWebhook[]> {
    let hit = this.enabledCache.get(registry);
    if (!hit || hit.until <= Date.now()) {
      hit = { until: Date.now() + HOOKS_CACHE_MS, hooks: this.store.enabledFor(registry, null) };
      this.enabledCache.set(registry, hit);
      hit.hooks.catch(() => this.enabledCache.delete(registry));
    }
    return (await hit.hooks).filter((w) => w.eventTypes.includes(eventType));
  }

  async deliveries(registry: string, id: string, q: PageRequest & { status?: Delivery['status'] }): Promise<Page<DeliveryWithHistory>> {
    await this.stored(registry, id);
    return this.store.deliveries(id, q);
  }

  async delivery(registry: string, id: string, deliveryId: string): Promise<DeliveryWithHistory> {
    await this.stored(registry, id);
    const d = await this.store.getDelivery(deliveryId);
    if (!d || d.webhookId !== id) throw new NcrError('NOT_FOUND', `delivery ${deliveryId} of webhook ${id} does not exist`);
    return { ...d, history: await this.store.attempts(d.id) };
  }

  /** Sends a sample event (of the first type the webhook sends that ncr produces, else PUSH_ARTIFACT) now, once. */
  async test(registry: string, id: string, actor: Actor): Promise<DeliveryWithHistory> {
    requireActor(actor, 'webhook:change', { registry });
    const w = await this.stored(registry, id);
    const def = w.eventTypes.map(eventDef).find((d) => d?.source) ?? eventDef('PUSH_ARTIFACT')!;
    const now = this.clock.now();
    const sample = sampleEvent(def, registry, actor, now);
    const eventId = randomUUID();
    const built = buildBody(w, def, sample, eventId, { registryHost: this.lookup.registryHost(), repositoryCreatedAt: now });
    const d = newDelivery(w.id, eventId, def.type, built, now, { test: true });
    await this.store.addDelivery(d);
    await this.attempt(d, w, undefined);
    return this.delivery(registry, id, d.id);
  }

  /** Sends a failed (or cancelled) delivery again, as a new delivery with the same body and a fresh set of attempts. */
  async redeliver(registry: string, id: string, deliveryId: string, actor: Actor): Promise<DeliveryWithHistory> {
    requireActor(actor, 'webhook:change', { registry });
    const original = await this.delivery(registry, id, deliveryId);
    if (original.status !== 'failed' && original.status !== 'cancelled') {
      throw new NcrError('CONFLICT', `delivery ${deliveryId} is ${original.status}: only a failed or cancelled delivery can be redelivered`);
    }
    const now = this.clock.now();
    const d = newDelivery(id, original.eventId, original.eventType, { body: original.payload, contentType: original.contentType }, now, { redeliveryOf: original.id });
    await this.uow.transaction(async (tx) => {
      await tx.webhooks.addDelivery(d);
      await tx.jobs.enqueue(deliveryJob(d.id, now), now);
    });
    this.queue.poke();
    return { ...d, history: [] };
  }

  /** Forgets finished deliveries older than `retentionMs` (the daily webhook-purge job). */
  purge(retentionMs: number): Promise<number> {
    return this.store.purgeDeliveries(this.clock.now() - retentionMs);
  }

  // --- from the outbox ----------------------------------------------------------------------------------------------

  /**
   * One outbox event: a delivery row and a job for every enabled webhook of its registry that sends its type. Safe to
   * repeat (at least once): a webhook gets one delivery per event and type.
   */
  async fanOut(stored: StoredEvent): Promise<number> {
    const e = stored.event;
    let added = 0;
    for (const def of webhookTypesOf(e)) {
      const source = def.source!;
      const hooks = await this.enabledFor(source.registry(e), def.type);
      if (hooks.length === 0) continue;
      const repository = source.repository?.(e);
      const ctx = { registryHost: this.lookup.registryHost(), repositoryCreatedAt: repository ? await this.lookup.repositoryCreatedAt(repository) : undefined };
      const now = this.clock.now();
      const batch = hooks.map((w) => newDelivery(w.id, stored.id, def.type, buildBody(w, def, e, stored.id, ctx), now, { dedupe: true }));
      await this.uow.transaction(async (tx) => {
        const ids: string[] = [];
        for (const d of batch) if (await tx.webhooks.addDelivery(d)) ids.push(d.id);
        // one job sends the event to every webhook at once (retries are then a job per delivery)
        if (ids.length > 0) await tx.jobs.enqueue(deliveryBatchJob(ids, now), now);
        added += ids.length;
      });
    }
    if (added > 0) this.queue.poke();
    return added;
  }

  // --- the delivery job ---------------------------------------------------------------------------------------------

  /** One attempt of a delivery (a retry's or a redelivery's job). Returns what happened; throws only when it could not record it. */
  async deliver(deliveryId: string, signal?: AbortSignal): Promise<{ status: string; attempt?: number }> {
    return (await this.deliverMany([deliveryId], signal))[0]!;
  }

  /**
   * The first attempt of an event's deliveries, one per webhook (the fan-out's job): the POSTs go out together and
   * their outcomes are recorded in one transaction, so ten webhooks cost a push's node one commit, not ten.
   */
  async deliverMany(deliveryIds: string[], signal?: AbortSignal): Promise<{ status: string; attempt?: number }[]> {
    const ready = await Promise.all(deliveryIds.map((id) => this.prepare(id)));
    const sent = await Promise.all(ready.map((r) => ('w' in r ? this.send(r.d, r.w, signal) : undefined)));
    const outcomes = ready.flatMap((r, i) => ('w' in r ? [this.outcome(r.d, r.w, sent[i]!)] : []));
    if (outcomes.length > 0) await this.record(outcomes);
    let k = 0;
    return ready.map((r) => ('w' in r ? { status: outcomes[k]!.status, attempt: outcomes[k++]!.attempt.n } : r));
  }

  /** Whether a delivery is to be sent now (its webhook), or what became of it instead. */
  private async prepare(deliveryId: string): Promise<{ d: Delivery; w: StoredWebhook } | { status: string }> {
    const d = await this.store.getDelivery(deliveryId);
    if (!d || FINAL.has(d.status)) return { status: d?.status ?? 'gone' };
    const now = this.clock.now();
    // a job that runs again after its node died, while a later attempt is already scheduled: that one sends
    if (d.nextAttemptAt !== null && d.nextAttemptAt > now) return { status: 'not-due' };
    const w = await this.store.getById(d.webhookId);
    if (!w) return { status: 'gone' };
    if (!w.enabled) {
      await this.store.updateDelivery(d.id, { status: 'cancelled', nextAttemptAt: null, lastError: 'not sent: the webhook was disabled' });
      return { status: 'cancelled' };
    }
    // a Redeliver someone asked for goes now, whatever the breaker says (its outcome then closes or reopens it)
    const manual = d.redeliveryOf !== null && d.attempts === 0;
    const breaker = manual ? { open: false as const } : await this.store.breakerAcquire(w.id, now, this.settings.breaker.failureThreshold, this.trialMs());
    if (breaker.open) {
      // no request while the receiver is known to be down; this attempt waits for the breaker, uncounted
      await this.uow.transaction(async (tx) => {
        await tx.webhooks.updateDelivery(d.id, { nextAttemptAt: breaker.until, lastError: d.lastError ?? 'waiting: the circuit breaker is open after repeated failures' });
        await tx.jobs.enqueue(deliveryJob(d.id, breaker.until), now);
      });
      this.queue.poke();
      return { status: 'deferred' };
    }
    return { d, w };
  }

  private async attempt(d: Delivery, w: StoredWebhook, signal: AbortSignal | undefined): Promise<{ status: string; attempt: number }> {
    const o = this.outcome(d, w, await this.send(d, w, signal));
    await this.record([o]);
    return { status: o.status, attempt: o.attempt.n };
  }

  /** The POST with its headers: the response, or why there was none; throws only when aborted (this node is stopping). */
  private async send(d: Delivery, w: StoredWebhook, signal: AbortSignal | undefined): Promise<Sent> {
    const at = this.clock.now();
    const headers: Record<string, string> = {
      'content-type': d.contentType,
      'x-ncr-delivery': d.id,
      'x-ncr-event': d.eventType,
      'x-ncr-event-id': d.eventId,
    };
    try {
      if (w.authHeaderSealed) headers.authorization = this.box.open(w.authHeaderSealed);
      if (w.secretSealed) headers['x-ncr-signature-256'] = signature(this.box.open(w.secretSealed), d.payload);
      return { at, ...(await this.post(w, d, headers, signal)) };
    } catch (err) {
      if (err instanceof OutboundError) throw err; // aborted: this node is stopping, another runs the job
      // sealed under another key (auth.signingKey.encryptionKey changed): sending without them would be wrong
      return { at, error: 'not sent: the auth header or signing secret cannot be decrypted (was auth.signingKey.encryptionKey changed?): set them again', durationMs: 0, permanent: true };
    }
  }

  /** What an attempt's result means for the delivery: its record, its new status and when the next attempt is due. */
  private outcome(d: Delivery, w: StoredWebhook, sent: Sent): Outcome {
    const n = d.attempts + 1;
    const { res, error, durationMs } = sent;
    const ok = error === null;
    // an address the guard refuses, a URL that cannot be sent to or secrets that cannot be opened stay so: retrying
    // only repeats the refusal
    const final = ok || sent.permanent === true || d.test || n >= this.settings.maxAttempts;
    const now = this.clock.now();
    const next = final ? null : now + this.settings.retryBackoffMs * 2 ** (n - 1);
    const attempt: Attempt = { deliveryId: d.id, n, at: sent.at, statusCode: res?.status ?? null, durationMs, response: res ? res.body.slice(0, EXCERPT) : null, error };
    return { d, w, ok, attempt, next, status: ok ? 'succeeded' : final ? 'failed' : 'retrying' };
  }

  /** Records attempts, their deliveries' new state, the breakers and the retries, all in one transaction. */
  private async record(outcomes: Outcome[]): Promise<void> {
    const { failureThreshold, cooldownMs } = this.settings.breaker;
    const now = this.clock.now();
    await this.uow.transaction(async (tx) => {
      for (const { d, w, ok, attempt, next, status } of outcomes) {
        await tx.webhooks.addAttempt(attempt);
        await tx.webhooks.updateDelivery(d.id, { status, attempts: attempt.n, lastAttemptAt: attempt.at, lastStatusCode: attempt.statusCode, lastError: attempt.error, nextAttemptAt: next });
        await tx.webhooks.breakerRecord(w.id, ok, now, failureThreshold, cooldownMs);
        if (next !== null) await tx.jobs.enqueue(deliveryJob(d.id, next), now);
      }
    });
    if (outcomes.some((o) => o.next !== null)) this.queue.poke();
  }

  /** The POST: a response of any status, or why there was none; throws only when aborted (this node is stopping). */
  private async post(
    w: StoredWebhook,
    d: Delivery,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<{ res?: OutboundResponse; error: string | null; durationMs: number; permanent?: boolean }> {
    try {
      const res = await this.http.send({ method: 'POST', url: w.address, headers, body: d.payload, timeoutMs: this.settings.timeoutMs, skipCertVerify: w.skipCertVerify, maxBodyBytes: EXCERPT, signal });
      if (res.status >= 200 && res.status <= 299) return { res, error: null, durationMs: res.durationMs };
      const redirect = res.status >= 300 && res.status < 400;
      return { res, error: redirect ? `HTTP ${res.status}: redirects are not followed${res.headers.location ? ` (to ${res.headers.location})` : ''}` : `HTTP ${res.status}`, durationMs: res.durationMs };
    } catch (err) {
      if (err instanceof OutboundError && err.reason === 'aborted') throw err;
      const permanent = err instanceof OutboundError && (err.reason === 'refused-address' || err.reason === 'invalid-url');
      return { error: err instanceof Error ? err.message : String(err), durationMs: err instanceof OutboundError ? err.durationMs : 0, permanent };
    }
  }

  /** How long other deliveries wait for a trial request's outcome: its timeout, and a little. */
  private trialMs(): number {
    return this.settings.timeoutMs + 2000;
  }

  private async stored(registry: string, id: string): Promise<StoredWebhook> {
    const w = await this.store.get(registry, id);
    if (!w) {
      await this.requireRegistry(registry);
      throw notFound(registry, id);
    }
    return w;
  }

  private async requireRegistry(registry: string): Promise<void> {
    if (!(await this.lookup.registryExists(registry))) throw new NcrError('NOT_FOUND', `registry ${registry} does not exist`);
  }
}

/** An attempt's request, made or not. */
interface Sent {
  at: number;
  res?: OutboundResponse;
  error: string | null;
  durationMs: number;
  /** the failure will not change by itself: no retry */
  permanent?: boolean;
}

interface Outcome {
  d: Delivery;
  w: StoredWebhook;
  ok: boolean;
  attempt: Attempt;
  next: number | null;
  status: 'succeeded' | 'failed' | 'retrying';
}

function view(w: StoredWebhook): WebhookView {
  const { authHeaderSealed, secretSealed, ...rest } = w;
  return { ...rest, authHeaderSet: authHeaderSealed !== null, secretSet: secretSealed !== null };
}

function settingsDetail(w: StoredWebhook): Record<string, unknown> {
  return { targetType: w.targetType, address: w.address, payloadFormat: w.payloadFormat, eventTypes: w.eventTypes, enabled: w.enabled, skipCertVerify: w.skipCertVerify, authHeaderSet: w.authHeaderSealed !== null, secretSet: w.secretSealed !== null };
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));
}

const notFound = (registry: string, id: string) => new NcrError('NOT_FOUND', `webhook ${id} does not exist in registry ${registry}`);
