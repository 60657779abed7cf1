/**
 * cap-workers (ncr only, printed after the table): `ncr serve` with 1 worker process against `serve --workers 2`, each
 * on a fresh data dir, on the hot-set blob pull (pull-small) and manifest GET by tag at 32 at once (manifest-get-32),
 * the same scenarios as the table's, run in turn on both (the order alternating per round). The load client shares
 * the machine's cores with the servers: a second worker helps only when a core is otherwise idle.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import { median, stats, type Stats } from './load.js';
import { scenarios } from './scenarios.js';
import { cpuSecondsOf, startNcr, type Server } from './servers.js';

const IDS = ['pull-small', 'manifest-get-32'];

export async function workersBench(cfg: BenchConfig, log: (m: string) => void): Promise<string> {
  const counts = [1, Math.max(2, cfg.ncrWorkers)];
  const rounds = Math.min(cfg.rounds, 3);
  const servers: Server[] = [];
  try {
    for (const n of counts) servers.push(await startNcr(cfg, join(cfg.tmp, `cap-workers-${n}`), { workers: n }));
    // one list of scenario objects per server: a scenario keeps what its setup made per registry kind
    const lists = servers.map(() => scenarios(cfg).filter((s) => IDS.includes(s.id)));
    const targets = servers.map((s) => ({ kind: 'ncr' as const, client: s.client() }));
    for (let i = 0; i < servers.length; i++) for (const s of lists[i]) await s.setup?.(targets[i]);
    const results = IDS.map(() => counts.map(() => [] as { st: Stats; cpu: number }[]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? [0, 1] : [1, 0];
      for (let k = 0; k < IDS.length; k++) {
        for (const i of order) {
          const cpu0 = await cpuSecondsOf(servers[i].pid);
          const st = stats(await lists[i][k].run(targets[i], round));
          results[k][i].push({ st, cpu: (await cpuSecondsOf(servers[i].pid)) - cpu0 });
        }
        const fmt = (i: number) => {
          const r = results[k][i].at(-1)!;
          return `${counts[i]} worker(s) ${lists[i][k].headline === 'MB/s' ? `${r.st.mbPerSec.toFixed(0)} MB/s` : `${r.st.opsPerSec.toFixed(0)} req/s`} p99 ${r.st.p99.toFixed(1)} ms cpu ${r.cpu.toFixed(2)} s`;
        };
        log(`cap-workers round ${round}/${rounds} ${IDS[k]}: ${fmt(0)} | ${fmt(1)}`);
      }
    }
    const parts = IDS.map((id, k) => {
      const mb = lists[0][k].headline === 'MB/s';
      const v = (i: number) => median(results[k][i].map((r) => (mb ? r.st.mbPerSec : r.st.opsPerSec)));
      const p99 = (i: number) => median(results[k][i].map((r) => r.st.p99));
      const unit = mb ? 'MB/s' : 'req/s';
      return `${id} ${v(0).toFixed(0)} ${unit} (p99 ${p99(0).toFixed(1)} ms) with 1, ${v(1).toFixed(0)} ${unit} (p99 ${p99(1).toFixed(1)} ms) with ${counts[1]}: ${(v(1) / v(0)).toFixed(2)}×`;
    });
    return `cap-workers: ncr serve with 1 worker vs --workers ${counts[1]}, median of ${rounds} round(s), load client on the same machine: ${parts.join('; ')}`;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const n of counts) await rm(join(cfg.tmp, `cap-workers-${n}`), { recursive: true, force: true });
  }
}
