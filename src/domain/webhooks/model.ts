/** A registry's webhooks and their deliveries: the model, and the validation of what a person sends. */
import { NcrError } from '../../oci/errors.js';
import { WEBHOOK_EVENT_TYPES } from './event-types.js';

export const TARGET_TYPES = ['http', 'slack'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];
export const PAYLOAD_FORMATS = ['Default', 'CloudEvents'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

export interface Webhook {
  id: string;
  registry: string;
  name: string;
  description: string;
  targetType: TargetType;
  /** http(s) URL the POST goes to (for Slack: the incoming-webhook URL) */
  address: string;
  /** sent as the Authorization header; kept sealed at rest and never shown again (only whether it is set) */
  authHeader: string | null;
  /** HMAC-SHA256 key for the signature header; sealed at rest, never shown again */
  secret: string | null;
  skipCertVerify: boolean;
  payloadFormat: PayloadFormat;
  /** Harbor event type names (event-types.ts) */
  eventTypes: string[];
  enabled: boolean;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
  /** the circuit breaker: failed deliveries in a row, and until when no request is sent */
  breaker: { failures: number; openUntil: number };
}

export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';

export interface Delivery {
  id: string;
  webhookId: string;
  /** the outbox event it came from (or a generated id for a test) */
  eventId: string;
  /** Harbor event type */
  eventType: string;
  status: DeliveryStatus;
  /** the body exactly as sent (built once, when the event happened) */
  payload: string;
  contentType: string;
  attempts: number;
  createdAt: number;
  /** when the next attempt is due (pending/retrying) */
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  /** a Test delivery: sent once, not retried */
  test: boolean;
  /** the failed delivery this one sends again */
  redeliveryOf: string | null;
}

export interface Attempt {
  deliveryId: string;
  /** 1-based */
  n: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  /** the first bytes of the response body */
  response: string | null;
  error: string | null;
}

/** A delivery with its attempts, oldest first (the history the API and console show). */
export type DeliveryWithHistory = Delivery & { history: Attempt[] };

/** What a person sends to create a webhook (all fields) or change one (any of them). */
export interface WebhookInput {
  name?: string;
  description?: string;
  targetType?: string;
  address?: string;
  /** null removes it; absent leaves it as it is */
  authHeader?: string | null;
  secret?: string | null;
  skipCertVerify?: boolean;
  payloadFormat?: string;
  eventTypes?: string[];
  enabled?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/;

const invalid = (message: string, field: string) => new NcrError('VALIDATION_FAILED', message, { detail: { field } });

/** The fields of `input` that are given, checked; throws VALIDATION_FAILED naming the field. */
export function validateInput(input: WebhookInput, creating: boolean): WebhookInput {
  const out: WebhookInput = {};
  if (creating || input.name !== undefined) {
    const name = (input.name ?? '').trim();
    if (!NAME.test(name)) throw invalid(`webhook name "${name}" is invalid: 1 to 63 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`, 'name');
    out.name = name;
  }
  if (input.description !== undefined) {
    if (input.description.length > 1024) throw invalid('description is longer than 1024 characters', 'description');
    out.description = input.description;
  }
  if (creating || input.targetType !== undefined) {
    const t = input.targetType ?? 'http';
    if (!(TARGET_TYPES as readonly string[]).includes(t)) throw invalid(`target type "${t}" is unknown: use ${TARGET_TYPES.join(' or ')}`, 'targetType');
    out.targetType = t;
  }
  if (creating || input.address !== undefined) out.address = validateAddress(input.address ?? '');
  if (input.authHeader !== undefined) {
    if (input.authHeader !== null && (input.authHeader.length > 4096 || /[\r\n\0]/.test(input.authHeader))) throw invalid('the auth header must be one line of at most 4096 characters', 'authHeader');
    out.authHeader = input.authHeader === '' ? null : input.authHeader;
  }
  if (input.secret !== undefined) {
    if (input.secret !== null && input.secret !== '' && (input.secret.length < 8 || input.secret.length > 256)) throw invalid('the signing secret must be 8 to 256 characters', 'secret');
    out.secret = input.secret === '' ? null : input.secret;
  }
  if (input.skipCertVerify !== undefined) out.skipCertVerify = input.skipCertVerify;
  if (creating || input.payloadFormat !== undefined) {
    const f = input.payloadFormat ?? 'Default';
    if (!(PAYLOAD_FORMATS as readonly string[]).includes(f)) throw invalid(`payload format "${f}" is unknown: use ${PAYLOAD_FORMATS.join(' or ')}`, 'payloadFormat');
    out.payloadFormat = f;
  }
  if (creating || input.eventTypes !== undefined) {
    const types = input.eventTypes ?? [];
    if (types.length === 0) throw invalid(`choose at least one event type: ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'eventTypes');
    for (const t of types) if (!WEBHOOK_EVENT_TYPES.includes(t)) throw invalid(`event type "${t}" is unknown: use ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'eventTypes');
    out.eventTypes = [...new Set(types)];
  }
  if (input.enabled !== undefined) out.enabled = input.enabled;
  return out;
}

export function validateAddress(address: string): string {
  let url: URL;
  try {
    url = new URL(address.trim());
  } catch {
    throw invalid(`address "${address}" is not a URL: give http://host[:port]/path or https://...`, 'address');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`address must be an http:// or https:// URL, not ${url.protocol}`, 'address');
  if (url.username || url.password) throw invalid('address must not hold credentials: use the auth header', 'address');
  if (address.length > 2048) throw invalid('address is longer than 2048 characters', 'address');
  return url.toString();
}
