/**
 * What the webhooks capability needs from storage and from the rest of the app. Implemented by
 * storage/meta/kysely/webhooks.repo.ts (SQLite and PostgreSQL) and wired in app.ts.
 */
import type { JobStore } from '../queue/ports.js';
import type { Page, PageRequest } from '../pagination.js';
import type { Attempt, Delivery, DeliveryWithHistory, Webhook } from './model.js';

/** A webhook as stored: its secrets sealed (SecretBox), never in the clear. */
export type StoredWebhook = Omit<Webhook, 'authHeader' | 'secret'> & { authHeaderSealed: string | null; secretSealed: string | null };

export interface WebhookStore {
  /** Inserts it into registry `w.registry`; false when that registry does not exist. Throws CONFLICT on a taken name. */
  create(w: StoredWebhook): Promise<boolean>;
  get(registry: string, id: string): Promise<StoredWebhook | undefined>;
  getById(id: string): Promise<StoredWebhook | undefined>;
  list(registry: string, page: PageRequest): Promise<Page<StoredWebhook>>;
  /** The enabled webhooks of the registry that send `eventType` (any type when null). */
  enabledFor(registry: string, eventType: string | null): Promise<StoredWebhook[]>;
  /** Replaces the settings (not the breaker); throws CONFLICT on a taken name. */
  update(w: StoredWebhook): Promise<void>;
  /** Deletes it with its deliveries; false when it did not exist. */
  delete(registry: string, id: string): Promise<boolean>;

  /** Adds a delivery; false (and nothing added) when the webhook has one with the same `dedupeKey` (event and type). */
  addDelivery(d: Delivery & { dedupeKey?: string | null }): Promise<boolean>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** Newest first, each with its attempts. */
  deliveries(webhookId: string, q: PageRequest & { status?: Delivery['status'] }): Promise<Page<DeliveryWithHistory>>;
  updateDelivery(id: string, patch: Partial<Pick<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError'>>): Promise<void>;
  addAttempt(a: Attempt): Promise<void>;
  attempts(deliveryId: string): Promise<Attempt[]>;

  /**
   * The breaker before an attempt: closed when fewer than `threshold` failures in a row; open (until when) while
   * `openUntil` is ahead. When the cooldown has run out the first caller gets the one trial request: the window moves
   * `trialMs` on (others wait that long for its outcome; a trial whose node died frees the way after it).
   */
  breakerAcquire(webhookId: string, now: number, threshold: number, trialMs: number): Promise<{ open: false } | { open: true; until: number }>;
  /** Deletes finished deliveries (succeeded, failed, cancelled) whose last attempt was before `before`; returns how many. */
  purgeDeliveries(before: number): Promise<number>;
  /** Records an outcome: success closes the breaker; a failure counts, and opens it for `cooldownMs` at `threshold`. */
  breakerRecord(webhookId: string, ok: boolean, now: number, threshold: number, cooldownMs: number): Promise<void>;
}

/** The stores a webhook transaction binds: webhooks and the job queue (a delivery row and its job commit together). */
export interface WebhookStores {
  webhooks: WebhookStore;
  jobs: JobStore;
}

/** Seals secrets at rest (AES-256-GCM in app.ts). */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** What payloads need from the registry core. */
export interface RegistryLookup {
  /** host[:port] clients push to (resource_url) */
  registryHost(): string;
  /** when the repository was created, if it exists */
  repositoryCreatedAt(repository: string): Promise<number | undefined>;
}
