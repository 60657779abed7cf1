/**
 * What a webhook delivery is, apart from sending it: its row (one per webhook and event, deduplicated per event), the
 * job that sends it, the signature header over its body, and the sample event "Test" sends.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Actor, DomainEvent } from '../events.js';
import type { JobSpec } from '../queue/ports.js';
import type { WebhookEventDef } from './event-types.js';
import type { Delivery } from './model.js';

export const DELIVERY_JOB = 'webhook-delivery';

/** `sha256=` and the hex HMAC-SHA256 of the body under the webhook's secret (as GitHub's X-Hub-Signature-256). */
export function signature(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** The delivery job: retried by the queue only when the attempt could not be recorded (or its node died). */
export function deliveryJob(deliveryId: string, runAt: number): JobSpec {
  return { kind: DELIVERY_JOB, payload: { deliveryId }, runAt, maxAttempts: 3, backoffMs: 5_000 };
}

export function deliveryBatchJob(deliveryIds: string[], runAt: number): JobSpec {
  return { kind: DELIVERY_JOB, payload: { deliveryIds }, runAt, maxAttempts: 3, backoffMs: 5_000 };
}

export function newDelivery(webhookId: string, eventId: string, eventType: string, built: { body: string; contentType: string }, now: number, o: { test?: boolean; redeliveryOf?: string; dedupe?: boolean }): Delivery & { dedupeKey: string | null } {
  return {
    id: randomUUID(),
    webhookId,
    eventId,
    eventType,
    status: 'pending',
    payload: built.body,
    contentType: built.contentType,
    attempts: 0,
    createdAt: now,
    nextAttemptAt: o.test ? null : now,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    test: o.test ?? false,
    redeliveryOf: o.redeliveryOf ?? null,
    dedupeKey: o.dedupe ? `${eventId}/${eventType}` : null,
  };
}

export function sampleEvent(def: WebhookEventDef, registry: string, actor: Actor, at: number): DomainEvent {
  const base = { at, actor, repository: `${registry}/ncr-webhook-test`, digest: `sha256:${'0'.repeat(64)}` };
  if (def.type === 'PULL_ARTIFACT') return { type: 'ArtifactPulled', ...base, tag: 'test' };
  if (def.type === 'DELETE_ARTIFACT') return { type: 'ArtifactDeleted', ...base, tags: ['test'] };
  if (def.type === 'TAG_RETENTION') return { type: 'CleanupRunFinished', at, actor, registry, executionId: 'ncr-webhook-test', dryRun: false, status: 'succeeded', counts: { artifacts: 0, kept: 0, protected: 0, deleted: 0 } };
  return { type: 'ArtifactPushed', ...base, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 0, tag: 'test' };
}
