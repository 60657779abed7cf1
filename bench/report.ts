/**
 * Turns the measurements into the table (medians over rounds; ratio = median ncr / median peer; ncr as a fraction
 * of the machine's limit for the same load), checks the targets, prints it all and writes RESULTS.md.
 */
import { writeFile } from 'node:fs/promises';
import type { BenchConfig } from './config.js';
import { median, medianStats, type Stats } from './load.js';
import { LIMIT_TITLES, type LimitId, type Micro } from './machine.js';
import type { PageResult, RssResult } from './scale.js';
import type { Scenario } from './scenarios.js';
import { compare, type RecordedRun } from './record.js';
import type { Kind } from './servers.js';

export interface ScenarioResult {
  scenario: Scenario;
  /** one entry per round that succeeded */
  runs: Record<Kind, Stats[]>;
  errors: string[];
}

export interface ScaleResults {
  tags?: Partial<Record<Kind, PageResult | string>>;
  catalog?: Partial<Record<Kind, PageResult | string>>;
  rss?: Partial<Record<Kind, RssResult | string>>;
}

export interface RunInfo {
  command: string;
  date: string;
  machine: string[];
  versions: string[];
  transport: string;
  seconds: number;
}

export interface Results {
  cfg: BenchConfig;
  info: RunInfo;
  scenarios: ScenarioResult[];
  limits: Map<LimitId, Stats[]>;
  micro: Micro[];
  scale: ScaleResults;
}

interface Row {
  r: ScenarioResult;
  peer?: Stats;
  ncr?: Stats;
  limit?: Stats;
  ratio: number;
  ofLimit: number;
  roundRatios: number[];
}

const headlineOf = (s: Scenario, st: Stats) => (s.headline === 'MB/s' ? st.mbPerSec : st.opsPerSec);

function rows(res: Results): Row[] {
  return res.scenarios.map((r) => {
    const peer = r.runs.peer.length ? medianStats(r.runs.peer) : undefined;
    const ncr = r.runs.ncr.length ? medianStats(r.runs.ncr) : undefined;
    const lim = r.scenario.limit ? res.limits.get(r.scenario.limit) : undefined;
    const limit = lim?.length ? medianStats(lim) : undefined;
    const h = (st?: Stats) => (st ? headlineOf(r.scenario, st) : NaN);
    const n = Math.min(r.runs.peer.length, r.runs.ncr.length);
    const roundRatios = Array.from({ length: n }, (_, i) => h(r.runs.ncr[i]) / h(r.runs.peer[i]));
    return { r, peer, ncr, limit, ratio: h(ncr) / h(peer), ofLimit: h(ncr) / h(limit), roundRatios };
  });
}

export type Verdict = 'met' | 'MISSED' | 'not measured';

export interface TargetCheck {
  target: string;
  verdict: Verdict;
  measured: string;
}

const f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const ms = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');
const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`);
/** a rate: no decimals, except one below 10 */
const rate = (x: number) => f(x, Number.isFinite(x) && x < 10 ? 1 : 0);

/**
 * The targets, judged on this run's medians: issue 15's (pulls of distinct blobs and a hot set, pushes, 64 MiB at the
 * machine's limit, manifests by tag and by digest at 4× with a third of the peer's p99), and issue 4's that issue 15
 * does not replace (manifest push, peak RSS, page times at scale).
 */
export function checkTargets(res: Results): TargetCheck[] {
  const byId = new Map(rows(res).map((row) => [row.r.scenario.id, row]));
  const out: TargetCheck[] = [];
  const add = (target: string, ok: boolean | undefined, measured: string) => out.push({ target, verdict: ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED', measured });
  const have = (row?: Row) => Boolean(row?.peer && row?.ncr);

  for (const id of ['manifest-get-32', 'manifest-get-64', 'manifest-head-32', 'manifest-head-64', 'manifest-get-digest']) {
    const row = byId.get(id);
    const ok = have(row) ? row!.ratio >= 4 && row!.ncr!.p99 <= row!.peer!.p99 / 3 : undefined;
    add(`${id}: ≥ 4.0× peer req/s, p99 ≤ ⅓ of the peer's`, ok, have(row) ? `${ratio(row!.ratio)}, p99 ${ms(row!.ncr!.p99)} vs ${ms(row!.peer!.p99)} ms` : '');
  }
  for (const [id, min] of [
    ['pull-small', 1.5],
    ['pull-distinct-100', 1.5],
    ['pull-distinct-1000', 1.5],
    ['push-small', 1.5],
    ['push-chunked', 2.0],
    ['push-large', 1.0],
    ['pull-large', 1.0],
    ['manifest-push', 1.0],
  ] as const) {
    const row = byId.get(id);
    add(`${id}: ≥ ${min.toFixed(1)}× peer`, have(row) ? row!.ratio >= min : undefined, have(row) ? ratio(row!.ratio) : '');
  }
  for (const [id, min] of [
    ['pull-small', 0.9],
    ['pull-distinct-100', 0.9],
    ['pull-distinct-1000', 0.9],
    ['push-large', 0.95],
    ['pull-large', 0.95],
  ] as const) {
    const row = byId.get(id);
    const known = row?.ncr && row.limit;
    add(`${id}: ≥ ${pct(min)} of the machine limit`, known ? row!.ofLimit >= min : undefined, known ? pct(row!.ofLimit) : '');
  }
  // a smaller run (BENCH_QUICK) measures the scale scenarios, but cannot judge them
  const rss = res.scale.rss?.ncr;
  const fullRss = typeof rss === 'object' && rss.bytes >= 2 * 1024 ** 3;
  add('peak RSS < 200 MB pushing and pulling a 2 GiB layer', fullRss ? Math.max(rss.peakRss, rss.hwm) < 200e6 : undefined, typeof rss === 'object' ? `${mb(Math.max(rss.peakRss, rss.hwm))} (${size(rss.bytes)} layers)` : (rss ?? ''));
  for (const [key, what, full] of [
    ['tags', 'tags/list page (n=100) at 100k tags', 100_000],
    ['catalog', 'catalog page at 10k images', 10_000],
  ] as const) {
    const p = res.scale[key]?.ncr;
    const judged = typeof p === 'object' && p.seed.count >= full;
    add(`${what}: p99 < 20 ms`, judged ? p.pages.p99 < 20 : undefined, typeof p === 'object' ? `p99 ${ms(p.pages.p99)} ms (${f(p.seed.count)} seeded)` : (p ?? ''));
  }
  return out;
}

