import { describe, expect, it } from 'vitest';
import { compare, parseRecord } from './record.js';

const SAMPLE = `# Benchmark results

- date: 2026-12-03 04:33 UTC; the run took 12.4 minutes
- ncr: commit b3c1212, SQLite, Node v20.20.2

## Results

| scenario | peer ops/s | peer MB/s | peer p50/p99 ms | ncr ops/s | ncr MB/s | ncr p50/p99 ms | ncr/peer | per round | machine limit | ncr of limit |
|---|---|---|---|---|---|---|---|---|---|---|
| push-small | 133 | 140 | 57.1 / 100.4 | 221 | 231 | 33.6 / 76.1 | 1.65× | 1.40 1.14 | 324 MB/s | 71% |
| pull-large (errors) | 8.8 | 590 | 898.4 / 1105.7 | 8.7 | 585 | 869.4 / 969.6 | 0.99× | 1.04 0.84 | 616 MB/s | 95% |
| catalog | 501 |  | 42.0 / 289.9 | 2,992 |  | 10.3 / 24.8 | – |  |  |  |

## Targets
`;

describe('the last run of record', () => {
  it('reads each scenario’s ncr/peer ratio and what run it was', () => {
    const r = parseRecord(SAMPLE)!;
    expect([...r.ratios]).toEqual([
      ['push-small', 1.65],
      ['pull-large', 0.99],
    ]);
    expect(r.about).toBe('date: 2026-12-03 04:33 UTC; the run took 12.4 minutes; ncr: commit b3c1212, SQLite, Node v20.20.2');
  });

  it('is not found in a file without a results table', () => {
    expect(parseRecord('# notes\n\nnothing here\n')).toBeUndefined();
  });

  it('flags a ratio that fell by more than 5%, not one that fell less or rose', () => {
    const r = parseRecord(SAMPLE)!;
    const changes = compare(r, new Map([['push-small', 1.55], ['pull-large', 0.95], ['new-one', 2]]));
    expect(changes.map((c) => [c.id, c.regressed])).toEqual([
      ['push-small', true],
      ['pull-large', false],
    ]);
    expect(changes[0]!.change).toBeCloseTo(1.55 / 1.65 - 1, 6);
  });
});
