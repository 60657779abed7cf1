/**
 * Vulnerability scanning in the registry (the guide's "Image Vulnerability Scanning"): scan an artifact or stop its
 * scan, each scan one job (`scan.artifact`, bounded concurrency); auto scan on push; the service-wide schedule;
 * per-registry settings and CVE allow lists; the pull guard that refuses vulnerable images; the offline
 * vulnerability data (import, age, and a cheap rematch of every kept package list after an import).
 */
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor, DomainEvent } from '../events.js';
import type { JobStore, Schedule, ScheduleStore } from '../queue/ports.js';
import { nextCronTime, parseCron } from '../queue/cron.js';
import type { JobQueue } from '../queue/queue.js';
import type { PullGuard, Registry } from '../registry/ports.js';
import type { UnitOfWork } from '../uow.js';
import type { Advisory, AdvisorySource } from './advisories.js';
import { SEVERITIES, severityRank } from './cvss.js';
import { DEFAULT_SETTINGS, SCANNER_SUBJECT, type ExternalScanner, type Finding, type ScanReport, type ScanSettings, type ScanStore, type VulnDbSource } from './ports.js';
import { overviewOf, type ScanOverview } from './report.js';
import type { Scanner } from './scanner.js';

export const SCAN_JOB = 'scan.artifact';
export const SCAN_ALL_JOB = 'scan.all';
export const RESCAN_JOB = 'scan.rematch';
export const SCAN_SCHEDULE = 'scan-all';
const SYSTEM: Actor = { userId: null, username: 'system' };

export type ScanCycle = 'None' | 'Hourly' | 'Daily' | 'Weekly' | 'Custom';
/** The guide's cycles, in UTC: Hourly at minute 0, Daily at 00:00, Weekly on Saturday at 00:00. */
export const CYCLE_CRON: Record<Exclude<ScanCycle, 'None' | 'Custom'>, string> = { Hourly: '0 * * * *', Daily: '0 0 * * *', Weekly: '0 0 * * 6' };

export type ScanStores = { scan: ScanStore; jobs: JobStore; schedules: ScheduleStore };

/** CVE IDs from text separated by commas or line breaks (the guide's allow list input), upper-cased, deduplicated. */
export function parseCveList(input: string | string[]): string[] {
  const parts = (Array.isArray(input) ? input : [input]).flatMap((s) => s.split(/[,\n\r]+/)).map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const p of parts) if (!/^(CVE-\d{4}-\d{4,}|[A-Z]+-[A-Z0-9-]+)$/.test(p)) throw new NcrError('VALIDATION_FAILED', `"${p}" is not a CVE ID (like CVE-2023-4911)`);
  return [...new Set(parts)];
}

export class ScanService {
  private readonly settingsCache = new LRUCache<string, ScanSettings>({ max: 10_000, ttl: 5_000 });

  constructor(
    private readonly store: ScanStore,
    private readonly uow: UnitOfWork<ScanStores>,
    private readonly queue: JobQueue,
    private readonly scanner: Scanner,
    private readonly registry: (name: string) => Promise<Registry>,
    private readonly artifactExists: (repository: string, digest: string) => Promise<boolean>,
    private readonly clock: Clock,
    /** scans go to it instead of the built-in scanner (config scanning.adapter) */
    private readonly external?: ExternalScanner,
  ) {}

  // --- scans -------------------------------------------------------------------------------------------------------

