/** CVSS v3.x base score from a vector (FIRST's specification, §7.1 and Appendix A's Roundup), and Harbor's bands. */

export type Severity = 'None' | 'Unknown' | 'Negligible' | 'Low' | 'Medium' | 'High' | 'Critical';
/** From least to most severe: the order reports and the pull prevention compare by. */
export const SEVERITIES: Severity[] = ['None', 'Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

const W: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

function roundup(x: number): number {
  const i = Math.round(x * 100_000);
  return i % 10_000 === 0 ? i / 100_000 : (Math.floor(i / 10_000) + 1) / 10;
}

/** The base score of a `CVSS:3.0/...` or `CVSS:3.1/...` vector, or undefined when it is not one. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(':');
    if (k && v) m[k] = v;
  }
  const scope = m.S;
  if (scope !== 'U' && scope !== 'C') return undefined;
  const pr = { N: 0.85, L: scope === 'C' ? 0.68 : 0.62, H: scope === 'C' ? 0.5 : 0.27 }[m.PR ?? ''];
  const [av, ac, ui, c, i, a] = (['AV', 'AC', 'UI', 'C', 'I', 'A'] as const).map((k) => W[k]![m[k] ?? '']);
  if ([pr, av, ac, ui, c, i, a].some((x) => x === undefined)) return undefined;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15);
  if (impact <= 0) return 0;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  return scope === 'U' ? roundup(Math.min(impact + exploitability, 10)) : roundup(Math.min(1.08 * (impact + exploitability), 10));
}

/** Harbor's (and NVD's) bands of a CVSS v3 score. */
export function bandOf(score: number): Severity {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  if (score > 0) return 'Low';
  return 'None';
}

/** A source's own rating (GHSA's database_specific.severity, Debian's urgency, ...) as a band. */
export function bandOfRating(rating: string | undefined | null): Severity | undefined {
  switch ((rating ?? '').toLowerCase().replace(/\*/g, '').trim()) {
    case 'critical':
      return 'Critical';
    case 'high':
    case 'important':
      return 'High';
    case 'moderate':
    case 'medium':
      return 'Medium';
    case 'low':
      return 'Low';
    case 'unimportant':
    case 'negligible':
      return 'Negligible';
    default:
      return undefined;
  }
}
