/**
 * The last run of record: the ratios (ncr/peer) a RESULTS.md holds, read back so a new full run can say what moved
 * since (issue 15: "no scenario regresses by more than 5% from one issue to the next"). Only the ratio is compared:
 * absolute figures drift with the host from one day to the next, the ratio of two servers measured side by side far less.
 */
import { readFile } from 'node:fs/promises';

export interface RecordedRun {
  /** the commit and date lines of the run, as written */
  about: string;
  /** scenario id → ncr/peer ratio */
  ratios: Map<string, number>;
}

/** Reads the Results table of a RESULTS.md; undefined when there is none (first run, or the file is not one). */
export async function readRecord(file: string): Promise<RecordedRun | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseRecord(text);
}

export function parseRecord(text: string): RecordedRun | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Results');
  if (start < 0) return undefined;
  const header = lines.slice(start).find((l) => l.startsWith('| scenario |'));
  if (!header) return undefined;
  const cols = header.split('|').map((c) => c.trim());
  const col = cols.indexOf('ncr/peer');
  if (col < 0) return undefined;
  const ratios = new Map<string, number>();
  for (const l of lines.slice(lines.indexOf(header) + 2)) {
    if (!l.startsWith('|')) break;
    const cells = l.split('|').map((c) => c.trim());
    const id = cells[1]?.replace(/ \(errors\)$/, '');
    const value = Number.parseFloat((cells[col] ?? '').replace('×', ''));
    if (id && Number.isFinite(value)) ratios.set(id, value);
  }
  const about = [lines.find((l) => l.startsWith('- date:')), lines.find((l) => l.startsWith('- ncr:'))]
    .filter(Boolean)
    .map((l) => l!.slice(2))
    .join('; ');
  return ratios.size > 0 ? { about, ratios } : undefined;
}

export interface Change {
  id: string;
  then: number;
  now: number;
  /** now / then − 1 */
  change: number;
  regressed: boolean;
}

/** Scenario by scenario (those in both runs): the ratio then and now; a fall of more than `tolerance` regressed. */
export function compare(record: RecordedRun, now: Map<string, number>, tolerance = 0.05): Change[] {
  const out: Change[] = [];
  for (const [id, then] of record.ratios) {
    const n = now.get(id);
    if (n === undefined || !Number.isFinite(n)) continue;
    const change = n / then - 1;
    out.push({ id, then, now: n, change, regressed: change < -tolerance });
  }
  return out;
}