  /** Starts a scan (CONFLICT while one is in progress; the guide: a scan can start whenever the status is not Scanning). */
  async scan(repository: string, digest: string, actor: Actor): Promise<ScanOverview> {
    const registry = repository.slice(0, repository.indexOf('/'));
    requireActor(actor, 'scan:run', { registry, repository });
    if (!(await this.artifactExists(repository, digest))) throw new NcrError('NOT_FOUND', `${repository}@${digest} does not exist`);
    const now = this.clock.now();
    const r = await this.uow.transaction(async (tx) => {
      await tx.lock(`scan:${repository}@${digest}`);
      const cur = await tx.scan.report(repository, digest);
      if (cur?.status === 'Scanning') throw new NcrError('CONFLICT', `${repository}@${digest} is being scanned already (since ${new Date(cur.startedAt).toISOString()}): wait for it, or stop it first`);
      const { job } = await tx.jobs.enqueue({ kind: SCAN_JOB, payload: { repository, digest }, maxAttempts: 2, singletonKey: `scan:${repository}@${digest}` }, now);
      const next: ScanReport = { repository, digest, status: 'Scanning', jobId: job.id, startedAt: now, endedAt: null, message: null, inventory: cur?.inventory ?? null, findings: null, dbStamp: null };
      await tx.scan.putReport(next);
      tx.publish({ type: 'ScanRequested', at: now, actor, repository, digest });
      return next;
    });
    this.queue.poke();
    return overviewOf(r);
  }

  /** Stops a scan in progress (CONFLICT when there is none): its status becomes Stopped at once. */
  async stop(repository: string, digest: string, actor: Actor): Promise<ScanOverview> {
    const registry = repository.slice(0, repository.indexOf('/'));
    requireActor(actor, 'scan:run', { registry, repository });
    const now = this.clock.now();
    const r = await this.uow.transaction(async (tx) => {
      await tx.lock(`scan:${repository}@${digest}`);
      const cur = await tx.scan.report(repository, digest);
      if (cur?.status !== 'Scanning') throw new NcrError('CONFLICT', `${repository}@${digest} is not being scanned (${cur ? cur.status : 'Not Scanned'}): there is nothing to stop`);
      const next: ScanReport = { ...cur, status: 'Stopped', endedAt: now, message: `stopped by ${actor.username ?? 'the system'}` };
      await tx.scan.putReport(next);
      if (cur.jobId) await tx.jobs.cancel(cur.jobId, now);
      tx.publish({ type: 'ScanStopRequested', at: now, actor, repository, digest });
      tx.publish({ type: 'ScanFinished', at: now, actor, repository, digest, status: 'Stopped', message: next.message! });
      return next;
    });
    return overviewOf(r);
  }

  /** The Vulnerability column of each artifact. */
  async overviews(repository: string, digests: string[]): Promise<Map<string, ScanOverview>> {
    const reports = new Map((await this.store.reports(repository, digests)).map((r) => [r.digest, r]));
    return new Map(digests.map((d) => [d, overviewOf(reports.get(d))]));
  }

  /** The report of the last scan, with each finding marked when the registry's allow list covers it. */
  async report(repository: string, digest: string, actor: Actor): Promise<{ overview: ScanOverview; report: ScanReport | undefined; allowed: (f: Finding) => boolean }> {
    const registry = repository.slice(0, repository.indexOf('/'));
    requireActor(actor, 'scan:view', { registry, repository });
    const report = await this.store.report(repository, digest);
    const allow = await this.allowlistOf(registry);
    return { overview: overviewOf(report), report, allowed: (f) => allow.has(f.id) || f.aliases.some((a) => allow.has(a)) };
  }

  /** The job: scans, then records Success or Error (unless the scan was stopped meanwhile). */
  async runScan(p: { repository: string; digest: string }, jobId: string, signal: AbortSignal): Promise<{ status: string }> {
    const cur = await this.store.report(p.repository, p.digest);
    if (!cur || cur.status !== 'Scanning' || cur.jobId !== jobId) return { status: 'skipped: not this scan' };
    let result: Pick<ScanReport, 'status' | 'message' | 'inventory' | 'findings' | 'dbStamp'>;
    try {
      if (this.external) {
        // the adapter pulls the image itself; there is no package list to keep, so no rematch after an import
        const { mediaType } = await this.scanner.image(p.repository, p.digest);
        const { findings } = await this.external.scan({ repository: p.repository, digest: p.digest, mediaType }, signal);
        findings.sort((x, y) => severityRank(y.severity) - severityRank(x.severity) || x.package.localeCompare(y.package) || x.id.localeCompare(y.id));
        result = { status: 'Success', message: null, inventory: null, findings, dbStamp: null };
      } else {
        const inventory = await this.scanner.inventory(p.repository, p.digest, signal);
        const findings = await this.scanner.match(inventory);
        result = { status: 'Success', message: null, inventory, findings, dbStamp: await this.dbStamp() };
      }
    } catch (err) {
      if (signal.aborted) return { status: 'stopped' };
      if (!(err instanceof NcrError)) throw err; // unexpected (database, storage): retried by the queue
      result = { status: 'Error', message: err.message, inventory: null, findings: null, dbStamp: null };
    }
    await this.finish(p.repository, p.digest, jobId, result);
    return { status: result.status };
  }

