/**
 * Scanning jobs: `scan.artifact` scans one artifact (a few at a time per node: layers are read and decompressed),
 * `scan.all` is what the service-wide schedule enqueues, `scan.rematch` matches kept package lists against newly
 * imported vulnerability data.
 */
import { RESCAN_JOB, SCAN_ALL_JOB, SCAN_JOB, type ScanService } from '../domain/scanning/service.js';
import type { JobHandler } from './runner.js';

export function scanJobs(deps: { scans: ScanService; artifacts: () => AsyncIterable<{ repository: string; digest: string }>; concurrency: number }): JobHandler[] {
  const scan: JobHandler<{ repository: string; digest: string }> = {
    kind: SCAN_JOB,
    concurrency: deps.concurrency,
    leaseMs: 120_000,
    run: async (payload, ctx) => {
      try {
        return await deps.scans.runScan(payload, ctx.job.id, ctx.signal);
      } catch (err) {
        // the last attempt: the status must not stay "Scanning"
        if (ctx.job.attempts >= ctx.job.maxAttempts) await deps.scans.failed(payload, ctx.job.id, `the scan failed: ${(err as Error).message}`);
        throw err;
      }
    },
  };
  const all: JobHandler = { kind: SCAN_ALL_JOB, concurrency: 1, run: async (_p, ctx) => deps.scans.scanAll(deps.artifacts(), ctx.signal) };
  const rematch: JobHandler = { kind: RESCAN_JOB, concurrency: 1, leaseMs: 300_000, run: async (_p, ctx) => deps.scans.rematch(ctx.signal) };
  return [scan, all, rematch];
}
