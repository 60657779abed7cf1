/**
 * Housekeeping on the shared schedule: the hourly upload purge, and daily deletion of finished executions and jobs
 * past their retention and of outbox events every subscriber has passed.
 */
import type { Clock } from '../domain/clock.js';
import type { ExecutionService } from '../domain/executions/service.js';
import type { JobStore } from '../domain/queue/ports.js';
import type { OutboxStore } from '../domain/outbox/ports.js';
import type { JobHandler } from './runner.js';

export function maintenanceSchedules(o: { uploadPurge: string }) {
  return [
    { name: 'system:upload-purge', cron: o.uploadPurge, kind: 'upload-purge' },
    { name: 'system:housekeeping', cron: '43 3 * * *', kind: 'housekeeping' },
  ];
}

export function maintenanceJobs(d: { executions: ExecutionService; jobs: JobStore; outbox: OutboxStore; clock: Clock; retentionMs: number }): JobHandler[] {
  return [
    {
      kind: 'housekeeping',
      run: async () => {
        const before = d.clock.now() - d.retentionMs;
        return {
          executions: await d.executions.purge(d.retentionMs),
          jobs: await d.jobs.purgeFinished(before),
          events: await d.outbox.purge(before),
        };
      },
    },
  ];
}
