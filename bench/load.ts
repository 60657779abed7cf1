/**
 * Load shapes and statistics: N operations at a fixed concurrency, or as many as fit a fixed window. Both are bounded
 * in count and in time, and stop at the first failed operation (a benchmark that counts errors as work lies).
 */
import { performance } from 'node:perf_hooks';

export interface Sample {
  ops: number;
  /** payload bytes moved (request or response bodies, whichever the scenario is about) */
  bytes: number;
  seconds: number;
  /** per-operation latency, milliseconds */
  latencies: number[];
}

export interface Stats {
  opsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
}

/** One operation: resolves with the payload bytes it moved. */
export type Op = (i: number) => Promise<number>;

async function drive(concurrency: number, op: Op, more: (started: number) => boolean): Promise<Sample> {
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  let failed: unknown;
  const start = performance.now();
  const worker = async () => {
    while (failed === undefined && more(next)) {
      const i = next++;
      const t0 = performance.now();
      try {
        // not `bytes += await op(i)`: that reads `bytes` before the await and loses the other workers' additions
        const moved = await op(i);
        bytes += moved;
      } catch (err) {
        failed ??= err;
        return;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed !== undefined) throw failed;
  return { ops: latencies.length, bytes, seconds: (performance.now() - start) / 1000, latencies };
}

/** `total` operations, `concurrency` at once; gives up (throws) once `maxSeconds` have passed. */
export function runCount(concurrency: number, total: number, op: Op, maxSeconds = 600): Promise<Sample> {
  const deadline = performance.now() + maxSeconds * 1000;
  let late = false;
  const sample = drive(concurrency, op, (started) => {
    if (started >= total) return false;
    late ||= performance.now() > deadline;
    return !late;
  });
  return sample.then((s) => {
    if (late) throw new Error(`gave up after ${maxSeconds} s with ${s.ops} of ${total} operations done`);
    return s;
  });
}

/** As many operations as start within `seconds` (at most `maxOps`), `concurrency` at once. */
export function runWindow(concurrency: number, seconds: number, op: Op, maxOps = 5_000_000): Promise<Sample> {
  const deadline = performance.now() + seconds * 1000;
  return drive(concurrency, op, (started) => started < maxOps && performance.now() < deadline);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function stats(s: Sample): Stats {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  return {
    opsPerSec: s.ops / s.seconds,
    mbPerSec: s.bytes / s.seconds / 1e6,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function medianStats(all: Stats[]): Stats {
  return {
    opsPerSec: median(all.map((s) => s.opsPerSec)),
    mbPerSec: median(all.map((s) => s.mbPerSec)),
    p50: median(all.map((s) => s.p50)),
    p99: median(all.map((s) => s.p99)),
  };
}
