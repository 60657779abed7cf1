/**
 * Benchmark sizes, rounds and switches, read once from the environment. The defaults are the scenarios;
 * BENCH_QUICK=1 shrinks everything into a smoke run of a minute or two.
 */
import { resolve } from 'node:path';

export const MiB = 1024 * 1024;

export interface BenchConfig {
  quick: boolean;
  /** peer, ncr (and the machine limit) run once per round, interleaved; the peer first in odd rounds, ncr in even */
  rounds: number;
  /** length of the fixed-window scenarios (manifest GET/HEAD, manifest push, tags/list, catalog) */
  windowSeconds: number;
  /** blob scenarios run this many at once */
  blobConcurrency: number;
  pushSmall: { count: number; size: number };
  pushLarge: { count: number; size: number };
  chunked: { count: number; chunks: number; chunkSize: number };
  pullSmall: { count: number; distinct: number; size: number };
  pullLarge: { count: number; distinct: number; size: number };
  manifestConcurrency: number[];
  manifestPushConcurrency: number;
  listConcurrency: number;
  /** the load patterns beyond a hot set (scenarios-load.ts) */
  load: { distinctSmall: number; distinctMany: number; distinctLarge: number; spreadRepos: number; digestManifests: number; mixedOps: number; burstImages: number; coldBlobs: number };
  /** tags in the tags/list scenario, repositories in the catalog scenario (one page each) */
  listSize: number;
  scale: {
    enabled: boolean;
    /** also seed and measure the peer: about 12 more minutes (distribution seeds slowly and lists by walking directories) */
    peer: boolean;
    tags: number;
    images: number;
    seedConcurrency: number;
    /** page requests per measurement, and a time cap for them */
    pages: number;
    pageSeconds: number;
    rssBytes: number;
    /** scale-gc: blobs in the metadata and the blob store, the share of them that is garbage, GC's batch size */
    gcBlobs: number;
    gcGarbage: number;
    gcBatch: number;
    /** scale-gc on PostgreSQL too (a database it creates and drops on this server) */
    gcPgUrl: string | undefined;
  };
  /** only scenarios whose id starts with one of these (BENCH_ONLY=push,pull) */
  only: string[] | undefined;
  /** where RESULTS.md goes; empty = print only */
  resultsFile: string | undefined;
  /** scratch space for both servers and the machine-limit server (run.sh makes and removes it) */
  tmp: string;
  /** the repository root (bench/, node_modules) */
  root: string;
  /** the checkout whose bin/ncr.js is benchmarked: this one, or BENCH_NCR_DIR (e.g. a build of another commit) */
  ncrDir: string;
  /** `ncr serve --workers N` for every ncr the benchmark starts (BENCH_NCR_WORKERS; 1 = no cluster) */
  ncrWorkers: number;
  peerBin: string;
}

function num(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

function flag(name: string, def: boolean): boolean {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  return v !== '0' && v.toLowerCase() !== 'false';
}

export function loadBenchConfig(): BenchConfig {
  const quick = flag('BENCH_QUICK', false);
  const q = <T>(full: T, small: T): T => (quick ? small : full);
  const root = resolve(new URL('..', import.meta.url).pathname);
  const tmp = process.env.BENCH_TMP;
  if (!tmp) throw new Error('BENCH_TMP is not set: run the benchmark through bench/run.sh (npm run bench), which makes and removes it');
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const results = process.env.BENCH_RESULTS ?? (quick || only ? '' : resolve(root, 'bench/RESULTS.md'));
  return {
    quick,
    rounds: num('BENCH_ROUNDS', q(5, 1)),
    windowSeconds: num('BENCH_WINDOW', q(5, 1)),
    blobConcurrency: 8,
    pushSmall: { count: num('BENCH_PUSH_SMALL', q(200, 40)), size: MiB },
    pushLarge: { count: num('BENCH_PUSH_LARGE', q(8, 8)), size: num('BENCH_LARGE_MIB', q(64, 16)) * MiB },
    chunked: { count: num('BENCH_CHUNKED', q(100, 24)), chunks: 4, chunkSize: 256 * 1024 },
    pullSmall: { count: num('BENCH_PULL_SMALL', q(400, 64)), distinct: 32, size: MiB },
    pullLarge: { count: num('BENCH_PULL_LARGE', q(16, 8)), distinct: 4, size: num('BENCH_LARGE_MIB', q(64, 16)) * MiB },
    manifestConcurrency: [32, 64],
    manifestPushConcurrency: 8,
    listConcurrency: 32,
    listSize: 100,
    load: {
      distinctSmall: num('BENCH_DISTINCT_SMALL', q(100, 40)),
      distinctMany: num('BENCH_DISTINCT_MANY', q(1000, 100)),
      distinctLarge: num('BENCH_DISTINCT_LARGE', q(100, 16)),
      spreadRepos: num('BENCH_SPREAD_REPOS', q(1000, 100)),
      digestManifests: num('BENCH_DIGEST_MANIFESTS', q(10_000, 500)),
      mixedOps: num('BENCH_MIXED_OPS', q(400, 64)),
      burstImages: num('BENCH_BURST_IMAGES', q(300, 48)),
      coldBlobs: num('BENCH_COLD_BLOBS', q(100, 40)),
    },
    scale: {
      enabled: flag('BENCH_SCALE', true),
      peer: flag('BENCH_SCALE_PEER', false),
      tags: num('BENCH_SCALE_TAGS', q(100_000, 2_000)),
      images: num('BENCH_SCALE_IMAGES', q(10_000, 300)),
      seedConcurrency: 16,
      pages: num('BENCH_SCALE_PAGES', q(200, 40)),
      pageSeconds: 30,
      rssBytes: num('BENCH_RSS_MIB', q(2048, 256)) * MiB,
      gcBlobs: num('BENCH_GC_BLOBS', q(100_000, 10_000)),
      gcGarbage: num('BENCH_GC_GARBAGE', 0.1),
      gcBatch: num('BENCH_GC_BATCH', 500),
      gcPgUrl: process.env.BENCH_GC_PG_URL || undefined,
    },
    only,
    resultsFile: results === '' ? undefined : resolve(results),
    tmp,
    root,
    ncrDir: resolve(process.env.BENCH_NCR_DIR || root),
    ncrWorkers: Math.max(1, Math.floor(num('BENCH_NCR_WORKERS', 1))),
    peerBin: process.env.BENCH_PEER_BIN ?? 'docker-registry',
  };
}

export function selected(cfg: BenchConfig, id: string): boolean {
  return !cfg.only || cfg.only.some((p) => id.startsWith(p));
}
