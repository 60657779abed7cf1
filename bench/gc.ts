/**
 * scale-gc: online garbage collection's mark and sweep over many blobs. The metadata and the blob files are seeded
 * directly (not through /v2: seeding 100,000 blobs over HTTP would take longer than what it measures): `blobs` blob
 * rows, each linked into one repository and stored as a small file; all but `garbage` of them referenced by a tagged
 * manifest (10 blobs per manifest), the rest referenced by none, and everything older than the safe window. Then one
 * GC run (this checkout's src/, in process, as `ncr serve` runs it) is timed from start to end; deletions per second
 * count the blobs deleted (each with its link and its file).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { blobPath } from '../src/storage/blob/paths.js';
import { openMetaDb } from '../src/storage/meta/kysely/connect.js';
import type { BenchConfig } from './config.js';

export interface GcBenchResult {
  db: 'sqlite' | 'postgres';
  blobs: number;
  garbage: number;
  batchSize: number;
  blobBytes: number;
  seedSeconds: number;
  /** the dry run (mark only: counts what would go, deletes nothing) */
  markSeconds: number;
  /** the run (mark and sweep) */
  seconds: number;
  deleted: number;
  linksDeleted: number;
  bytesFreed: number;
  deletionsPerSecond: number;
}

const HOUR = 3600_000;
const sha = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

async function inParallel(n: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (next < count) await fn(next++); }));
}

