/**
 * Maven version comparison, the common cases of ComparableVersion: numbers compare as numbers, qualifiers in the
 * order alpha < beta < milestone < rc = cr < snapshot < (release, ga, final) < sp, other qualifiers after, as text.
 */
const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { a: 'alpha', b: 'beta', m: 'milestone', cr: 'rc', ga: '', final: '', release: '' };

type Item = number | string;

function items(v: string): Item[] {
  const parts = v.toLowerCase().split(/[.-]|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/).filter((p) => p !== '');
  const out: Item[] = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : (ALIASES[p] ?? p)));
  while (out.length > 1 && (out[out.length - 1] === 0 || out[out.length - 1] === '')) out.pop();
  return out;
}

function rank(q: string): [number, string] {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? [i, ''] : [QUALIFIERS.length, q];
}

function cmpItem(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined) a = typeof b === 'number' ? 0 : '';
  if (b === undefined) b = typeof a === 'number' ? 0 : '';
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'number') return 1; // 1.0.1 > 1.0-rc
  if (typeof b === 'number') return -1;
  const [ra, ta] = rank(a);
  const [rb, tb] = rank(b);
  return ra !== rb ? Math.sign(ra - rb) : ta < tb ? -1 : ta > tb ? 1 : 0;
}

export function compareMaven(a: string, b: string): number {
  const x = items(a);
  const y = items(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = cmpItem(x[i], y[i]);
    if (c) return c;
  }
  return 0;
}
