/**
 * An external scanner through Harbor's Pluggable Scanner API v1.1 (goharbor/pluggable-scanner-spec): GET /metadata
 * for what it consumes and produces, POST /scan with the registry (its URL and an Authorization value: ncr's
 * short-lived pull token for that one repository) and the artifact (repository, digest, mime type) → 202 {id}, then
 * GET /scan/{id}/report until it is ready (302 with Refresh-After or Retry-After while the adapter works, 200 with the
 * report). The report's vulnerabilities become ncr's findings (Harbor's severity names; fixable when a fix version is
 * given). A Trivy adapter (harbor-scanner-trivy) is the usual one.
 */
import { NcrError } from '../oci/errors.js';
import type { Severity } from '../domain/scanning/cvss.js';
import type { ExternalScanner, Finding } from '../domain/scanning/ports.js';

export const SCAN_REQUEST_MIME = 'application/vnd.scanner.adapter.scan.request+json; version=1.0';
/** The report kinds ncr reads, most preferred first (Harbor's own, then the adapter API's). */
export const REPORT_MIMES = [
  'application/vnd.security.vulnerability.report; version=1.1',
  'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.1',
  'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
];

export interface HarborScannerOptions {
  /** the adapter's API base, e.g. http://trivy-adapter:8080/api/v1 */
  url: string;
  /** the Authorization header value ncr sends to the adapter */
  authorization?: string;
  /** the address the adapter pulls from (ncr's /v2 base) */
  registryUrl: () => string;
  /** the Authorization value the adapter pulls `repository` with */
  pullAuthorization: (repository: string) => Promise<string>;
  /** a scan not reported on after this long fails */
  timeoutMs: number;
  /** one request to the adapter gets this long */
  requestTimeoutMs?: number;
}

type Json = Record<string, any>;

const SEVERITY: Record<string, Severity> = { unknown: 'Unknown', negligible: 'Negligible', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical', none: 'None' };

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

/** A Harbor vulnerability report's items as ncr's findings. */
export function findingsOf(report: Json, scannerName: string): Finding[] {
  const vulns: Json[] = Array.isArray(report?.vulnerabilities) ? report.vulnerabilities : [];
  return vulns
    .filter((v) => typeof v?.id === 'string' && typeof v?.package === 'string')
    .map((v) => {
      const cvss = v.preferred_cvss ?? {};
      return {
        id: v.id,
        aliases: [],
        package: v.package,
        version: String(v.version ?? ''),
        fixVersion: String(v.fix_version ?? ''),
        severity: SEVERITY[String(v.severity ?? '').toLowerCase()] ?? 'Unknown',
        description: String(v.description ?? ''),
        links: Array.isArray(v.links) ? v.links.filter((l: unknown): l is string => typeof l === 'string') : [],
        cvssScore: num(cvss.score_v3 ?? v.cvss3_score ?? v.cve3_score),
        cvssVector: typeof (cvss.vector_v3 ?? v.cvss3_vector) === 'string' ? (cvss.vector_v3 ?? v.cvss3_vector) : null,
        ecosystem: scannerName,
        path: '',
      } satisfies Finding;
    });
}

export class HarborScanner implements ExternalScanner {
  private readonly base: string;

  constructor(private readonly o: HarborScannerOptions) {
    this.base = o.url.replace(/\/+$/, '');
  }

  private async call(path: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.o.authorization) headers.set('authorization', this.o.authorization);
    try {
      return await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.requestTimeoutMs ?? 30_000)]) });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new NcrError('UNAVAILABLE', `the scanner adapter at ${this.base} cannot be reached (${init.method ?? 'GET'} ${path}): ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
    }
  }

  private async failure(res: Response, what: string): Promise<NcrError> {
    const text = await res.text().catch(() => '');
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as Json)?.error?.message ?? message;
    } catch {
      /* not JSON: the text */
    }
    return new NcrError('UNAVAILABLE', `the scanner adapter at ${this.base} failed to ${what}: HTTP ${res.status}${message ? `: ${message}` : ''}`);
  }

  /** The adapter's metadata: its scanner and what it consumes and produces. */
  async metadata(signal: AbortSignal = new AbortController().signal): Promise<{ scanner: { name: string; vendor: string; version: string }; capabilities: { consumes_mime_types: string[]; produces_mime_types: string[] }[] }> {
    const res = await this.call('/metadata', { headers: { accept: 'application/vnd.scanner.adapter.metadata+json; version=1.0, application/json' } }, signal);
    if (res.status !== 200) throw await this.failure(res, 'give its metadata');
    const m = (await res.json()) as Json;
    return {
      scanner: { name: String(m?.scanner?.name ?? 'external'), vendor: String(m?.scanner?.vendor ?? ''), version: String(m?.scanner?.version ?? '') },
      capabilities: Array.isArray(m?.capabilities) ? m.capabilities : [],
    };
  }

  async scan(a: { repository: string; digest: string; mediaType: string }, signal: AbortSignal) {
    const deadline = Date.now() + this.o.timeoutMs;
    const meta = await this.metadata(signal);
    const cap = meta.capabilities.find((c) => c.consumes_mime_types?.includes(a.mediaType) && REPORT_MIMES.some((r) => c.produces_mime_types?.includes(r)));
    if (!cap) {
      throw new NcrError('VALIDATION_FAILED', `the scanner ${meta.scanner.name} cannot scan ${a.mediaType} into a vulnerability report ncr reads (${REPORT_MIMES.join(', ')})`);
    }
    const accept = REPORT_MIMES.find((r) => cap.produces_mime_types.includes(r))!;
    const body = { registry: { url: this.o.registryUrl(), authorization: await this.o.pullAuthorization(a.repository) }, artifact: { repository: a.repository, digest: a.digest, mime_type: a.mediaType } };
    const accepted = await this.call('/scan', { method: 'POST', headers: { 'content-type': SCAN_REQUEST_MIME, accept: 'application/vnd.scanner.adapter.scan.response+json; version=1.0, application/json' }, body: JSON.stringify(body) }, signal);
    if (accepted.status !== 202 && accepted.status !== 200) throw await this.failure(accepted, `accept the scan of ${a.repository}@${a.digest}`);
    const id = ((await accepted.json()) as Json)?.id;
    if (typeof id !== 'string' || !id) throw new NcrError('UNAVAILABLE', `the scanner adapter at ${this.base} accepted the scan of ${a.repository}@${a.digest} without an id`);
    for (;;) {
      const res = await this.call(`/scan/${encodeURIComponent(id)}/report`, { headers: { accept } }, signal);
      if (res.status === 200) {
        const report = (await res.json()) as Json;
        return { scanner: meta.scanner, findings: findingsOf(report, meta.scanner.name) };
      }
      if (res.status !== 302) throw await this.failure(res, `report on the scan of ${a.repository}@${a.digest} (request ${id})`);
      await res.body?.cancel();
      const after = num(res.headers.get('refresh-after') ?? res.headers.get('retry-after')) ?? 1;
      const waitMs = Math.min(Math.max(after * 1000, 50), 60_000);
      if (Date.now() + waitMs > deadline) throw new NcrError('UNAVAILABLE', `the scanner adapter at ${this.base} has not finished scanning ${a.repository}@${a.digest} after ${Math.round(this.o.timeoutMs / 1000)} s (request ${id})`);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, waitMs);
        signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
      });
    }
  }
}
