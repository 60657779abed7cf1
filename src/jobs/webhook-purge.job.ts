/** Daily: finished webhook deliveries (and their attempts) older than the execution retention are forgotten. */
import type { WebhookService } from '../domain/webhooks/service.js';
import type { JobHandler } from './runner.js';

export const WEBHOOK_PURGE_SCHEDULE = { name: 'system:webhook-purge', cron: '29 4 * * *', kind: 'webhook-purge' };

export function webhookPurgeJob(webhooks: WebhookService, retentionMs: number): JobHandler {
  return {
    kind: 'webhook-purge',
    run: async () => ({ deliveries: await webhooks.purge(retentionMs) }),
  };
}
