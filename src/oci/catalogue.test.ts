import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, NcrError, type ErrorCode } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.*) \|$/gm)].map((m) => ({ code: m[1], status: Number(m[2]), when: m[3].trim() }));

describe('the error catalogue and docs/errors.md agree', () => {
  it('lists every code with its status, and nothing else', () => {
    const fromDoc = rows.map((r) => [r.code, r.status]);
    const fromCode = Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, e.status]);
    expect(fromDoc.sort()).toEqual(fromCode.sort());
  });

  it('documents each code once, with when it is answered', () => {
    expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
    for (const r of rows) expect(r.when.length, r.code).toBeGreaterThan(10);
  });
});

describe('NcrError', () => {
  it("takes its status from the catalogue, for every code, and a call site cannot choose another", () => {
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      // a stray `status` (only possible around the type checker) is ignored
      const e = new NcrError(code, 'm', { status: 299 } as never);
      expect(e.status, code).toBe(ERROR_CATALOGUE[code].status);
    }
  });
});
