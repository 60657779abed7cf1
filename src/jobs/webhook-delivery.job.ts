/**
 * One attempt of a webhook delivery (domain/webhooks/service.ts): the POST, its record, and the next attempt
 * scheduled as a new job when it failed. The lease outlasts the request timeout, so a live node keeps its job; a job
 * whose node died is run again by another once the lease has run out (at least once).
 */
import { DELIVERY_JOB, type WebhookService } from '../domain/webhooks/service.js';
import type { JobHandler } from './runner.js';

export function webhookDeliveryJob(webhooks: WebhookService, o: { concurrency: number; timeoutMs: number }): JobHandler<{ deliveryId: string }> {
  return {
    kind: DELIVERY_JOB,
    concurrency: o.concurrency,
    leaseMs: Math.max(5_000, o.timeoutMs * 2),
    run: (payload, ctx) => webhooks.deliver(payload.deliveryId, ctx.signal),
  };
}
