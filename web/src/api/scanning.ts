/** Vulnerability scanning: scan status per artifact, scan and stop, the report, scan settings, allow lists, schedule. */
import { useQuery } from '@tanstack/react-query';
import { api, seg } from './client';
import type { ImageRef } from './images';
import { useApiMutation } from './mutation';

export type Severity = 'None' | 'Unknown' | 'Negligible' | 'Low' | 'Medium' | 'High' | 'Critical';
export const SEVERITIES: Severity[] = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown', 'None'];
export const SEVERITY_COLOR: Record<Severity, string> = { Critical: 'grape', High: 'red', Medium: 'orange', Low: 'yellow', Negligible: 'gray', Unknown: 'gray', None: 'teal' };

export interface ScanOverview {
  status: 'Not Scanned' | 'Scanning' | 'Stopped' | 'Error' | 'Success';
  severity: Severity | null;
  total: number;
  fixable: number;
  summary: Partial<Record<Severity, number>>;
  message: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface Vulnerability {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  preferred_cvss?: { score_v3: number; vector_v3: string };
  vendor_attributes: { ecosystem: string; path: string; aliases: string[]; allowlisted: boolean };
}
export const REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

export interface ScanSettings {
  autoScan: boolean;
  preventSeverity: Severity | null;
  unscanned: 'allow' | 'refuse';
  useOwnAllowlist: boolean;
  allowlist: string[];
  allowlistExpiresAt: string | null;
}

const artifactBase = (r: ImageRef, digest: string) => `/registries/${seg(r.registry)}/images/${seg(r.image)}/artifacts/${seg(digest)}/scan`;

/** The Vulnerability column: polled while a scan is in progress. */
export function useScanOverviews(r: ImageRef, digests: string[]) {
  return useQuery({
    queryKey: ['scans', r.registry, r.image, digests],
    enabled: digests.length > 0,
    queryFn: async () => {
      const qs = digests.map((d) => `digest=${encodeURIComponent(d)}`).join('&');
      const res = await api<{ items: (ScanOverview & { digest: string })[] }>('GET', `/registries/${seg(r.registry)}/images/${seg(r.image)}/scans?${qs}`);
      return new Map(res.items.map((i) => [i.digest, i]));
    },
    refetchInterval: (q) => ([...(q.state.data?.values() ?? [])].some((o) => o.status === 'Scanning') ? 1500 : false),
  });
}

export function useScanOverview(r: ImageRef, digest: string) {
  return useQuery({
    queryKey: ['scan', r.registry, r.image, digest],
    queryFn: () => api<ScanOverview>('GET', artifactBase(r, digest)),
    refetchInterval: (q) => (q.state.data?.status === 'Scanning' ? 1500 : false),
  });
}

export function useScanReport(r: ImageRef, digest: string, enabled: boolean) {
  return useQuery({
    queryKey: ['scan-report', r.registry, r.image, digest],
    enabled,
    queryFn: async () => (await api<Record<string, { vulnerabilities: Vulnerability[]; severity: Severity; generated_at: string }>>('GET', `${artifactBase(r, digest)}/report`))[REPORT_MIME]!,
  });
}

export function useStartScan(r: ImageRef) {
  return useApiMutation<string, ScanOverview>({
    fn: (digest) => api<ScanOverview>('POST', artifactBase(r, digest)),
    invalidate: [['scans', r.registry, r.image], ['scan', r.registry, r.image], ['scan-report', r.registry, r.image]],
    success: () => 'Scanning started.',
    notifyError: true,
  });
}

export function useStopScan(r: ImageRef) {
  return useApiMutation<string, ScanOverview>({
    fn: (digest) => api<ScanOverview>('POST', `${artifactBase(r, digest)}/stop`),
    invalidate: [['scans', r.registry, r.image], ['scan', r.registry, r.image]],
    success: () => 'Scanning stopped.',
    notifyError: true,
  });
}

export function useScanSettings(registry: string) {
  return useQuery({ queryKey: ['scan-settings', registry], queryFn: () => api<ScanSettings>('GET', `/registries/${seg(registry)}/scan/settings`) });
}

export function useSetScanSettings(registry: string) {
  return useApiMutation<Partial<Omit<ScanSettings, 'allowlist'>> & { allowlist?: string | string[] }, ScanSettings>({
    fn: (body) => api<ScanSettings>('PUT', `/registries/${seg(registry)}/scan/settings`, body),
    invalidate: [['scan-settings', registry]],
    success: () => 'Image scan settings saved.',
  });
}

export function useCommonAllowlist() {
  return useQuery({ queryKey: ['scan-allowlist'], queryFn: () => api<{ allowlist: string[]; expiresAt: string | null }>('GET', '/scan/allowlist') });
}

export function useSetCommonAllowlist() {
  return useApiMutation<{ allowlist: string; expiresAt: string | null }, { allowlist: string[] }>({
    fn: (body) => api('PUT', '/scan/allowlist', body),
    invalidate: [['scan-allowlist']],
    success: (r) => `Common CVE allow list saved (${r.allowlist.length} CVE${r.allowlist.length === 1 ? '' : 's'}).`,
  });
}

export type ScanCycle = 'None' | 'Hourly' | 'Daily' | 'Weekly' | 'Custom';
export function useScanSchedule() {
  return useQuery({ queryKey: ['scan-schedule'], queryFn: () => api<{ cycle: ScanCycle; cron: string | null; nextAt: string | null }>('GET', '/scan/schedule') });
}

export function useSetScanSchedule() {
  return useApiMutation<{ cycle: ScanCycle; cron?: string | null }, { cycle: ScanCycle; nextAt: string | null }>({
    fn: (body) => api('PUT', '/scan/schedule', body),
    invalidate: [['scan-schedule']],
    success: (r) => (r.cycle === 'None' ? 'Auto scan is off.' : `Auto scan: ${r.cycle}.`),
  });
}

export function useVulnDb() {
  return useQuery({ queryKey: ['vulndb'], queryFn: () => api<{ stamp: string | null; sources: { source: string; advisories: number; importedAt: string; ageSeconds: number }[] }>('GET', '/vulndb') });
}
