/**
 * Image cleanup jobs: `cleanup.run` executes one run (or test run) of a registry's policies; `cleanup.fire` is what a
 * registry's cron schedule enqueues, and starts a run as the schedule (a schedule whose registry is gone removes itself).
 */
import type { CleanupPayload, CleanupService } from '../domain/policies/cleanup.service.js';
import { CLEANUP_RUN_JOB } from '../domain/policies/cleanup.service.js';
import { CLEANUP_FIRE_JOB, cleanupScheduleName } from '../domain/policies/policy.service.js';
import type { JobQueue } from '../domain/queue/queue.js';
import type { RegistryService } from '../domain/registry/registry.service.js';
import type { JobHandler } from './runner.js';

export function cleanupJobs(deps: { cleanup: CleanupService; registries: RegistryService; queue: JobQueue }): JobHandler[] {
  const run: JobHandler<CleanupPayload> = {
    kind: CLEANUP_RUN_JOB,
    concurrency: 1,
    leaseMs: 120_000,
    run: async (payload, ctx) => deps.cleanup.execute(payload, ctx.signal),
  };
  const fire: JobHandler<{ registryId: string; registry: string }> = {
    kind: CLEANUP_FIRE_JOB,
    run: async (payload) => {
      const reg = await deps.registries.get(payload.registry).catch(() => undefined);
      if (!reg || reg.id !== payload.registryId) {
        await deps.queue.unschedule(cleanupScheduleName(payload.registryId));
        return { skipped: `registry ${payload.registry} no longer exists; its schedule was removed` };
      }
      const e = await deps.cleanup.start(reg.name, false, { userId: null, username: 'schedule' }, 'schedule').catch((err: Error) => ({ id: null, error: err.message }));
      return { executionId: e.id };
    },
  };
  return [run, fire];
}