function table(head: string[], body: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)];
}

function plain(head: string[], body: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

function mainTable(res: Results): { head: string[]; body: string[][] } {
  const head = ['scenario', 'peer ops/s', 'peer MB/s', 'peer p50/p99 ms', 'ncr ops/s', 'ncr MB/s', 'ncr p50/p99 ms', 'ncr/peer', 'per round', 'machine limit', 'ncr of limit'];
  const body = rows(res).map((row) => {
    const s = row.r.scenario;
    const lat = (st?: Stats) => (st ? `${ms(st.p50)} / ${ms(st.p99)}` : '–');
    const limit = row.limit ? `${f(headlineOf(s, row.limit))} ${s.headline}` : '';
    return [
      s.id + (row.r.errors.length ? ' (errors)' : ''),
      rate(row.peer?.opsPerSec ?? NaN),
      s.headline === 'MB/s' ? rate(row.peer?.mbPerSec ?? NaN) : '',
      lat(row.peer),
      rate(row.ncr?.opsPerSec ?? NaN),
      s.headline === 'MB/s' ? rate(row.ncr?.mbPerSec ?? NaN) : '',
      lat(row.ncr),
      ratio(row.ratio),
      row.roundRatios.map((x) => x.toFixed(2)).join(' '),
      limit,
      row.limit ? pct(row.ofLimit) : '',
    ];
  });
  return { head, body };
}

function scaleLines(res: Results, md: boolean): string[] {
  const out: string[] = [];
  const kinds: Kind[] = ['peer', 'ncr'];
  const head = ['scale scenario', ...kinds.flatMap((k) => [`${k}`])];
  const body: string[][] = [];
  const page = (label: string, m?: Partial<Record<Kind, PageResult | string>>) => {
    if (!m) return;
    body.push([
      label,
      ...kinds.map((k) => {
        const p = m[k];
        if (p === undefined) return 'not run';
        if (typeof p === 'string') return `error: ${p.slice(0, 80)}`;
        const whole = p.ignoresN ? ' (ignores n: every answer is the whole list)' : '';
        return `p50 ${ms(p.pages.p50)} / p99 ${ms(p.pages.p99)} ms over ${p.pages.count} pages${whole}; seeded ${f(p.seed.count)} in ${f(p.seed.seconds)} s (${f(p.seed.count / p.seed.seconds)}/s)`;
      }),
    ]);
  };
  page(`tags/list page (n=100), ${f(res.cfg.scale.tags)} tags in one image`, res.scale.tags);
  page(`_catalog page (n=100), ${f(res.cfg.scale.images)} images`, res.scale.catalog);
  if (res.scale.rss) {
    body.push([
      `peak RSS, push + pull of ${size(res.cfg.scale.rssBytes)} layers at once`,
      ...kinds.map((k) => {
        const r = res.scale.rss?.[k];
        if (r === undefined) return 'not run';
        if (typeof r === 'string') return `error: ${r.slice(0, 80)}`;
        return `peak VmRSS ${mb(r.peakRss)}, VmHWM ${mb(r.hwm)}; push ${f(r.pushMBs)} MB/s, pull ${f(r.pullMBs)} MB/s`;
      }),
    ]);
  }
  if (body.length === 0) return out;
  out.push(...(md ? table(head, body) : plain(head, body)));
  return out;
}

function microLines(res: Results, md: boolean): string[] {
  if (res.micro.length === 0) return [];
  const m = (k: keyof Micro) => f(median(res.micro.map((x) => x[k])));
  const body = [
    ['disk: 1 MiB writes into one file, then fsync', `${m('diskWriteFsync')} MB/s`],
    ['disk: 1 MiB files, each fsynced with its directory', `${m('diskFilesFsync')} MB/s`],
    ['sha256, node:crypto (OpenSSL)', `${m('sha256Node')} MB/s`],
    ['sha256, hash-wasm (WebAssembly)', `${m('sha256Wasm')} MB/s`],
    ...[...res.limits.entries()].map(([id, st]) => {
      const s = medianStats(st);
      const isGet = id.includes('-1k-');
      return [LIMIT_TITLES[id], isGet ? `${f(s.opsPerSec)} req/s, p99 ${ms(s.p99)} ms` : `${f(s.mbPerSec)} MB/s`];
    }),
  ];
  return md ? table(['machine limit (median over rounds)', 'value'], body) : plain(['machine limit (median over rounds)', 'value'], body);
}

export function printReport(res: Results): void {
  const { head, body } = mainTable(res);
  const lines = ['', ...plain(head, body), '', ...microLines(res, false), '', ...scaleLines(res, false), ''];
  const checks = checkTargets(res);
  lines.push(...plain(['target', 'verdict', 'measured'], checks.map((c) => [c.target, c.verdict, c.measured])));
  const errs = res.scenarios.flatMap((r) => r.errors.map((e) => `${r.scenario.id}: ${e}`));
  if (errs.length) lines.push('', 'errors:', ...errs.map((e) => `  ${e}`));
  process.stdout.write(lines.join('\n') + '\n');
}

/** What moved since the last run of record (its ratios against this run's), one line per scenario in both. */
function sinceLines(res: Results, record: RecordedRun | undefined): string[] {
  if (!record) return ['No earlier run of record to compare with.'];
  const now = new Map(rows(res).map((row) => [row.r.scenario.id, row.ratio]));
  const changes = compare(record, now);
  const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(0)}%`;
  return [
    `Against ${record.about}: the ratio ncr/peer of each scenario in both runs; a fall of more than 5% is marked. Ratios of`,
    'single runs spread by more than that (see `per round`), so a mark says "measure again", not "it got slower".',
    '',
    ...table(
      ['scenario', 'then', 'now', 'change', ''],
      changes.map((c) => [c.id, ratio(c.then), ratio(c.now), sign(c.change), c.regressed ? '**fell > 5%**' : '']),
    ),
  ];
}

/**
 * Writes RESULTS.md; `record` is the run it replaces (read before), compared with in its own section; `extra` are the
 * lines printed after the table (GC at scale, capability and S3 scenarios), kept as printed.
 */
export async function writeResults(res: Results, file: string, record?: RecordedRun, extra: string[] = []): Promise<void> {
  const { head, body } = mainTable(res);
  const i = res.info;
  const cfg = res.cfg;
  const checks = checkTargets(res);
  const errs = res.scenarios.flatMap((r) => r.errors.map((e) => `- ${r.scenario.id}: ${e}`));
  const md = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.sh); see bench/README.md for how to run and read it. Only ratios taken in the',
    'same run mean anything: the host is shared and the same work varies by tens of percent across the day.',
    '',
    `- command: \`${i.command}\``,
    `- date: ${i.date}; the run took ${f(i.seconds / 60, 1)} minutes`,
    ...i.machine.map((m) => `- ${m}`),
    ...i.versions.map((v) => `- ${v}`),
    `- load client: ${i.transport}, in one Node process on the same machine as the servers`,
    `- ${cfg.rounds} rounds, interleaved per scenario (peer and ncr, the peer first in odd rounds and ncr first in even ones, then the machine limit), \`sync\` (untimed) before each; figures are medians over rounds; MB = 10^6 bytes;`,
    `  the peer runs without auth, ncr with login required and Docker token auth (tokens cached per scope by the client)`,
    '',
    '## Scenarios',
    '',
    ...table(
      ['id', 'what'],
      res.scenarios.map((r) => [r.scenario.id, r.scenario.title]),
    ),
    '',
    '## Results',
    '',
    '`ncr/peer` is the ratio of the medians of the headline figure (MB/s for blob scenarios, requests/s otherwise);',
    '`per round` gives the same ratio for each round; `ncr of limit` is ncr\'s median over the machine\'s own limit for the same load.',
    '',
    ...table(head, body),
    '',
    '## Targets (issue 15, and issue 4\'s that it keeps)',
    '',
    ...table(['target', 'verdict', 'measured'], checks.map((c) => [c.target, c.verdict === 'MISSED' ? '**missed**' : c.verdict, c.measured])),
    '',
    '## Since the last run of record',
    '',
    ...sinceLines(res, record),
    '',
    '## Machine limits',
    '',
    ...microLines(res, true),
    '',
    '## Scale',
    '',
    'Each on a freshly started server; page times are sequential requests (one at a time), first page then pages spread',
    'over the whole list; the RSS figures are the registry process only.',
    '',
    ...scaleLines(res, true),
    ...(extra.length ? ['', '## GC, capabilities and S3', '', '```', ...extra, '```'] : []),
    ...(errs.length ? ['', '## Errors', '', ...errs] : []),
    '',
  ];
  await writeFile(file, md.join('\n'));
}
