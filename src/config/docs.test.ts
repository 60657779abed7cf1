/** docs/configuration.md and the schema agree in both directions: every field documented as it is, nothing extra. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_LEAVES, LEGACY_FIELDS, envName } from './index.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** The rows of every table whose header starts with `header`, as trimmed cells. */
function rows(header: string): string[][] {
  const out: string[][] = [];
  let inTable = false;
  for (const line of doc.split('\n')) {
    if (line.startsWith(`| ${header} |`)) {
      inTable = true;
      continue;
    }
    if (!line.startsWith('|')) inTable = false;
    if (!inTable || /^\|[-| ]+\|$/.test(line)) continue;
    out.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return out;
}

const code = (s: string) => '`' + s + '`';

describe('docs/configuration.md', () => {
  const fields = rows('field (YAML)');
  const byPath = new Map(fields.map((r) => [r[0], r]));

  it('lists every field once with its env variable, flag and default', () => {
    expect(fields.length).toBe(byPath.size);
    for (const leaf of CONFIG_LEAVES) {
      const row = byPath.get(code(leaf.path));
      expect(row, `${leaf.path} is documented`).toBeDefined();
      const [, env, flag, dflt, meaning] = row!;
      expect(env, leaf.path).toBe(code(leaf.env));
      expect(flag, leaf.path).toBe(leaf.flag ? [leaf.flag, leaf.alias].filter(Boolean).map((f) => code(f!)).join(', ') : 'none (env or file only)');
      expect(dflt, leaf.path).toBe(leaf.schema.default !== undefined ? code(String(leaf.schema.default)) : leaf.defaultText);
      expect(meaning, leaf.path).not.toBe('');
    }
  });

  it('documents nothing that does not exist', () => {
    const paths = new Set(CONFIG_LEAVES.map((l) => code(l.path)));
    for (const documented of byPath.keys()) expect(paths, documented).toContain(documented);
  });

  it('lists every deprecated name with what replaced it, and nothing else', () => {
    const legacy = rows('old YAML key');
    expect(legacy.map((r) => r[0]).sort()).toEqual(Object.keys(LEGACY_FIELDS).map(code).sort());
    for (const [key, env, now] of legacy) {
      const name = key.slice(1, -1);
      expect(env, name).toBe(code(envName(name)));
      expect(now, name).toBe(code(LEGACY_FIELDS[name]));
    }
  });
});
