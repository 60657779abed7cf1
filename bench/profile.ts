/**
 * CPU profiles of ncr, one per scenario (run by `bash bench/run.sh profile [id…]`): for each, ncr is started on a
 * fresh data dir and the scenario set up; then ncr is restarted on the same data with `node --cpu-prof`, the
 * measured part runs BENCH_PROFILE_REPEAT times, and ncr is stopped (SIGTERM) so the profile is written. The
 * .cpuprofile files and their summaries (bench/cpuprofile.ts) go to BENCH_PROFILE_OUT (default /tmp/ncr-profiles).
 * Ids: the scenario ids of bench/scenarios.ts, scale-tags, scale-catalog, scale-rss, pull-distinct-N (N fresh 1 MiB blobs
 * pushed before the profiled restart, each pulled once), s3-push-N (N fresh 1 MiB blobs pushed into ncr on S3: radosgw),
 * s3-pull-N (N GETs of 4 distinct 1 MiB blobs from ncr on S3); `s3-push-NxMm`, `s3-pull-NxMm`: blobs of M MiB.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MiB, loadBenchConfig, type BenchConfig } from './config.js';
import { summariseFile } from './cpuprofile.js';
import { runCount, stats } from './load.js';
import { pullBlob, pushBlob } from './oci.js';
import { uniqueBlobs } from './payload.js';
import { measureCatalogPages, measureTagPages, peakRss, seedImages, seedTags } from './scale.js';
import { scenarios } from './scenarios.js';
import { REGISTRY, startNcr, stopAll, type Server } from './servers.js';
import { startS3 } from '../test/helpers/s3.js';

const DEFAULT = ['push-small', 'push-chunked', 'push-large', 'pull-small', 'pull-large', 'manifest-get-32', 'manifest-head-32', 'manifest-push'];

function log(msg: string): void {
  process.stderr.write(`[profile ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Job {
  /** what ncr needs besides a data dir (an S3 server, say): its environment; `done` undoes it */
  prepare?(): Promise<{ env: Record<string, string>; done(): Promise<void> }>;
  setup(s: Server): Promise<void>;
  /** the part that is profiled; returns a one-line result */
  measure(s: Server): Promise<string>;
}

function job(cfg: BenchConfig, id: string, repeat: number): Job {
  const s3Job = /^s3-(push|pull)-(\d+)(?:x(\d+)m)?$/.exec(id);
  if (s3Job) {
    // push: N fresh blobs (POST, then PUT with the body) a round; pull: N GETs of 4 distinct blobs pushed before the
    // profiled restart (as the s3-pull-* scenarios). 1 MiB blobs, or M MiB with `xMm`. ncr on storage.driver s3,
    // radosgw on bluestore.
    const [, kind, count, mib] = s3Job;
    const n = Number(count);
    const size = Number(mib ?? 1) * MiB;
    const r = `${REGISTRY}/${id}`;
    const distinct = uniqueBlobs(4, size);
    return {
      prepare: prepareS3,
      setup: async (s) => {
        if (kind === 'pull') for (const b of distinct) await pushBlob(s.client(), r, b.parts, b.digest);
      },
      async measure(s) {
        const client = s.client();
        const out: string[] = [];
        for (let round = 1; round <= repeat; round++) {
          const blobs = kind === 'push' ? uniqueBlobs(n, size) : [];
          const op = kind === 'push' ? async (i: number) => (await pushBlob(client, r, blobs[i].parts, blobs[i].digest), size) : (i: number) => pullBlob(client, r, distinct[i % 4].digest);
          out.push(`${stats(await runCount(cfg.blobConcurrency, n, op)).mbPerSec.toFixed(0)} MB/s`);
        }
        const each = `${size / MiB} MiB`;
        return `${out.join('; ')} over ${n} ${kind === 'push' ? `fresh ${each} blobs pushed` : `GETs of 4 distinct ${each} blobs`} a round`;
      },
    };
  }
  const distinct = /^pull-distinct-(\d+)$/.exec(id);
  if (distinct) {
    // blobs pushed before the profiled restart and each pulled once under the profiler: the per-request costs of a
    // pull with no hot set (token check, link lookup, open, send), without the pushes
    const blobs = uniqueBlobs(Number(distinct[1]), MiB);
    const r = `${REGISTRY}/${id}`;
    return {
      setup: async (s) => void (await runCount(cfg.blobConcurrency, blobs.length, async (i) => (await pushBlob(s.client(), r, blobs[i].parts, blobs[i].digest), 0))),
      async measure(s) {
        const client = s.client();
        const st = stats(await runCount(cfg.blobConcurrency, blobs.length, (i) => pullBlob(client, r, blobs[i].digest)));
        return `${st.mbPerSec.toFixed(0)} MB/s over ${blobs.length} distinct 1 MiB blobs`;
      },
    };
  }
  const sc = scenarios(cfg).find((s) => s.id === id);
  if (sc) {
    return {
      setup: async (s) => sc.setup?.({ kind: 'ncr', client: s.client() }),
      async measure(s) {
        const t = { kind: 'ncr' as const, client: s.client() };
        const out: string[] = [];
        for (let r = 1; r <= repeat; r++) {
          const st = stats(await sc.run(t, r));
          out.push(sc.headline === 'MB/s' ? `${st.mbPerSec.toFixed(0)} MB/s` : `${st.opsPerSec.toFixed(0)} req/s, p99 ${st.p99.toFixed(1)} ms`);
        }
        return out.join('; ');
      },
    };
  }
  if (id === 'scale-tags' || id === 'scale-catalog') {
    const tags = id === 'scale-tags';
    return {
      setup: async (s) => void (await (tags ? seedTags : seedImages)(cfg, s.client())),
      async measure(s) {
        const p = await (tags ? measureTagPages : measureCatalogPages)(cfg, s.client());
        return `pages p50 ${p.pages.p50.toFixed(2)} ms, p99 ${p.pages.p99.toFixed(2)} ms over ${p.pages.count}`;
      },
    };
  }
  if (id === 'scale-rss') {
    return {
      setup: async () => undefined,
      async measure(s) {
        const r = await peakRss(cfg, s);
        return `peak VmRSS ${(r.peakRss / 1e6).toFixed(0)} MB, VmHWM ${(r.hwm / 1e6).toFixed(0)} MB`;
      },
    };
  }
  throw new Error(`unknown scenario id ${id}; known: ${[...scenarios(cfg).map((s) => s.id), 'scale-tags', 'scale-catalog', 'scale-rss', 'pull-distinct-N', 's3-push-N[xMm]', 's3-pull-N[xMm]'].join(', ')}`);
}

