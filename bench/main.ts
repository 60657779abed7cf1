/**
 * The benchmark driver (run by bench/run.sh): starts the peer, ncr and the machine-limit server, sets every
 * scenario up on both registries, runs the rounds interleaved (for each scenario: peer and ncr, alternating which goes first; then the machine limit), runs
 * the scale scenarios on fresh servers, then prints the table and writes bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { transportName } from './client.js';
import { loadBenchConfig, selected, type BenchConfig } from './config.js';
import { stats, type Stats } from './load.js';
import { Machine, micro, type LimitId, type Micro } from './machine.js';
import { readRecord } from './record.js';
import { printReport, writeResults, type Results, type RunInfo, type ScaleResults, type ScenarioResult } from './report.js';
import { cacheBench, scanBench, webhookBench } from './capabilities.js';
import { replicationBench } from './cap-replication.js';
import { workersBench } from './workers.js';
import { gcBench, gcLine } from './gc.js';
import { catalogPages, peakRss, tagPages } from './scale.js';
import { s3Bench, s3Report } from './s3.js';
import { scenarios, type Target } from './scenarios.js';
import { cpuSecondsOf, startNcr, startPeer, stopAll, type Kind, type Server } from './servers.js';

const KINDS: Kind[] = ['peer', 'ncr'];

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).trim();
  } catch {
    return '?';
  }
}

function runInfo(cfg: BenchConfig): Omit<RunInfo, 'seconds' | 'transport'> {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  const mem = sh('free', ['-h']).split('\n').find((l) => l.startsWith('Mem:'))?.split(/\s+/) ?? [];
  const commit = sh('git', ['-C', cfg.ncrDir, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', cfg.ncrDir, 'status', '--porcelain', '--', 'src']) ? ' (with uncommitted changes in src/)' : '';
  const where = cfg.ncrDir === cfg.root ? '' : ` from ${cfg.ncrDir}`;
  const envs = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_TMP').map(([k, v]) => `${k}=${v} `).join('');
  return {
    command: `${envs}npm run bench`,
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    machine: [`machine: ${sh('nproc', [])} cores (nproc), CPU ${model}, memory ${mem[1] ?? '?'} total / ${mem[6] ?? '?'} available (free -h), Linux ${sh('uname', ['-r'])}`],
    versions: [
      `peer: ${sh(cfg.peerBin, ['--version']).split('\n')[0]} (Debian docker-registry, filesystem storage, inmemory blob descriptor cache, no auth)`,
      `ncr: commit ${commit}${dirty}${where}, SQLite, Node ${process.version}${cfg.ncrWorkers > 1 ? `, serve --workers ${cfg.ncrWorkers}` : ''}`,
    ],
  };
}

async function main(): Promise<void> {
  const cfg = loadBenchConfig();
  const t0 = performance.now();
  const info = runInfo(cfg);
  const list = scenarios(cfg).filter((s) => selected(cfg, s.id));
  const results: ScenarioResult[] = list.map((scenario) => ({ scenario, runs: { peer: [], ncr: [] }, errors: [] }));
  const limits = new Map<LimitId, Stats[]>();
  const micros: Micro[] = [];
  log(`${cfg.quick ? 'QUICK run' : 'full run'}: ${cfg.rounds} round(s), ${list.length} scenarios, scale ${cfg.scale.enabled ? 'on' : 'off'}; scratch in ${cfg.tmp}`);

  if (list.length > 0) {
    const servers: Record<Kind, Server> = { peer: await startPeer(cfg, join(cfg.tmp, 'peer')), ncr: await startNcr(cfg, join(cfg.tmp, 'ncr')) };
    log(`peer at ${servers.peer.url} (pid ${servers.peer.pid}), ncr at ${servers.ncr.url} (pid ${servers.ncr.pid})`);
    const targets: Record<Kind, Target> = { peer: { kind: 'peer', client: servers.peer.client() }, ncr: { kind: 'ncr', client: servers.ncr.client() } };
    // CPU seconds of a restarted server once it listened: a scenario's CPU figure leaves its start-up out
    const cpuAtStart = new Map<Kind, number>();
    for (const k of KINDS) {
      targets[k].restart = async () => {
        await servers[k].stop();
        servers[k] = k === 'peer' ? await startPeer(cfg, join(cfg.tmp, 'peer')) : await startNcr(cfg, join(cfg.tmp, 'ncr'), { createRegistry: false });
        targets[k].client = servers[k].client();
        const note = await dropPageCache();
        cpuAtStart.set(k, await cpuSecondsOf(servers[k].pid));
        log(`restarted ${k}: ${servers[k].url} (pid ${servers[k].pid}); page cache ${note}`);
        return note;
      };
    }
    const machine = new Machine(cfg);
    await machine.start();
    const broken = new Set<string>();
    for (const r of results) {
      for (const k of KINDS) {
        try {
          await r.scenario.setup?.(targets[k]);
        } catch (err) {
          broken.add(`${r.scenario.id}/${k}`);
          r.errors.push(`setup on ${k}: ${(err as Error).message}`);
          log(`setup of ${r.scenario.id} on ${k} failed: ${(err as Error).message}`);
        }
      }
    }
    log('setup done');
    for (let round = 1; round <= cfg.rounds; round++) {
      micros.push(await micro(cfg));
      const measuredLimits = new Set<LimitId>();
      for (const r of results) {
        const line: string[] = [];
        // Odd rounds measure the peer first, even rounds ncr first: whoever goes second inherits the disk's
        // writeback (and the host's caches) from the first, so a fixed order would favour one side.
        for (const k of round % 2 === 1 ? KINDS : [...KINDS].reverse()) {
          if (broken.has(`${r.scenario.id}/${k}`)) continue;
          try {
            flushDisk();
            const pid = servers[k].pid;
            const cpu0 = await cpuSecondsOf(pid);
            const st = stats(await r.scenario.run(targets[k], round));
            // a scenario that restarted the server: the new process's CPU time since it listened
            const cpu = (await cpuSecondsOf(servers[k].pid)) - (servers[k].pid === pid ? cpu0 : (cpuAtStart.get(k) ?? 0));
            r.runs[k].push(st);
            line.push(`${k} ${fmt(r.scenario.headline, st)} cpu ${cpu.toFixed(2)} s`);
          } catch (err) {
            r.errors.push(`round ${round} on ${k}: ${(err as Error).message}`);
            line.push(`${k} ERROR ${(err as Error).message}`);
          }
        }
        const lim = r.scenario.limit;
        if (lim && !measuredLimits.has(lim)) {
          measuredLimits.add(lim);
          try {
            flushDisk();
            const st = stats(await machine.limit(lim));
            limits.set(lim, [...(limits.get(lim) ?? []), st]);
            line.push(`machine ${fmt(lim.includes('-1k-') ? 'req/s' : 'MB/s', st)}`);
          } catch (err) {
            line.push(`machine ERROR ${(err as Error).message}`);
          }
        }
        log(`round ${round}/${cfg.rounds} ${r.scenario.id.padEnd(17)} ${line.join(' | ')}`);
      }
    }
    await machine.stop();
    for (const k of KINDS) await servers[k].stop();
    await rm(join(cfg.tmp, 'peer'), { recursive: true, force: true });
    await rm(join(cfg.tmp, 'ncr'), { recursive: true, force: true });
    await rm(join(cfg.tmp, 'machine'), { recursive: true, force: true });
  }

  const scale: ScaleResults = {};
  if (cfg.scale.enabled) {
    const kinds: Kind[] = cfg.scale.peer ? ['ncr', 'peer'] : ['ncr'];
    for (const k of kinds) {
      const wantPages = selected(cfg, 'scale-tags') || selected(cfg, 'scale-catalog');
      if (wantPages) {
        const dir = join(cfg.tmp, `scale-${k}`);
        const s = k === 'ncr' ? await startNcr(cfg, dir) : await startPeer(cfg, dir);
        for (const [key, id, fn] of [
          ['tags', 'scale-tags', tagPages],
          ['catalog', 'scale-catalog', catalogPages],
        ] as const) {
          if (!selected(cfg, id)) continue;
          const slot = (scale[key] ??= {});
          log(`${id} on ${k}: seeding ${key === 'tags' ? cfg.scale.tags : cfg.scale.images} …`);
          try {
            const p = await fn(cfg, s.client());
            slot[k] = p;
            log(`${id} on ${k}: seeded ${p.seed.count} in ${p.seed.seconds.toFixed(0)} s; pages p50 ${p.pages.p50.toFixed(2)} ms, p99 ${p.pages.p99.toFixed(2)} ms`);
          } catch (err) {
            slot[k] = (err as Error).message;
            log(`${id} on ${k} failed: ${(err as Error).message}`);
          }
        }
        await s.stop();
        await rm(dir, { recursive: true, force: true });
      }
      if (selected(cfg, 'scale-rss')) {
        const dir = join(cfg.tmp, `rss-${k}`);
        const s = k === 'ncr' ? await startNcr(cfg, dir) : await startPeer(cfg, dir);
        const slot = (scale.rss ??= {});
        try {
          const r = await peakRss(cfg, s);
          slot[k] = r;
          log(`scale-rss on ${k}: peak VmRSS ${(r.peakRss / 1e6).toFixed(0)} MB, VmHWM ${(r.hwm / 1e6).toFixed(0)} MB`);
        } catch (err) {
          slot[k] = (err as Error).message;
          log(`scale-rss on ${k} failed: ${(err as Error).message}`);
        }
        await s.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  // scale-gc: in process, on this checkout's src/ (seeded directly); printed after the table
  const gcLines: string[] = [];
  if (cfg.scale.enabled && selected(cfg, 'scale-gc')) {
    for (const db of cfg.scale.gcPgUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
      log(`scale-gc on ${db}: seeding ${cfg.scale.gcBlobs} blobs …`);
      try {
        const line = gcLine(await gcBench(cfg, db));
        gcLines.push(line);
        log(line);
      } catch (err) {
        gcLines.push(`scale-gc (${db}) failed: ${(err as Error).message}`);
        log(`scale-gc on ${db} failed: ${(err as Error).message}`);
      }
    }
  }

  // capability scenarios (ncr only): one line each, printed after the table; one that fails says why and the rest go on
  const capability = async (id: string, run: () => Promise<string>) => {
    if (!selected(cfg, id)) return;
    try {
      const line = await run();
      gcLines.push(line);
      log(line);
    } catch (err) {
      gcLines.push(`${id} failed: ${(err as Error).message}`);
      log(`${id} failed: ${(err as Error).message}`);
    }
  };
  await capability('cap-webhooks', () => webhookBench(cfg));
  await capability('cap-cache', () => cacheBench(cfg));
  await capability('cap-scan', () => scanBench(cfg));
  await capability('cap-replication', () => replicationBench(cfg, log));
  await capability('cap-workers', () => workersBench(cfg, log));

  // s3-*: ncr on S3 vs the same S3 server directly; printed after the table
  let s3Text = '';
  if (!cfg.only || cfg.only.some((p) => p.startsWith('s3') || 's3'.startsWith(p))) {
    try {
      s3Text = s3Report(await s3Bench(cfg, log));
    } catch (err) {
      s3Text = `\nS3 scenarios failed: ${(err as Error).message}\n`;
      log(`s3 failed: ${(err as Error).message}`);
    }
  }

  const res: Results = {
    cfg,
    info: { ...info, transport: await transportName(cfg.root), seconds: (performance.now() - t0) / 1000 },
    scenarios: results,
    limits,
    micro: micros,
    scale,
  };
  printReport(res);
  if (gcLines.length > 0) process.stdout.write(`\n${gcLines.join('\n')}\n`);
  if (s3Text) process.stdout.write(s3Text);
  if (cfg.resultsFile) {
    // the run it replaces is read first: RESULTS.md says what moved since
    const record = await readRecord(cfg.resultsFile);
    await writeResults(res, cfg.resultsFile, record, [...gcLines, ...(s3Text ? [s3Text.trim()] : [])]);
    log(`wrote ${cfg.resultsFile}`);
  }
}

/**
 * Writes back every dirty page (untimed) before a measurement, so that what one measurement left dirty is not
 * flushed by the kernel inside the next one (ncr's usually follows the peer's).
 */
function flushDisk(): void {
  execFileSync('sync', { stdio: 'ignore', timeout: 120_000 });
}

/**
 * Drops the kernel's page cache (after writing dirty pages back), so that the next reads come from the disk. Needs
 * root and a kernel that lets this container do it; says which happened.
 */
async function dropPageCache(): Promise<string> {
  flushDisk();
  const cached = async () => Number(/^Cached:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'))?.[1] ?? NaN) / 1024;
  const before = await cached();
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
  } catch (err) {
    return `not dropped (${(err as NodeJS.ErrnoException).code ?? (err as Error).message} writing /proc/sys/vm/drop_caches): blobs may be read from memory`;
  }
  return `dropped (echo 3 > /proc/sys/vm/drop_caches; Cached ${before.toFixed(0)} → ${(await cached()).toFixed(0)} MiB)`;
}

function fmt(headline: 'MB/s' | 'req/s', st: Stats): string {
  const v = headline === 'MB/s' ? st.mbPerSec : st.opsPerSec;
  return `${v.toFixed(0)} ${headline} p99 ${st.p99.toFixed(1)} ms`;
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopAll().catch(() => undefined);
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

main().then(
  () => shutdown(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void shutdown(1);
  },
);
