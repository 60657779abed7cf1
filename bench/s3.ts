/**
 * s3-*: ncr on S3 against the same S3 server used directly. One S3 server on loopback (test/helpers/s3.ts: Ceph's
 * radosgw on a one-OSD cluster of its own, its OSD on bluestore in a sparse file, as a real deployment stores;
 * BENCH_S3=s3rver takes the JavaScript emulator, BENCH_S3_STORE=memstore keeps the OSD's objects in memory) and one
 * bucket; ncr (`bin/ncr.js serve`, its own process) with `storage.driver: s3`, and a second ncr with presigned
 * redirects. Per size (1 MiB, and the large size): pushes as POST + PUT with the body through ncr vs PutObject
 * straight to the bucket; pulls through ncr (streamed), through ncr with a 307 to the presigned URL followed by the
 * client, and GetObject straight from the bucket. Both sides hash what they pull; ncr is expected at ≥ 80% of the
 * direct figure (the median of the rounds' ratios). Within a round the sides take turns A B B A, each running half its
 * count at a time; rounds alternate which side goes first.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3 } from '../test/helpers/s3.js';
import { expectStatus, type RegistryClient } from './client.js';
import { MiB, selected, type BenchConfig } from './config.js';
import { medianStats, runCount, stats, type Sample, type Stats } from './load.js';
import { pullBlob, pullScope, pushBlob } from './oci.js';
import { uniqueBlobs, type Blob } from './payload.js';
import { REGISTRY, startNcr, type Server } from './servers.js';

export interface S3BenchLine {
  /** median over the rounds of ncr / direct within each round (both sides run back to back) */
  ratio: number;
  /** the S3 server: radosgw (bluestore) or s3rver */
  server: string;
  id: string;
  title: string;
  ncr: Stats;
  direct: Stats;
}

type Side = 'ncr' | 'direct';

interface Case {
  id: string;
  title: string;
  /** operations a side runs per round */
  count: number;
  /** one timed run of `n` operations on a side */
  run(side: Side, n: number): Promise<Sample>;
}

export async function s3Bench(cfg: BenchConfig, log: (m: string) => void): Promise<S3BenchLine[]> {
  // quiet: nothing between the clients and the server records requests
  const kind = process.env.BENCH_S3 === 's3rver' ? 's3rver' : 'radosgw';
  const store = process.env.BENCH_S3_STORE === 'memstore' ? 'memstore' : 'bluestore';
  const s3 = await startS3({ quiet: true, kind, store });
  const servers: Server[] = [];
  try {
    const bucket = await s3.newBucket();
    const env = (redirect: boolean): Record<string, string> => ({
      NCR_STORAGE_DRIVER: 's3',
      NCR_STORAGE_S3_BUCKET: bucket,
      NCR_STORAGE_S3_PREFIX: redirect ? 'redirect/' : 'ncr/',
      NCR_STORAGE_S3_ENDPOINT: s3.endpoint,
      NCR_STORAGE_S3_REGION: s3.region,
      NCR_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      NCR_STORAGE_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      NCR_STORAGE_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      NCR_STORAGE_S3_REDIRECT: String(redirect),
    });
    const ncr = await startNcr(cfg, join(cfg.tmp, 's3-ncr'), { env: env(false) });
    servers.push(ncr);
    const redirecting = await startNcr(cfg, join(cfg.tmp, 's3-ncr-redirect'), { env: env(true) });
    servers.push(redirecting);
    log(`s3: ${s3.kind} at ${s3.endpoint}, ncr at ${ncr.url}, ncr with redirects at ${redirecting.url}`);
    const client = ncr.client();
    const redirectClient = redirecting.client();
    const direct = s3.client();
    const conc = cfg.blobConcurrency;
    const cases: Case[] = [];
    for (const { label, size, count } of [
      // three times the table's small count: a side's run of 200 MiB lasts about a second here, too short for the
      // machine's swings; BENCH_S3_SMALL sets it
      { label: '1m', size: MiB, count: Number(process.env.BENCH_S3_SMALL ?? cfg.pushSmall.count * 3) },
      { label: `${Math.round(cfg.pushLarge.size / MiB)}m`, size: cfg.pushLarge.size, count: cfg.pushLarge.count },
    ]) {
      const mib = `${Math.round(size / MiB)} MiB`;
      const repo = `${REGISTRY}/s3-${label}`;
      cases.push({
        id: `s3-push-${label}`,
        title: `push ${count} × ${mib}, ${conc} at once: POST+PUT through ncr vs PutObject`,
        count,
        async run(side, n) {
          const blobs = uniqueBlobs(n, size);
          const op = side === 'ncr' ? (i: number) => pushBlob(client, repo, blobs[i].parts, blobs[i].digest) : (i: number) => putDirect(direct, bucket, `direct/${blobs[i].digest}`, blobs[i]);
          return runCount(conc, n, async (i) => (await op(i), size));
        },
      });
      // pulls read a few distinct blobs over and over, pushed (untimed) once to each side
      const distinct = uniqueBlobs(Math.min(4, count), size);
      for (const b of distinct) {
        await pushBlob(client, repo, b.parts, b.digest);
        await pushBlob(redirectClient, repo, b.parts, b.digest);
        await putDirect(direct, bucket, `direct/${b.digest}`, b);
      }
      // a pull of 8 × 64 MiB lasted under a second a side, too short for the machine's swings: the large pulls read
      // 32 (BENCH_S3_LARGE_PULLS); the small ones as many as were pushed
      const pulls = size === MiB ? count : Number(process.env.BENCH_S3_LARGE_PULLS ?? 32);
      cases.push({
        id: `s3-pull-${label}`,
        title: `pull ${pulls} × ${mib}, ${conc} at once, hashed: GET through ncr vs GetObject`,
        count: pulls,
        async run(side, n) {
          const op = side === 'ncr' ? (i: number) => pullBlob(client, repo, distinct[i % distinct.length].digest) : (i: number) => getDirect(direct, bucket, distinct[i % distinct.length].digest);
          return runCount(conc, n, op);
        },
      });
      cases.push({
        id: `s3-redirect-${label}`,
        title: `pull ${pulls} × ${mib}, ${conc} at once, hashed: GET on ncr answering 307 + GET of the presigned URL vs GetObject`,
        count: pulls,
        async run(side, n) {
          const op = side === 'ncr' ? (i: number) => pullRedirected(redirectClient, repo, distinct[i % distinct.length].digest) : (i: number) => getDirect(direct, bucket, distinct[i % distinct.length].digest);
          return runCount(conc, n, op);
        },
      });
    }
    const lines: S3BenchLine[] = [];
    for (const c of cases) {
      if (selected(cfg, c.id)) {
        const runs: Record<Side, Stats[]> = { ncr: [], direct: [] };
        for (let round = 1; round <= cfg.rounds; round++) {
          // The S3 server's speed drifts within seconds here (one side's run of the same GETs: 117–386 MB/s): each
          // side runs its count in two halves, in the order A B B A (B A A B the next round), so a drift through
          // the round weighs on both sides alike. Too few operations to keep `conc` busy in halves: A B.
          const halves = Math.floor(c.count / 2) >= conc;
          const [a, b]: Side[] = round % 2 === 1 ? ['direct', 'ncr'] : ['ncr', 'direct'];
          const order = halves ? [a, b, b, a] : [a, b];
          const parts: Record<Side, Sample[]> = { ncr: [], direct: [] };
          for (const [i, side] of order.entries()) parts[side].push(await c.run(side, halves ? (i < 2 ? Math.floor(c.count / 2) : Math.ceil(c.count / 2)) : c.count));
          for (const side of ['ncr', 'direct'] as const) runs[side].push(stats(joined(parts[side])));
          const each = (side: Side) => (halves ? ` (${parts[side].map((x) => stats(x).mbPerSec.toFixed(0)).join(', ')})` : '');
          log(`round ${round}/${cfg.rounds} ${c.id.padEnd(17)} ncr ${runs.ncr.at(-1)!.mbPerSec.toFixed(0)}${each('ncr')} MB/s | direct ${runs.direct.at(-1)!.mbPerSec.toFixed(0)}${each('direct')} MB/s`);
        }
        const ratios = runs.ncr.map((n, i) => n.mbPerSec / runs.direct[i]!.mbPerSec).sort((a, b) => a - b);
        lines.push({ ratio: ratios[Math.floor(ratios.length / 2)]!, server: s3.kind === 'radosgw' ? `radosgw (Ceph 16, ${store})` : 's3rver', id: c.id, title: c.title, ncr: medianStats(runs.ncr), direct: medianStats(runs.direct) });
      }
    }
    return lines;
  } finally {
    for (const s of servers) await s.stop();
    await s3.close();
  }
}