  /** Records a failed scan whose job gave up (its last attempt threw). */
  async failed(p: { repository: string; digest: string }, jobId: string, message: string): Promise<void> {
    await this.finish(p.repository, p.digest, jobId, { status: 'Error', message, inventory: null, findings: null, dbStamp: null });
  }

  private async finish(repository: string, digest: string, jobId: string, result: Pick<ScanReport, 'status' | 'message' | 'inventory' | 'findings' | 'dbStamp'>): Promise<void> {
    const now = this.clock.now();
    await this.uow.transaction(async (tx) => {
      await tx.lock(`scan:${repository}@${digest}`);
      const cur = await tx.scan.report(repository, digest);
      if (!cur || cur.status !== 'Scanning' || cur.jobId !== jobId) return; // stopped, or superseded
      const next: ScanReport = { ...cur, ...result, endedAt: now };
      await tx.scan.putReport(next);
      const o = overviewOf(next);
      tx.publish({
        type: 'ScanFinished',
        at: now,
        actor: SYSTEM,
        repository,
        digest,
        status: result.status as 'Success' | 'Error',
        ...(result.status === 'Success' ? { severity: o.severity!, total: o.total, fixable: o.fixable } : { message: result.message ?? '' }),
      });
    });
  }

  // --- settings and allow lists ------------------------------------------------------------------------------------

  async settings(registryName: string, actor: Actor): Promise<ScanSettings> {
    requireActor(actor, 'scan:view', { registry: registryName });
    const reg = await this.registry(registryName);
    return (await this.store.settings(reg.id)) ?? DEFAULT_SETTINGS;
  }

  async setSettings(registryName: string, patch: Partial<ScanSettings>, actor: Actor): Promise<ScanSettings> {
    requireActor(actor, 'scan:change', { registry: registryName });
    const reg = await this.registry(registryName);
    if (patch.preventSeverity != null && !SEVERITIES.includes(patch.preventSeverity)) throw new NcrError('VALIDATION_FAILED', `preventSeverity must be one of ${SEVERITIES.join(', ')} (or null)`);
    const allowlist = patch.allowlist === undefined ? undefined : parseCveList(patch.allowlist);
    const now = this.clock.now();
    const next = await this.uow.transaction(async (tx) => {
      const cur = (await tx.scan.settings(reg.id)) ?? DEFAULT_SETTINGS;
      const s: ScanSettings = { ...cur, ...patch, ...(allowlist ? { allowlist } : {}) };
      await tx.scan.putSettings(reg.id, s, now);
      tx.publish({ type: patch.allowlist !== undefined || patch.allowlistExpiresAt !== undefined || patch.useOwnAllowlist !== undefined ? 'CveAllowlistChanged' : 'ScanSettingsChanged', at: now, actor, registry: reg.name, id: reg.id, name: 'scan settings', detail: { ...s } });
      return s;
    });
    this.settingsCache.clear();
    return next;
  }

  /** The common CVE allow list (every registry without its own). */
  async commonAllowlist(actor: Actor): Promise<{ allowlist: string[]; expiresAt: number | null }> {
    requireActor(actor, 'scan:view');
    const s = (await this.store.settings('*')) ?? DEFAULT_SETTINGS;
    return { allowlist: s.allowlist, expiresAt: s.allowlistExpiresAt };
  }

