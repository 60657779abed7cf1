/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the time went by self time per function, by package
 * or module, and the inclusive time of ncr's own functions (each sample counted once per function on its stack).
 * Usage: node --import tsx bench/cpuprofile.ts <file.cpuprofile> [top=25]
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Where a frame lives: a package, a Node module, ncr's own file, or native code. */
export function categoryOf(f: CallFrame): string {
  if (SPECIAL.has(f.functionName)) return f.functionName;
  const url = f.url;
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const dist = /\/dist\/(.+)\.js$/.exec(url);
  if (dist) return `ncr src/${dist[1]}.ts`;
  return url.replace(/^file:\/\//, '');
}

function frameKey(f: CallFrame): string {
  const where = f.url ? `${categoryOf(f)}:${f.lineNumber + 1}` : categoryOf(f);
  return `${f.functionName || '(anonymous)'}  [${where}]`;
}

export interface Summary {
  totalMs: number;
  busyMs: number;
  self: { key: string; ms: number }[];
  categories: { key: string; ms: number }[];
  ncrInclusive: { key: string; ms: number }[];
}

export function summarise(p: CpuProfile): Summary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const cats = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const avg = (p.endTime - p.startTime) / Math.max(1, p.samples.length);
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? avg) / 1000;
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    total += dt;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(frameKey(f), (self.get(frameKey(f)) ?? 0) + dt);
    cats.set(categoryOf(f), (cats.get(categoryOf(f)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const fr = byId.get(id)!.callFrame;
      if (!categoryOf(fr).startsWith('ncr ')) continue;
      const k = frameKey(fr);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].map(([key, ms]) => ({ key, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, busyMs: total - idle, self: sorted(self), categories: sorted(cats), ncrInclusive: sorted(incl) };
}

export function formatSummary(s: Summary, top = 25): string {
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1).padStart(5)}%`;
  const line = (e: { key: string; ms: number }) => `  ${pct(e.ms)} ${e.ms.toFixed(0).padStart(7)} ms  ${e.key}`;
  return [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s; percentages are of busy time`,
    '',
    `top ${top} functions by self time:`,
    ...s.self.slice(0, top).map(line),
    '',
    'self time by package / module:',
    ...s.categories.slice(0, 20).map(line),
    '',
    `ncr's own functions by inclusive time (top ${top}):`,
    ...s.ncrInclusive.slice(0, top).map(line),
    '',
  ].join('\n');
}

export async function summariseFile(file: string, top = 25): Promise<string> {
  return formatSummary(summarise(JSON.parse(await readFile(file, 'utf8')) as CpuProfile), top);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/cpuprofile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(await summariseFile(file, Number(top ?? 25)));
}
