/**
 * Garbage collection's jobs: `gc` does one run (an execution, started by "run now" or a schedule; one at a time across
 * nodes; resumed by its next attempt when its node died) and `gc-scheduled` is what the cron schedule fires.
 */
import { GC_JOB, GC_SCHEDULED_JOB, type GcService } from '../domain/gc/gc.service.js';
import type { JobHandler } from './runner.js';

export function gcJobs(gc: GcService): JobHandler[] {
  return [
    {
      kind: GC_JOB,
      concurrency: 1,
      leaseMs: 60_000,
      run: (payload: { executionId: string }, ctx) => gc.run(payload.executionId, ctx.signal),
    },
    {
      kind: GC_SCHEDULED_JOB,
      concurrency: 1,
      run: async (payload: { deleteUntagged?: boolean } | null) => ({ executionId: (await gc.startScheduled(payload))?.id ?? null }),
    },
  ];
}
