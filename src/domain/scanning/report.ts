/** The scan status the console's Vulnerability column shows, and the report in Harbor's format. */
import { SEVERITIES, severityRank, type Severity } from './cvss.js';
import type { Finding, ScanReport } from './ports.js';

export const HARBOR_REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

export interface ScanOverview {
  /** 'Not Scanned', 'Scanning', 'Stopped', 'Error' or 'Success' */
  status: 'Not Scanned' | 'Scanning' | 'Stopped' | 'Error' | 'Success';
  /** the worst severity found (Success), 'None' when nothing was found */
  severity: Severity | null;
  total: number;
  fixable: number;
  /** count per severity */
  summary: Partial<Record<Severity, number>>;
  /** why it failed or who stopped it */
  message: string | null;
  startedAt: number | null;
  endedAt: number | null;
}

export function worstOf(findings: Finding[]): Severity {
  let worst: Severity = 'None';
  for (const f of findings) if (severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  return worst;
}

export function overviewOf(r: ScanReport | undefined): ScanOverview {
  if (!r) return { status: 'Not Scanned', severity: null, total: 0, fixable: 0, summary: {}, message: null, startedAt: null, endedAt: null };
  const findings = r.status === 'Success' ? (r.findings ?? []) : [];
  const summary: Partial<Record<Severity, number>> = {};
  for (const f of findings) summary[f.severity] = (summary[f.severity] ?? 0) + 1;
  return {
    status: r.status,
    severity: r.status === 'Success' ? worstOf(findings) : null,
    total: findings.length,
    fixable: findings.filter((f) => f.fixVersion).length,
    summary,
    message: r.message,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  };
}

/** Harbor's vulnerability report (mime type HARBOR_REPORT_MIME) of a successful scan. */
export function harborReport(r: ScanReport, mediaType: string, scanner: { name: string; vendor: string; version: string }, allowed: (f: Finding) => boolean) {
  const findings = r.findings ?? [];
  return {
    generated_at: new Date(r.endedAt ?? r.startedAt).toISOString(),
    artifact: { repository: r.repository, digest: r.digest, mime_type: mediaType },
    scanner,
    severity: worstOf(findings),
    vulnerabilities: findings.map((f) => ({
      id: f.id,
      package: f.package,
      version: f.version,
      fix_version: f.fixVersion,
      severity: f.severity,
      description: f.description,
      links: f.links,
      preferred_cvss: f.cvssScore !== null ? { score_v3: f.cvssScore, vector_v3: f.cvssVector } : undefined,
      cwe_ids: [],
      vendor_attributes: { ecosystem: f.ecosystem, path: f.path, aliases: f.aliases, allowlisted: allowed(f) },
    })),
  };
}

export const SEVERITY_NAMES = SEVERITIES;
