/**
 * Replication's jobs: `replication.run` does one run (manual: everything the rule selects; automatic: one pushed
 * artifact), resumed by its next attempt when its node died; `replication.check` checks a new or re-targeted rule's
 * target (reachable and writable), which turns its status to Enabled.
 */
import { REPLICATION_CHECK_JOB, REPLICATION_RUN_JOB, type ReplicationService, type RunPayload } from '../domain/replication/replication.service.js';
import type { JobHandler } from './runner.js';

export function replicationJobs(replication: ReplicationService): JobHandler[] {
  const run: JobHandler<RunPayload> = {
    kind: REPLICATION_RUN_JOB,
    concurrency: 2,
    leaseMs: 60_000,
    run: (payload, ctx) => replication.execute(payload, ctx.signal),
  };
  const check: JobHandler<{ ruleId: string }> = {
    kind: REPLICATION_CHECK_JOB,
    concurrency: 2,
    run: async (payload) => {
      const r = await replication.check(payload.ruleId).catch((err: Error) => ({ checkError: err.message }));
      return { error: r.checkError };
    },
  };
  return [run, check];
}