  async setCommonAllowlist(input: { allowlist: string | string[]; expiresAt?: number | null }, actor: Actor): Promise<{ allowlist: string[]; expiresAt: number | null }> {
    requireActor(actor, 'scan:global');
    const allowlist = parseCveList(input.allowlist);
    const now = this.clock.now();
    await this.uow.transaction(async (tx) => {
      const s: ScanSettings = { ...DEFAULT_SETTINGS, allowlist, allowlistExpiresAt: input.expiresAt ?? null };
      await tx.scan.putSettings('*', s, now);
      tx.publish({ type: 'CveAllowlistChanged', at: now, actor, registry: '(global)', id: '*', name: 'common CVE allow list', detail: { allowlist, expiresAt: s.allowlistExpiresAt } });
    });
    this.settingsCache.clear();
    return { allowlist, expiresAt: input.expiresAt ?? null };
  }

  /** The allow list in force for a registry: its own when it has one, else the common one; an expired list is empty. */
  private async allowlistOf(registryName: string): Promise<Set<string>> {
    const own = await this.registrySettings(registryName);
    const s = own.useOwnAllowlist ? own : await this.cachedSettings('*');
    if (s.allowlistExpiresAt !== null && s.allowlistExpiresAt <= this.clock.now()) return new Set();
    return new Set(s.allowlist);
  }

  /** A registry's settings by its name (the pull path: no registry lookup while cached); defaults for an unknown one. */
  private async registrySettings(registryName: string): Promise<ScanSettings> {
    const key = `name:${registryName}`;
    const hit = this.settingsCache.get(key);
    if (hit) return hit;
    const reg = await this.registry(registryName).catch(() => undefined);
    const s = reg ? ((await this.store.settings(reg.id)) ?? DEFAULT_SETTINGS) : DEFAULT_SETTINGS;
    this.settingsCache.set(key, s);
    return s;
  }

  private async cachedSettings(scope: string): Promise<ScanSettings> {
    const hit = this.settingsCache.get(scope);
    if (hit) return hit;
    const s = (await this.store.settings(scope)) ?? DEFAULT_SETTINGS;
    this.settingsCache.set(scope, s);
    return s;
  }

  /** Drops cached settings (a change on any node). */
  forgetSettings(): void {
    this.settingsCache.clear();
  }

  // --- prevent pull ------------------------------------------------------------------------------------------------

  readonly pullGuard: PullGuard = {
    check: async (repository, digest, actor) => {
      // the external scanner pulls what it scans, vulnerable or not
      if (actor?.userId === SCANNER_SUBJECT) return;
      const registry = repository.slice(0, repository.indexOf('/'));
      const s = await this.registrySettings(registry);
      if (!s.preventSeverity) return;
      const report = await this.store.report(repository, digest);
      if (!report || report.status !== 'Success') {
        if (s.unscanned === 'allow') return;
        if (!(await this.scanner.isImage(repository, digest))) return;
        throw new NcrError('PULL_REFUSED', `registry ${registry} refuses pulls of images with ${s.preventSeverity} or worse vulnerabilities, and of images not scanned yet: ${repository}@${digest} is ${report ? report.status.toLowerCase() : 'not scanned'}; scan it (POST /api/v1/registries/${registry}/images/${repository.slice(registry.length + 1)}/artifacts/${digest}/scan) and pull again`, {
          detail: { preventSeverity: s.preventSeverity, status: report?.status ?? 'Not Scanned' },
        });
      }
      const allow = await this.allowlistOf(registry);
      const bad = (report.findings ?? []).filter((f) => severityRank(f.severity) >= severityRank(s.preventSeverity!) && !allow.has(f.id) && !f.aliases.some((a) => allow.has(a)));
      if (bad.length === 0) return;
      const worst = bad.reduce((w, f) => (severityRank(f.severity) > severityRank(w.severity) || (f.severity === w.severity && (f.cvssScore ?? 0) > (w.cvssScore ?? 0)) ? f : w));
      const ids = [...new Set(bad.map((f) => f.id))];
      throw new NcrError(
        'PULL_REFUSED',
        `registry ${registry} refuses pulls of images with ${s.preventSeverity} or worse vulnerabilities: ${repository}@${digest} has ${ids.length} (worst: ${worst.id}, ${worst.severity}, in ${worst.package} ${worst.version}${worst.fixVersion ? `, fixed in ${worst.fixVersion}` : ''}); fix them and push again, or add them to the registry's CVE allow list (Image Scan Settings) to allow the pull: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', ...' : ''}`,
        { detail: { preventSeverity: s.preventSeverity, count: ids.length, worst: worst.id, cves: ids } },
      );
    },
  };

