/**
 * Webhook deliveries (domain/webhooks/service.ts): an event's first attempts to all its webhooks at once, or one
 * delivery's retry: the POSTs, their record (one transaction), and each next attempt scheduled as a new job when it
 * failed. The lease outlasts the request timeout, so a live node keeps its job; a job
 * whose node died is run again by another once the lease has run out (at least once).
 */
import { DELIVERY_JOB } from '../domain/webhooks/deliveries.js';
import type { WebhookService } from '../domain/webhooks/service.js';
import type { JobHandler } from './runner.js';

/** `deliveryIds`: an event's first attempts, sent together; `deliveryId`: one delivery's retry or redelivery. */
export function webhookDeliveryJob(webhooks: WebhookService, o: { concurrency: number; timeoutMs: number }): JobHandler<{ deliveryId?: string; deliveryIds?: string[] }> {
  return {
    kind: DELIVERY_JOB,
    concurrency: o.concurrency,
    leaseMs: Math.max(5_000, o.timeoutMs * 2),
    run: (payload, ctx) => (payload.deliveryIds ? webhooks.deliverMany(payload.deliveryIds, ctx.signal) : webhooks.deliver(payload.deliveryId!, ctx.signal)),
  };
}
