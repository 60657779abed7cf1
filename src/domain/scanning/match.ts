/** Whether a package version falls in an advisory's affected ranges, and the first version that fixes it. */
import type { Affected, AffectedRange } from './advisories.js';
import { comparatorOf, compareSemver, type Comparator } from './versions/index.js';

/** `introduced: "0"` stands for the first version there is. */
const cmpWithZero = (cmp: Comparator) => (a: string, b: string) => (a === '0' && b === '0' ? 0 : a === '0' ? -1 : b === '0' ? 1 : cmp(a, b));

function inRange(range: AffectedRange, version: string, cmp: Comparator): { affected: boolean; fixed?: string } {
  const c = cmpWithZero(range.type === 'SEMVER' ? compareSemver : cmp);
  const points = range.events.map((e) => ({ e, v: (e.introduced ?? e.fixed ?? e.last_affected)! }));
  points.sort((x, y) => c(x.v, y.v));
  let affected = false;
  for (const { e, v } of points) {
    if (e.introduced !== undefined && c(version, v) >= 0) affected = true;
    else if (e.fixed !== undefined && c(version, v) >= 0) affected = false;
    else if (e.last_affected !== undefined && c(version, v) > 0) affected = false;
  }
  if (!affected) return { affected };
  const fix = points.find(({ e, v }) => e.fixed !== undefined && c(v, version) > 0);
  return fix ? { affected, fixed: fix.v } : { affected };
}

/** Undefined when the ecosystem's versions cannot be compared (nothing is claimed then). */
export function affects(a: Affected, version: string): { affected: boolean; fixed?: string } | undefined {
  const cmp = comparatorOf(a.ecosystem);
  if (!cmp) return undefined;
  if (a.versions.includes(version)) return { affected: true, ...(fixOf(a, version, cmp) ?? {}) };
  let fixed: string | undefined;
  let hit = false;
  for (const r of a.ranges) {
    const m = inRange(r, version, cmp);
    if (m.affected) {
      hit = true;
      if (m.fixed && (!fixed || cmp(m.fixed, fixed) < 0)) fixed = m.fixed;
    }
  }
  return hit ? { affected: true, ...(fixed ? { fixed } : {}) } : { affected: false };
}

function fixOf(a: Affected, version: string, cmp: Comparator): { fixed: string } | undefined {
  for (const r of a.ranges) {
    const m = inRange(r, version, cmp);
    if (m.fixed) return { fixed: m.fixed };
  }
  return undefined;
}