  // --- schedule and auto scan --------------------------------------------------------------------------------------

  async schedule(actor: Actor): Promise<{ cycle: ScanCycle; cron: string | null; nextAt: number | null }> {
    requireActor(actor, 'scan:view');
    const s = await this.queue.getSchedule(SCAN_SCHEDULE);
    if (!s) return { cycle: 'None', cron: null, nextAt: null };
    const cycle = (Object.entries(CYCLE_CRON).find(([, c]) => c === s.cron)?.[0] ?? 'Custom') as ScanCycle;
    return { cycle, cron: s.cron, nextAt: s.nextAt };
  }

  /** Sets the service-wide schedule: a cycle of the guide, or Custom with a 5-field UTC cron. */
  async setSchedule(input: { cycle: ScanCycle; cron?: string | null }, actor: Actor): Promise<{ cycle: ScanCycle; cron: string | null; nextAt: number | null }> {
    requireActor(actor, 'scan:global');
    const now = this.clock.now();
    let next: Schedule | undefined;
    if (input.cycle !== 'None') {
      const raw = input.cycle === 'Custom' ? input.cron : CYCLE_CRON[input.cycle];
      if (!raw) throw new NcrError('VALIDATION_FAILED', input.cycle === 'Custom' ? 'a Custom cycle needs a cron expression (5 fields, UTC), e.g. "0 3 * * *"' : `cycle must be one of None, Hourly, Daily, Weekly, Custom`);
      const cron = parseCron(raw);
      const nextAt = nextCronTime(cron, now);
      if (nextAt === undefined) throw new NcrError('VALIDATION_FAILED', `cron "${raw}" never fires: pick a date that exists`);
      next = { name: SCAN_SCHEDULE, cron, kind: SCAN_ALL_JOB, payload: {}, enabled: true, nextAt, lastFiredAt: null };
    }
    await this.uow.transaction(async (tx) => {
      const prev = await tx.schedules.get(SCAN_SCHEDULE);
      if (next) await tx.schedules.put({ ...next, lastFiredAt: prev?.lastFiredAt ?? null });
      else if (!prev || !(await tx.schedules.delete(SCAN_SCHEDULE))) return;
      tx.publish({ type: 'ScanScheduleChanged', at: now, actor, registry: '(global)', id: SCAN_SCHEDULE, name: 'scan schedule', detail: { cycle: input.cycle, cron: next?.cron ?? null } });
    });
    return { cycle: input.cycle, cron: next?.cron ?? null, nextAt: next?.nextAt ?? null };
  }

  /** Starts a scan of every image artifact not being scanned (the schedule's job), as the system. */
  async scanAll(artifacts: AsyncIterable<{ repository: string; digest: string }>, signal: AbortSignal): Promise<{ started: number; skipped: number }> {
    let started = 0;
    let skipped = 0;
    for await (const a of artifacts) {
      if (signal.aborted) break;
      try {
        await this.scan(a.repository, a.digest, { ...SYSTEM, username: 'schedule' });
        started++;
      } catch (err) {
        if (!(err instanceof NcrError)) throw err;
        skipped++;
      }
    }
    return { started, skipped };
  }

