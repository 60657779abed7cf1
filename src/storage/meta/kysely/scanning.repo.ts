/** Scan reports, scan settings and the imported vulnerability data of the scanning capability (domain/scanning). */
import type { Advisory, AdvisorySource } from '../../../domain/scanning/advisories.js';
import type { Severity } from '../../../domain/scanning/cvss.js';
import { DEFAULT_SETTINGS, type AffectedRow, type ScanReport, type ScanSettings, type ScanStatus, type ScanStore } from '../../../domain/scanning/ports.js';
import type { ScanReportsTable } from './schema.js';
import { fromJson, toJson, withTx, type Db } from './util.js';

const CHUNK = 400;
const chunks = <T>(xs: T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

const toReport = (r: ScanReportsTable): ScanReport => ({
  repository: r.repository,
  digest: r.digest,
  status: r.status as ScanStatus,
  jobId: r.job_id,
  startedAt: Number(r.started_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
  message: r.message,
  inventory: fromJson(r.inventory),
  findings: fromJson(r.findings),
  dbStamp: r.db_stamp,
});

export class KyselyScanStore implements ScanStore {
  constructor(private readonly db: Db) {}

  async report(repository: string, digest: string) {
    const r = await this.db.selectFrom('scan_reports').selectAll().where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return r && toReport(r);
  }

  async reports(repository: string, digests: string[]) {
    const out: ScanReport[] = [];
    for (const part of chunks(digests)) {
      if (!part.length) continue;
      // the column list leaves out the (large) package list
      const rows = await this.db.selectFrom('scan_reports').selectAll().where('repository', '=', repository).where('digest', 'in', part).execute();
      out.push(...rows.map((r) => ({ ...toReport({ ...r, inventory: null }) })));
    }
    return out;
  }

  async scannedArtifacts() {
    return this.db.selectFrom('scan_reports').select(['repository', 'digest']).where('status', '=', 'Success').where('inventory', 'is not', null).orderBy('repository').orderBy('digest').execute();
  }

  async putReport(r: ScanReport) {
    const row = {
      status: r.status,
      job_id: r.jobId,
      started_at: r.startedAt,
      ended_at: r.endedAt,
      message: r.message,
      inventory: r.inventory ? toJson(r.inventory) : null,
      findings: r.findings ? toJson(r.findings) : null,
      db_stamp: r.dbStamp,
    };
    await this.db
      .insertInto('scan_reports')
      .values({ repository: r.repository, digest: r.digest, ...row })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doUpdateSet(row))
      .execute();
  }

  async deleteReport(repository: string, digest: string) {
    await this.db.deleteFrom('scan_reports').where('repository', '=', repository).where('digest', '=', digest).execute();
  }

  async deleteReports(prefix: string) {
    // "<repo>@" stands for every artifact of the repository, "<registry>/" for every repository of the registry
    if (prefix.endsWith('@')) await this.db.deleteFrom('scan_reports').where('repository', '=', prefix.slice(0, -1)).execute();
    else await this.db.deleteFrom('scan_reports').where('repository', '>=', prefix).where('repository', '<', `${prefix.slice(0, -1)}0`).execute();
  }

  async settings(scope: string) {
    const r = await this.db.selectFrom('scan_settings').select('settings').where('scope', '=', scope).executeTakeFirst();
    return r ? { ...DEFAULT_SETTINGS, ...fromJson<Partial<ScanSettings>>(r.settings) } : undefined;
  }

  async putSettings(scope: string, s: ScanSettings, now: number) {
    const row = { settings: toJson(s), auto_scan: s.autoScan ? 1 : 0, updated_at: now };
    await this.db.insertInto('scan_settings').values({ scope, ...row }).onConflict((oc) => oc.column('scope').doUpdateSet(row)).execute();
  }

  async autoScanRegistries() {
    const rows = await this.db.selectFrom('scan_settings').innerJoin('registries', 'registries.id', 'scan_settings.scope').select('registries.name').where('scan_settings.auto_scan', '=', 1).execute();
    return rows.map((r) => r.name);
  }

  async advisoryDigests(source: AdvisorySource, ids: string[]) {
    const out = new Map<string, string>();
    for (const part of chunks(ids)) {
      if (!part.length) continue;
      for (const r of await this.db.selectFrom('vuln_advisories').select(['id', 'digest']).where('source', '=', source).where('id', 'in', part).execute()) out.set(r.id, r.digest);
    }
    return out;
  }

  async putAdvisories(list: Advisory[], now: number) {
    await withTx(this.db, async (tx) => {
      for (const part of chunks(list)) {
        const ids = part.map((a) => a.id);
        const source = part[0]!.source;
        await tx.deleteFrom('vuln_affected').where('source', '=', source).where('advisory_id', 'in', ids).execute();
        await tx.deleteFrom('vuln_advisories').where('source', '=', source).where('id', 'in', ids).execute();
        await tx
          .insertInto('vuln_advisories')
          .values(
            part.map((a) => ({
              source: a.source,
              id: a.id,
              aliases: toJson(a.aliases),
              summary: a.summary,
              details: a.details,
              severity: a.severity,
              cvss_score10: a.cvssScore === null ? null : Math.round(a.cvssScore * 10),
              cvss_vector: a.cvssVector,
              links: toJson(a.links),
              modified: a.modified,
              digest: a.digest,
              imported_at: now,
            })),
          )
          .execute();
        const affected = part.flatMap((a) => a.affected.map((x, n) => ({ source: a.source, advisory_id: a.id, n, ecosystem: x.ecosystem, package: x.package, ranges: toJson(x.ranges), versions: toJson(x.versions) })));
        for (const rows of chunks(affected)) if (rows.length) await tx.insertInto('vuln_affected').values(rows).execute();
      }
    });
  }

  async affected(ecosystem: string, packages: string[]) {
    const out: AffectedRow[] = [];
    for (const part of chunks(packages)) {
      if (!part.length) continue;
      const rows = await this.db.selectFrom('vuln_affected').selectAll().where('ecosystem', '=', ecosystem).where('package', 'in', part).execute();
      for (const r of rows) out.push({ source: r.source as AdvisorySource, advisoryId: r.advisory_id, affected: { ecosystem: r.ecosystem, package: r.package, ranges: fromJson(r.ranges), versions: fromJson(r.versions) } });
    }
    return out;
  }

  async advisories(keys: { source: AdvisorySource; id: string }[]) {
    const out: Omit<Advisory, 'affected'>[] = [];
    const bySource = new Map<string, string[]>();
    for (const k of keys) bySource.set(k.source, [...(bySource.get(k.source) ?? []), k.id]);
    for (const [source, ids] of bySource) {
      for (const part of chunks([...new Set(ids)])) {
        const rows = await this.db.selectFrom('vuln_advisories').selectAll().where('source', '=', source).where('id', 'in', part).execute();
        for (const r of rows)
          out.push({
            source: r.source as AdvisorySource,
            id: r.id,
            aliases: fromJson(r.aliases),
            summary: r.summary,
            details: r.details,
            severity: r.severity as Severity,
            cvssScore: r.cvss_score10 === null ? null : Number(r.cvss_score10) / 10,
            cvssVector: r.cvss_vector,
            links: fromJson(r.links),
            modified: r.modified,
            digest: r.digest,
          });
      }
    }
    return out;
  }

  async sources() {
    const rows = await this.db.selectFrom('vuln_sources').selectAll().orderBy('source').execute();
    return rows.map((r) => ({ source: r.source as AdvisorySource, advisories: Number(r.advisories), importedAt: Number(r.imported_at) }));
  }

  async putSource(source: AdvisorySource, importedAt: number) {
    const { n } = await this.db.selectFrom('vuln_advisories').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', source).executeTakeFirstOrThrow();
    const row = { advisories: Number(n), imported_at: importedAt };
    await this.db.insertInto('vuln_sources').values({ source, ...row }).onConflict((oc) => oc.column('source').doUpdateSet(row)).execute();
  }
}
