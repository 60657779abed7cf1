/**
 * Housekeeping on the shared schedule: the hourly upload purge; every 10 minutes, outbox events that every durable
 * subscriber has passed and that are older than an hour; every 5 minutes, runs whose job died with its node are ended as
 * failed (ExecutionService.reconcile) (pull events alone can be thousands a second; the audit log
 * keeps the writes); daily, finished executions and jobs past their retention.
 */
import type { Clock } from '../domain/clock.js';
import type { ExecutionService } from '../domain/executions/service.js';
import type { JobStore } from '../domain/queue/ports.js';
import type { OutboxStore } from '../domain/outbox/ports.js';
import type { JobHandler } from './runner.js';

/** Delivered events are kept this long (a node whose listeners lag by more only misses cache drops; caches expire). */
export const OUTBOX_RETENTION_MS = 3600_000;

export function maintenanceSchedules(o: { uploadPurge: string }) {
  return [
    { name: 'system:upload-purge', cron: o.uploadPurge, kind: 'upload-purge' },
    { name: 'system:housekeeping', cron: '43 3 * * *', kind: 'housekeeping' },
    { name: 'system:outbox-purge', cron: '*/10 * * * *', kind: 'outbox-purge' },
    { name: 'system:execution-reconcile', cron: '*/5 * * * *', kind: 'execution-reconcile' },
  ];
}

export function maintenanceJobs(d: { executions: ExecutionService; jobs: JobStore; outbox: OutboxStore; clock: Clock; retentionMs: number }): JobHandler[] {
  return [
    {
      kind: 'housekeeping',
      run: async () => {
        const before = d.clock.now() - d.retentionMs;
        return { executions: await d.executions.purge(d.retentionMs), jobs: await d.jobs.purgeFinished(before) };
      },
    },
    {
      kind: 'execution-reconcile',
      run: async () => ({ ended: await d.executions.reconcile() }),
    },
    {
      kind: 'outbox-purge',
      run: async () => ({ events: await d.outbox.purge(d.clock.now() - OUTBOX_RETENTION_MS) }),
    },
  ];
}