  /** The durable subscriber: auto scan on push (registries with autoScan), and forgetting deleted artifacts' reports. */
  async onEvent(e: DomainEvent): Promise<void> {
    if (e.type === 'ArtifactPushed') {
      const registry = e.repository.slice(0, e.repository.indexOf('/'));
      const reg = await this.registry(registry).catch(() => undefined);
      if (!reg || !(await this.store.settings(reg.id))?.autoScan) return;
      if (!(await this.scanner.isImage(e.repository, e.digest))) return;
      await this.scan(e.repository, e.digest, { ...SYSTEM, username: 'auto scan' }).catch((err) => {
        if (!(err instanceof NcrError)) throw err; // already scanning, or deleted since: nothing to do
      });
    } else if (e.type === 'ArtifactDeleted') await this.store.deleteReport(e.repository, e.digest);
    else if (e.type === 'ImageDeleted') await this.store.deleteReports(`${e.repository}@`);
    else if (e.type === 'RegistryDeleted') await this.store.deleteReports(`${e.registry}/`);
  }

  // --- vulnerability data ------------------------------------------------------------------------------------------

  /** Imports advisories: only new or changed ones are written; then every kept package list is matched again. */
  async importAdvisories(source: AdvisorySource, advisories: Iterable<Advisory>, actor: Actor, label: string): Promise<{ source: AdvisorySource; read: number; written: number; unchanged: number }> {
    requireActor(actor, 'scan:global');
    const now = this.clock.now();
    let read = 0;
    let written = 0;
    let batch: Advisory[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const known = await this.store.advisoryDigests(source, batch.map((a) => a.id));
      const changed = batch.filter((a) => known.get(a.id) !== a.digest);
      if (changed.length) await this.store.putAdvisories(changed, now);
      written += changed.length;
      batch = [];
    };
    const seen = new Map<string, Advisory>();
    for (const a of advisories) {
      if (a.source !== source) continue;
      read++;
      seen.set(a.id, a); // the last record of an id wins (a zip may hold it twice)
      if (seen.size >= 500) {
        batch = [...seen.values()];
        seen.clear();
        await flush();
      }
    }
    batch = [...seen.values()];
    await flush();
    await this.uow.transaction(async (tx) => {
      await tx.scan.putSource(source, now);
      tx.publish({ type: 'VulnDbImported', at: now, actor, registry: '(global)', id: source, name: label, detail: { read, written, unchanged: read - written } });
      if (written > 0) await tx.jobs.enqueue({ kind: RESCAN_JOB, payload: {}, singletonKey: RESCAN_JOB }, now);
    });
    this.queue.poke();
    return { source, read, written, unchanged: read - written };
  }

  /** The imported data: per source, how many advisories and when it was last imported (its age). */
  async vulnDb(actor: Actor): Promise<{ sources: (VulnDbSource & { ageSeconds: number })[]; stamp: string | null }> {
    requireActor(actor, 'scan:view');
    const now = this.clock.now();
    const sources = (await this.store.sources()).map((s) => ({ ...s, ageSeconds: Math.max(0, Math.floor((now - s.importedAt) / 1000)) }));
    return { sources, stamp: await this.dbStamp() };
  }

  private async dbStamp(): Promise<string | null> {
    const s = await this.store.sources();
    return s.length ? s.map((x) => `${x.source}@${x.importedAt}`).sort().join(',') : null;
  }

  /** After an import: matches every kept package list again (no layer is read), publishing nothing. */
  async rematch(signal: AbortSignal): Promise<{ rematched: number }> {
    const stamp = await this.dbStamp();
    let n = 0;
    for (const a of await this.store.scannedArtifacts()) {
      if (signal.aborted) break;
      const r = await this.store.report(a.repository, a.digest);
      if (!r || r.status !== 'Success' || !r.inventory || r.dbStamp === stamp) continue;
      const findings = await this.scanner.match(r.inventory);
      await this.uow.transaction(async (tx) => {
        const cur = await tx.scan.report(a.repository, a.digest);
        if (cur?.status === 'Success' && cur.startedAt === r.startedAt) await tx.scan.putReport({ ...cur, findings, dbStamp: stamp });
      });
      n++;
    }
    return { rematched: n };
  }
}
