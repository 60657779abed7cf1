/**
 * Vulnerability data ncr imports offline: OSV records (https://ossf.github.io/osv-schema/) and the Debian security
 * tracker's JSON, both turned into one shape. Each advisory carries a digest of its content, so an import writes only
 * what changed (incremental) and importing the same data twice changes nothing (idempotent).
 */
import { createHash } from 'node:crypto';
import { bandOf, bandOfRating, cvss3BaseScore, severityRank, type Severity } from './cvss.js';
import { debianRelease } from './detect.js';

export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
}
export interface AffectedRange {
  /** ECOSYSTEM: the ecosystem's own ordering; SEMVER: semver's */
  type: 'ECOSYSTEM' | 'SEMVER';
  events: RangeEvent[];
}
export interface Affected {
  ecosystem: string;
  package: string;
  ranges: AffectedRange[];
  /** versions listed one by one */
  versions: string[];
}
export type AdvisorySource = 'osv' | 'debian';
export interface Advisory {
  source: AdvisorySource;
  id: string;
  aliases: string[];
  summary: string;
  details: string;
  severity: Severity;
  cvssScore: number | null;
  cvssVector: string | null;
  links: string[];
  modified: string | null;
  affected: Affected[];
  /** sha256 of the content above: unchanged advisories are skipped on import */
  digest: string;
}

type Json = Record<string, any>;

function withDigest(a: Omit<Advisory, 'digest'>): Advisory {
  return { ...a, digest: createHash('sha256').update(JSON.stringify(a)).digest('hex') };
}

/** One OSV record, or undefined when it is not one (no id) or affects nothing ncr can match. */
export function parseOsv(j: Json): Advisory | undefined {
  if (!j || typeof j.id !== 'string') return undefined;
  if (j.withdrawn) return undefined;
  const affected: Affected[] = [];
  for (const a of Array.isArray(j.affected) ? j.affected : []) {
    const eco = a?.package?.ecosystem;
    const name = a?.package?.name;
    if (typeof eco !== 'string' || typeof name !== 'string') continue;
    const ranges: AffectedRange[] = [];
    for (const r of Array.isArray(a.ranges) ? a.ranges : []) {
      if (r?.type !== 'ECOSYSTEM' && r?.type !== 'SEMVER') continue; // GIT ranges name commits, not versions
      const events = (Array.isArray(r.events) ? r.events : [])
        .map((e: Json) => ({ ...(typeof e.introduced === 'string' ? { introduced: e.introduced } : {}), ...(typeof e.fixed === 'string' ? { fixed: e.fixed } : {}), ...(typeof e.last_affected === 'string' ? { last_affected: e.last_affected } : {}) }))
        .filter((e: RangeEvent) => Object.keys(e).length > 0);
      if (events.length) ranges.push({ type: r.type, events });
    }
    const versions = Array.isArray(a.versions) ? a.versions.filter((v: unknown) => typeof v === 'string') : [];
    if (ranges.length || versions.length) affected.push({ ecosystem: eco, package: name, ranges, versions });
  }
  if (affected.length === 0) return undefined;
  const vector = (Array.isArray(j.severity) ? j.severity : []).find((s: Json) => s?.type === 'CVSS_V3' && typeof s.score === 'string')?.score as string | undefined;
  const score = vector ? cvss3BaseScore(vector) : undefined;
  const rating =
    bandOfRating(j.database_specific?.severity) ??
    (Array.isArray(j.affected) ? j.affected.map((a: Json) => bandOfRating(a?.ecosystem_specific?.severity ?? a?.database_specific?.severity)).find(Boolean) : undefined);
  return withDigest({
    source: 'osv',
    id: j.id,
    // Alpine's and others' records name the CVE they track in `upstream`
    aliases: [...new Set([...(Array.isArray(j.aliases) ? j.aliases : []), ...(Array.isArray(j.upstream) ? j.upstream : [])].filter((x: unknown): x is string => typeof x === 'string'))],
    summary: typeof j.summary === 'string' ? j.summary : '',
    details: typeof j.details === 'string' ? j.details : '',
    severity: score !== undefined ? bandOf(score) : (rating ?? 'Unknown'),
    cvssScore: score ?? null,
    cvssVector: score !== undefined ? vector! : null,
    links: (Array.isArray(j.references) ? j.references : []).map((r: Json) => r?.url).filter((u: unknown) => typeof u === 'string'),
    modified: typeof j.modified === 'string' ? j.modified : null,
    affected,
  });
}

/**
 * The Debian security tracker's JSON (`{ source package: { CVE: { description, releases: { codename: { status,
 * fixed_version, urgency } } } } }`): one advisory per CVE, affecting source packages per release (`Debian:12`).
 * A release with fixed_version "0" was never affected; "open" or "undetermined" ones are affected in every version.
 */
export function parseDebianTracker(j: Json): Advisory[] {
  const byId = new Map<string, { details: string; affected: Affected[]; worst: Severity | undefined }>();
  for (const [pkg, cves] of Object.entries(j ?? {})) {
    if (!cves || typeof cves !== 'object') continue;
    for (const [id, c] of Object.entries(cves as Json)) {
      if (!/^(CVE|TEMP)-/.test(id) || !c || typeof c !== 'object') continue;
      const entry: { details: string; affected: Affected[]; worst: Severity | undefined } = byId.get(id) ?? { details: typeof c.description === 'string' ? c.description : '', affected: [], worst: undefined };
      for (const [codename, r] of Object.entries((c.releases ?? {}) as Json)) {
        const release = debianRelease(codename);
        if (!release || !r) continue;
        let range: AffectedRange | undefined;
        if (r.status === 'resolved' && typeof r.fixed_version === 'string') {
          if (r.fixed_version === '0') continue;
          range = { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: r.fixed_version }] };
        } else if (r.status === 'open' || r.status === 'undetermined') range = { type: 'ECOSYSTEM', events: [{ introduced: '0' }] };
        if (!range) continue;
        entry.affected.push({ ecosystem: `Debian:${release}`, package: pkg, ranges: [range], versions: [] });
        const band = bandOfRating(r.urgency);
        if (band && (!entry.worst || severityRank(band) > severityRank(entry.worst))) entry.worst = band;
      }
      byId.set(id, entry);
    }
  }
  const out: Advisory[] = [];
  for (const [id, e] of byId) {
    if (e.affected.length === 0) continue;
    out.push(
      withDigest({
        source: 'debian',
        id,
        aliases: [],
        summary: '',
        details: e.details,
        severity: e.worst ?? 'Unknown',
        cvssScore: null,
        cvssVector: null,
        links: [`https://security-tracker.debian.org/tracker/${id}`],
        modified: null,
        affected: e.affected,
      }),
    );
  }
  return out;
}