export function s3Report(lines: S3BenchLine[]): string {
  const out = ['', `S3 (${lines[0]?.server ?? 'no server'} on loopback; ncr on storage.driver s3 vs the same S3 server directly; medians over the rounds)`, ''];
  out.push('| scenario | ncr MB/s | direct MB/s | ncr / direct (median of the rounds\' ratios) | ncr p99 ms | direct p99 ms |', '|---|---|---|---|---|---|');
  for (const l of lines) {
    const ratio = l.ratio;
    out.push(`| \`${l.id}\` ${l.title} | ${l.ncr.mbPerSec.toFixed(0)} | ${l.direct.mbPerSec.toFixed(0)} | ${(ratio * 100).toFixed(0)}%${ratio < 0.8 ? ' (below 80%)' : ''} | ${l.ncr.p99.toFixed(1)} | ${l.direct.p99.toFixed(1)} |`);
  }
  return out.join('\n') + '\n';
}

/** Samples of one side taken apart, as one: their operations, bytes and seconds added up. */
function joined(samples: Sample[]): Sample {
  return {
    ops: samples.reduce((n, s) => n + s.ops, 0),
    bytes: samples.reduce((n, s) => n + s.bytes, 0),
    seconds: samples.reduce((n, s) => n + s.seconds, 0),
    latencies: samples.flatMap((s) => s.latencies),
  };
}

async function putDirect(s3: S3Client, bucket: string, key: string, blob: Blob): Promise<void> {
  const body = Buffer.concat(blob.parts);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
}

async function getDirect(s3: S3Client, bucket: string, digest: string): Promise<number> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `direct/${digest}` }));
  return hashCheck(res.Body as AsyncIterable<Uint8Array>, digest);
}

async function pullRedirected(c: RegistryClient, repo: string, digest: string): Promise<number> {
  const res = await c.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scope: pullScope(repo), sink: 'text' });
  expectStatus(res, `pull blob ${digest} from ${repo}`, 307);
  const location = res.headers.location;
  if (typeof location !== 'string') throw new Error(`pull blob ${digest}: a 307 without a Location`);
  const got = await fetch(location);
  if (got.status !== 200 || !got.body) throw new Error(`pull blob ${digest} from the presigned URL: HTTP ${got.status}`);
  return hashCheck(got.body as unknown as AsyncIterable<Uint8Array>, digest);
}

async function hashCheck(body: AsyncIterable<Uint8Array>, digest: string): Promise<number> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of body) {
    h.update(c);
    n += c.length;
  }
  if (`sha256:${h.digest('hex')}` !== digest) throw new Error(`blob ${digest}: the bytes pulled have another digest`);
  return n;
}
