import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from './errors.js';

describe('the error catalogue and docs/errors.md agree', () => {
  it('lists every code with its status, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    const fromCode = Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, e.status]);
    expect(rows.sort()).toEqual(fromCode.sort());
  });
});