export async function gcBench(cfg: BenchConfig, db: 'sqlite' | 'postgres'): Promise<GcBenchResult> {
  const { gcBlobs: blobs, gcGarbage, gcBatch: batchSize } = cfg.scale;
  const dir = join(cfg.tmp, `gc-${db}`);
  const storage = join(dir, 'storage');
  let pgName: string | undefined;
  let databaseUrl: string | undefined;
  if (db === 'postgres') {
    const admin = new pg.Client({ connectionString: cfg.scale.gcPgUrl });
    await admin.connect();
    pgName = `ncr_bench_gc_${Date.now().toString(36)}`;
    await admin.query(`create database ${pgName}`);
    await admin.end();
    const u = new URL(cfg.scale.gcPgUrl!);
    u.pathname = `/${pgName}`;
    databaseUrl = u.toString();
  }
  try {
    const t0 = performance.now();
    const now = Date.now();
    const content = (i: number) => `gc bench blob ${i} ${'x'.repeat(40)}`;
    const isGarbage = (i: number) => i % Math.round(1 / gcGarbage) === 0;
    const meta = await openMetaDb({ dataDir: dir, databaseUrl });
    const regId = 'bench-gc-registry';
    const repoId = 'bench-gc-repository';
    await meta.db.insertInto('registries').values({ id: regId, name: 'bench', created_at: now, created_by: null }).execute();
    await meta.db.insertInto('repositories').values({ id: repoId, registry_id: regId, name: 'bench/gc', created_at: now, updated_at: now }).execute();
    const SLICE = 1000;
    let garbage = 0;
    let blobBytes = 0;
    for (let start = 0; start < blobs; start += SLICE) {
      const idx = Array.from({ length: Math.min(SLICE, blobs - start) }, (_, k) => start + k);
      const rows = idx.map((i) => ({ digest: sha(content(i)), size: Buffer.byteLength(content(i)) }));
      blobBytes += rows.reduce((n, r) => n + r.size, 0);
      await meta.db.transaction().execute(async (tx) => {
        await tx.insertInto('blobs').values(rows.map((r) => ({ ...r, created_at: now }))).execute();
        await tx.insertInto('repository_blobs').values(rows.map((r) => ({ repository_id: repoId, digest: r.digest, created_at: now }))).execute();
        // the referenced ones, 10 to a manifest (one tagged artifact each)
        const used = idx.filter((i) => !isGarbage(i));
        garbage += idx.length - used.length;
        const artifacts: { digest: string; blobs: string[] }[] = [];
        for (let k = 0; k < used.length; k += 10) {
          const refs = used.slice(k, k + 10).map((i) => sha(content(i)));
          artifacts.push({ digest: sha(`manifest ${used[k]}`), blobs: refs });
        }
        if (artifacts.length === 0) return;
        await tx
          .insertInto('artifacts')
          .values(
            artifacts.map((a) => ({
              repository_id: repoId, digest: a.digest, media_type: 'application/vnd.oci.image.manifest.v1+json', artifact_type: null, size: 2,
              content: Buffer.from('{}'), subject_digest: null, config_digest: a.blobs[0]!, platforms: '[]', total_size: 0, pushed_at: now, pushed_by: null, pulled_at: null,
            })),
          )
          .execute();
        await tx.insertInto('artifact_blobs').values(artifacts.flatMap((a) => a.blobs.map((b) => ({ repository_id: repoId, artifact_digest: a.digest, blob_digest: b })))).execute();
        await tx.insertInto('tags').values(artifacts.map((a) => ({ repository_id: repoId, name: a.digest.slice(7, 27), digest: a.digest, pushed_at: now, pulled_at: null }))).execute();
      });
    }
    await meta.close();
    const dirs = new Map<string, Promise<unknown>>();
    await inParallel(64, blobs, async (i) => {
      const path = blobPath(storage, sha(content(i)));
      const d = dirname(path);
      if (!dirs.has(d)) dirs.set(d, mkdir(d, { recursive: true }));
      await dirs.get(d);
      await writeFile(path, content(i));
    });
    const seedSeconds = (performance.now() - t0) / 1000;

    // Everything seeded is three hours old for the app's clock: older than the (default, two-hour) safe window.
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, database: { url: databaseUrl }, server: { host: '127.0.0.1', port: 0, logLevel: 'silent' }, gc: { batchSize } } });
    const app = await buildApp(config, { clock: { now: () => Date.now() + 3 * HOUR } });
    const system = { userId: null, username: 'bench', remoteAddr: null };
    try {
      const run = async (dryRun: boolean) => {
        const t = performance.now();
        const e = await app.gc.start({ dryRun, actor: system });
        await app.jobs.runner.runDue();
        const done = await app.executions.get(e.id);
        if (done.status !== 'succeeded') throw new Error(`the GC run ended ${done.status}: ${done.message}`);
        return { seconds: (performance.now() - t) / 1000, counts: done.counts };
      };
      const dry = await run(true);
      if (dry.counts.blobsToDelete !== garbage) throw new Error(`the dry run counted ${dry.counts.blobsToDelete} blobs to delete, not ${garbage}`);
      const real = await run(false);
      if (real.counts.blobsDeleted !== garbage) throw new Error(`the run deleted ${real.counts.blobsDeleted} blobs, not ${garbage}`);
      return {
        db,
        blobs,
        garbage,
        batchSize,
        blobBytes,
        seedSeconds,
        markSeconds: dry.seconds,
        seconds: real.seconds,
        deleted: real.counts.blobsDeleted ?? 0,
        linksDeleted: real.counts.linksDeleted ?? 0,
        bytesFreed: real.counts.bytesFreed ?? 0,
        deletionsPerSecond: (real.counts.blobsDeleted ?? 0) / real.seconds,
      };
    } finally {
      await app.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (pgName) {
      const admin = new pg.Client({ connectionString: cfg.scale.gcPgUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${pgName} with (force)`);
      await admin.end();
    }
  }
}

export function gcLine(r: GcBenchResult): string {
  return (
    `scale-gc (${r.db}): ${r.blobs} blobs (${(r.blobBytes / 1e6).toFixed(1)} MB), ${r.garbage} garbage (${((100 * r.garbage) / r.blobs).toFixed(0)}%), batch ${r.batchSize}, seeded in ${r.seedSeconds.toFixed(1)} s` +
    ` → mark (dry run) ${r.markSeconds.toFixed(2)} s; mark and sweep ${r.seconds.toFixed(2)} s: ${r.deleted} blobs + ${r.linksDeleted} links + files deleted, ` +
    `${(r.bytesFreed / 1e6).toFixed(2)} MB freed, ${r.deletionsPerSecond.toFixed(0)} deletions/s`
  );
}