/** radosgw on bluestore with a fresh bucket, and the environment that puts ncr on it */
async function prepareS3(): Promise<{ env: Record<string, string>; done(): Promise<void> }> {
  const s3 = await startS3({ quiet: true, store: 'bluestore' });
  const bucket = await s3.newBucket();
  const env = {
    NCR_STORAGE_DRIVER: 's3',
    NCR_STORAGE_S3_BUCKET: bucket,
    NCR_STORAGE_S3_ENDPOINT: s3.endpoint,
    NCR_STORAGE_S3_REGION: s3.region,
    NCR_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    NCR_STORAGE_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    NCR_STORAGE_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
  return { env, done: () => s3.close() };
}

async function main(): Promise<void> {
  const cfg = loadBenchConfig();
  const ids = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;
  const repeat = Number(process.env.BENCH_PROFILE_REPEAT ?? 2);
  const out = resolve(process.env.BENCH_PROFILE_OUT ?? '/tmp/ncr-profiles');
  await mkdir(out, { recursive: true });
  const jobs = ids.map((id) => [id, job(cfg, id, repeat)] as const);
  for (const [id, j] of jobs) {
    const data = join(cfg.tmp, `prof-${id}`);
    const profDir = join(cfg.tmp, `cpuprof-${id}`);
    log(`${id}: setting up`);
    const prepared = await j.prepare?.();
    const env = prepared?.env ?? {};
    const plain = await startNcr(cfg, data, { env });
    await j.setup(plain);
    await plain.stop();
    const profiled = await startNcr(cfg, data, { env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], createRegistry: false });
    log(`${id}: profiling (pid ${profiled.pid})`);
    const result = await j.measure(profiled);
    await profiled.stop();
    await prepared?.done();
    const files = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`${id}: expected one .cpuprofile in ${profDir}, found ${files.length}`);
    const file = join(out, `${id}.cpuprofile`);
    await rename(join(profDir, files[0]), file);
    const summary = `# ${id}: ${result}\n\n${await summariseFile(file, 30)}`;
    await writeFile(join(out, `${id}.txt`), summary);
    process.stdout.write(summary + '\n');
    log(`${id}: ${result}; profile ${file}`);
    await rm(data, { recursive: true, force: true });
  }
}

main().then(
  () => stopAll().then(() => process.exit(0)),
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
