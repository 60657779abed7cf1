/** Storage ports of the scanning capability. Implemented by storage/meta/kysely/scanning.repo.ts. */
import type { Advisory, Affected, AdvisorySource } from './advisories.js';
import type { Severity } from './cvss.js';
import type { Inventory } from './detect.js';

export type ScanStatus = 'Scanning' | 'Success' | 'Error' | 'Stopped';

/** One vulnerability in one package, as the report lists it. */
export interface Finding {
  id: string;
  aliases: string[];
  package: string;
  version: string;
  /** empty when no fixed version is known */
  fixVersion: string;
  severity: Severity;
  description: string;
  links: string[];
  cvssScore: number | null;
  cvssVector: string | null;
  ecosystem: string;
  /** the binary package when the advisory names its source package */
  binary?: string;
  path: string;
}

export interface ScanReport {
  repository: string;
  digest: string;
  status: ScanStatus;
  jobId: string | null;
  startedAt: number;
  endedAt: number | null;
  /** why it failed (Error) or who stopped it */
  message: string | null;
  /** kept so a rescan after new vulnerability data only matches again */
  inventory: Inventory | null;
  findings: Finding[] | null;
  /** the vulnerability data's stamp the findings were matched against */
  dbStamp: string | null;
}

export interface ScanSettings {
  autoScan: boolean;
  /** pulls of artifacts with a non-allowed vulnerability of this severity or worse are refused; null: never */
  preventSeverity: Severity | null;
  /** pulls of artifacts not scanned (successfully) yet, while preventSeverity is set: allowed, or refused */
  unscanned: 'allow' | 'refuse';
  /** the registry's own CVE allow list, which replaces the common one when `useOwnAllowlist` */
  useOwnAllowlist: boolean;
  allowlist: string[];
  /** epoch ms after which the allow list no longer applies; null: never expires */
  allowlistExpiresAt: number | null;
}
export const DEFAULT_SETTINGS: ScanSettings = { autoScan: false, preventSeverity: null, unscanned: 'allow', useOwnAllowlist: false, allowlist: [], allowlistExpiresAt: null };

export interface VulnDbSource {
  source: AdvisorySource;
  advisories: number;
  importedAt: number;
}

export interface AffectedRow {
  source: AdvisorySource;
  advisoryId: string;
  affected: Affected;
}

export interface ScanStore {
  report(repository: string, digest: string): Promise<ScanReport | undefined>;
  /** The reports of these artifacts (absent ones: not scanned). */
  reports(repository: string, digests: string[]): Promise<ScanReport[]>;
  /** Every stored report with a package inventory (rescans after an import). */
  scannedArtifacts(): Promise<{ repository: string; digest: string }[]>;
  putReport(r: ScanReport): Promise<void>;
  deleteReport(repository: string, digest: string): Promise<void>;
  deleteReports(repositoryPrefix: string): Promise<void>;

  /** The settings of a registry id, or of '*' (the common allow list); undefined when never set. */
  settings(scope: string): Promise<ScanSettings | undefined>;
  putSettings(scope: string, s: ScanSettings, now: number): Promise<void>;
  /** Registry names with auto scan on. */
  autoScanRegistries(): Promise<string[]>;

  /** Content digests of stored advisories of `source` among `ids`. */
  advisoryDigests(source: AdvisorySource, ids: string[]): Promise<Map<string, string>>;
  /** Inserts or replaces advisories (their affected packages with them). */
  putAdvisories(list: Advisory[], now: number): Promise<void>;
  /** The affected entries naming one of `packages` in `ecosystem`. */
  affected(ecosystem: string, packages: string[]): Promise<AffectedRow[]>;
  advisories(keys: { source: AdvisorySource; id: string }[]): Promise<Omit<Advisory, 'affected'>[]>;
  sources(): Promise<VulnDbSource[]>;
  /** Records an import of `source` now, with the number of its advisories stored. */
  putSource(source: AdvisorySource, importedAt: number): Promise<void>;
}

/** The subject of the short-lived pull tokens ncr hands an external scanner (prevent pull does not apply to it). */
export const SCANNER_SUBJECT = 'service:scanner';

/**
 * A scanner outside ncr (Harbor's Pluggable Scanner API v1.1): it pulls the image from ncr itself and reports its
 * vulnerabilities. Implemented by outbound/harbor-scanner.ts.
 */
export interface ExternalScanner {
  /** The image's findings. NcrError UNAVAILABLE when the scanner cannot be reached, fails or takes too long; aborts with the signal. */
  scan(a: { repository: string; digest: string; mediaType: string }, signal: AbortSignal): Promise<{ scanner: { name: string; vendor: string; version: string }; findings: Finding[] }>;
}

/** What scanning reads of the registry core (wired in app.ts). */
export interface ImageReads {
  /** The stored manifest, or undefined. */
  manifest(repository: string, digest: string): Promise<{ content: Uint8Array; mediaType: string } | undefined>;
  /** A blob's bytes as a stream of chunks the reader may keep. */
  blob(repository: string, digest: string): AsyncIterable<Uint8Array>;
}
