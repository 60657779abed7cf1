/**
 * Vulnerability scanning (the guide's "Image Vulnerability Scanning"): scan an artifact and stop it, its status and
 * report (Harbor's format), the Vulnerability column of an image's artifacts, scan settings per registry, the common
 * CVE allow list, the service-wide schedule, and the offline vulnerability data (its age, and uploading more).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NcrError } from '../../oci/errors.js';
import { parseVulnFile } from '../../domain/scanning/vulndb-files.js';
import { HARBOR_REPORT_MIME, harborReport, type ScanOverview } from '../../domain/scanning/report.js';
import type { ScanCycle } from '../../domain/scanning/service.js';
import type { ScanSettings } from '../../domain/scanning/ports.js';
import { SEVERITIES } from '../../domain/scanning/cvss.js';
import { actor, type ApiDeps, authorize, ErrorResponse, iso, withErrors } from './common.js';

const ArtifactParams = Type.Object({ registry: Type.String(), image: Type.String(), digest: Type.String() });
const ImageParams = Type.Object({ registry: Type.String(), image: Type.String() });
const RegParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }) });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const OverviewOut = Type.Object({
  status: Type.String({ description: 'Not Scanned, Scanning, Stopped, Error or Success' }),
  severity: Nullable(Type.String({ description: 'the worst severity found (Success); None when nothing was found' })),
  total: Type.Integer(),
  fixable: Type.Integer(),
  summary: Type.Record(Type.String(), Type.Integer()),
  message: Nullable(Type.String()),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  endedAt: Nullable(Type.String({ format: 'date-time' })),
});
const SeverityName = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
const SettingsOut = Type.Object({
  autoScan: Type.Boolean({ description: 'scan every image pushed to the registry' }),
  preventSeverity: Nullable(SeverityName),
  unscanned: Type.Union([Type.Literal('allow'), Type.Literal('refuse')], { description: 'while preventSeverity is set: pulls of images not scanned yet' }),
  useOwnAllowlist: Type.Boolean({ description: "use the registry's own CVE allow list instead of the common one" }),
  allowlist: Type.Array(Type.String()),
  allowlistExpiresAt: Nullable(Type.String({ format: 'date-time' })),
});
const SettingsIn = Type.Partial(
  Type.Object({
    autoScan: Type.Boolean(),
    preventSeverity: Nullable(SeverityName),
    unscanned: Type.Union([Type.Literal('allow'), Type.Literal('refuse')]),
    useOwnAllowlist: Type.Boolean(),
    allowlist: Type.Union([Type.String({ maxLength: 100_000, description: 'CVE IDs separated by commas or line breaks' }), Type.Array(Type.String(), { maxItems: 10_000 })]),
    allowlistExpiresAt: Nullable(Type.String({ format: 'date-time' })),
  }),
  { additionalProperties: false },
);
const AllowlistBody = Type.Object(
  { allowlist: Type.Union([Type.String({ maxLength: 100_000 }), Type.Array(Type.String(), { maxItems: 10_000 })]), expiresAt: Type.Optional(Nullable(Type.String({ format: 'date-time' }))) },
  { additionalProperties: false },
);
const ScheduleBody = Type.Object(
  { cycle: Type.Union(['None', 'Hourly', 'Daily', 'Weekly', 'Custom'].map((c) => Type.Literal(c))), cron: Type.Optional(Nullable(Type.String({ maxLength: 200 }))) },
  { additionalProperties: false },
);
const ScheduleOut = Type.Object({ cycle: Type.String(), cron: Nullable(Type.String()), nextAt: Nullable(Type.String({ format: 'date-time' })) });

const VulnDbOut = Type.Object({
  stamp: Nullable(Type.String({ description: 'identifies the data scans were matched against (changes with every import)' })),
  sources: Type.Array(
    Type.Object({
      source: Type.String({ description: 'osv or debian (the Debian security tracker)' }),
      advisories: Type.Integer({ description: 'advisories stored from this source' }),
      importedAt: Type.String({ format: 'date-time', description: 'the last import' }),
      ageSeconds: Type.Integer({ description: 'seconds since the last import' }),
    }),
  ),
});
const ImportOut = Type.Object({
  source: Type.String({ description: 'osv or debian, told by the content' }),
  read: Type.Integer({ description: 'advisories in the file' }),
  written: Type.Integer({ description: 'new or changed advisories stored' }),
  unchanged: Type.Integer({ description: 'advisories already stored as they are' }),
  skipped: Type.Integer({ description: 'records ncr cannot match (no affected package, withdrawn, GIT ranges only)' }),
});
const ScannerOut = Type.Object({ name: Type.String(), vendor: Type.String(), version: Type.String() });
const VulnerabilityOut = Type.Object({
  id: Type.String({ description: 'the CVE ID when there is one, else the advisory ID' }),
  package: Type.String(),
  version: Type.String({ description: 'the installed version' }),
  fix_version: Type.String({ description: 'empty when no fixed version is known (not fixable)' }),
  severity: SeverityName,
  description: Type.String(),
  links: Type.Array(Type.String()),
  preferred_cvss: Type.Optional(Type.Object({ score_v3: Type.Number(), vector_v3: Nullable(Type.String()) })),
  cwe_ids: Type.Array(Type.String()),
  vendor_attributes: Type.Object({
    ecosystem: Type.String({ description: 'e.g. Debian:12, npm, PyPI (the scanner name for an external scanner)' }),
    path: Type.String({ description: 'where the package was found in the image' }),
    aliases: Type.Array(Type.String()),
    allowlisted: Type.Boolean({ description: "the registry's CVE allow list (or the common one) covers it" }),
  }),
});
const ReportOut = Type.Object(
  {
    [HARBOR_REPORT_MIME]: Type.Object({
      generated_at: Type.String({ format: 'date-time' }),
      artifact: Type.Object({ repository: Type.String(), digest: Type.String(), mime_type: Type.String() }),
      scanner: ScannerOut,
      severity: SeverityName,
      vulnerabilities: Type.Array(VulnerabilityOut),
    }),
  },
  { description: `Harbor's vulnerabilities addition: the report keyed by its mime type (${HARBOR_REPORT_MIME})` },
);
const ScansOut = Type.Object({ items: Type.Array(Type.Composite([Type.Object({ digest: Type.String() }), OverviewOut])) });
const AllowlistOut = Type.Object({ allowlist: Type.Array(Type.String()), expiresAt: Nullable(Type.String({ format: 'date-time' })) });

const overviewView = (o: ScanOverview) => ({ ...o, startedAt: iso(o.startedAt) ?? null, endedAt: iso(o.endedAt) ?? null });
const settingsView = (s: ScanSettings) => ({ ...s, allowlistExpiresAt: iso(s.allowlistExpiresAt) ?? null });
const epoch = (s: string | null | undefined): number | null => {
  if (s === undefined || s === null) return null;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new NcrError('VALIDATION_FAILED', `"${s}" is not a date-time`);
  return t;
};

type P = { registry: string; image: string; digest: string };

export function scanningRoutes(app: FastifyInstance, deps: ApiDeps) {
  const { scans } = deps;
  if (!scans) return;
  const artifactOf = async (req: FastifyRequest) => {
    const { registry, image, digest } = req.params as P;
    const repo = await deps.registries.image(registry, image);
    await deps.registries.artifact(repo, digest);
    return { registry, repository: repo.name, digest };
  };

  app.get('/registries/:registry/images/:image/artifacts/:digest/scan', { schema: { tags: ['scanning'], summary: "An artifact's scan status (the Vulnerability column)", params: ArtifactParams, response: withErrors({ 200: OverviewOut }) } }, async (req) => {
    const { registry, image } = req.params as P;
    await authorize(deps, req, 'scan:view', { registry, repository: `${registry}/${image}` });
    const a = await artifactOf(req);
    return overviewView((await scans.overviews(a.repository, [a.digest])).get(a.digest)!);
  });
  app.post('/registries/:registry/images/:image/artifacts/:digest/scan', { schema: { tags: ['scanning'], summary: 'Scan an artifact (202; CONFLICT while it is being scanned)', params: ArtifactParams, response: withErrors({ 202: OverviewOut }) } }, async (req, reply) => {
    const { registry, image } = req.params as P;
    const p = await authorize(deps, req, 'scan:run', { registry, repository: `${registry}/${image}` });
    const a = await artifactOf(req);
    return reply.code(202).send(overviewView(await scans.scan(a.repository, a.digest, actor(req, p))));
  });
  app.post('/registries/:registry/images/:image/artifacts/:digest/scan/stop', { schema: { tags: ['scanning'], summary: 'Stop the scan in progress (CONFLICT when there is none)', params: ArtifactParams, response: withErrors({ 200: OverviewOut }) } }, async (req) => {
    const { registry, image } = req.params as P;
    const p = await authorize(deps, req, 'scan:run', { registry, repository: `${registry}/${image}` });
    const a = await artifactOf(req);
    return overviewView(await scans.stop(a.repository, a.digest, actor(req, p)));
  });
  app.get(
    '/registries/:registry/images/:image/artifacts/:digest/scan/report',
    { schema: { tags: ['scanning'], summary: `The last successful scan's report, keyed by its mime type (${HARBOR_REPORT_MIME}), as Harbor's vulnerabilities addition`, params: ArtifactParams, response: withErrors({ 200: ReportOut }) } },
    async (req) => {
      const { registry, image } = req.params as P;
      const p = await authorize(deps, req, 'scan:view', { registry, repository: `${registry}/${image}` });
      const a = await artifactOf(req);
      const { report, allowed } = await scans.report(a.repository, a.digest, actor(req, p));
      if (!report || report.status !== 'Success') throw new NcrError('NOT_FOUND', `${a.repository}@${a.digest} has no scan report (${report ? report.status : 'Not Scanned'}): scan it first`);
      const art = await deps.registries.artifact(await deps.registries.image(registry, image), a.digest);
      return { [HARBOR_REPORT_MIME]: harborReport(report, art.artifact.mediaType, { name: 'ncr', vendor: 'ncr', version: '1' }, allowed) };
    },
  );
  app.get(
    '/registries/:registry/images/:image/scans',
    { schema: { tags: ['scanning'], summary: "The scan status of the image's artifacts (the Vulnerability column); artifacts not listed are Not Scanned", params: ImageParams, querystring: Type.Object({ digest: Type.Optional(Type.Array(Type.String(), { maxItems: 500 })) }), response: withErrors({ 200: ScansOut }) } },
    async (req) => {
      const { registry, image } = req.params as P;
      await authorize(deps, req, 'scan:view', { registry, repository: `${registry}/${image}` });
      const repo = await deps.registries.image(registry, image);
      const digests = (req.query as { digest?: string[] }).digest ?? [];
      const overviews = await scans.overviews(repo.name, digests);
      return { items: [...overviews].map(([digest, o]) => ({ digest, ...overviewView(o) })) };
    },
  );

  app.get('/registries/:registry/scan/settings', { schema: { tags: ['scanning'], summary: "The registry's scan settings: auto scan on push, prevent pull, its CVE allow list", params: RegParams, response: withErrors({ 200: SettingsOut }) } }, async (req) => {
    const { registry } = req.params as P;
    const p = await authorize(deps, req, 'scan:view', { registry });
    return settingsView(await scans.settings(registry, actor(req, p)));
  });
  app.put('/registries/:registry/scan/settings', { schema: { tags: ['scanning'], summary: "Change the registry's scan settings (only the fields sent)", params: RegParams, body: SettingsIn, response: withErrors({ 200: SettingsOut }) } }, async (req) => {
    const { registry } = req.params as P;
    const p = await authorize(deps, req, 'scan:change', { registry });
    const b = req.body as Partial<Omit<ScanSettings, 'allowlistExpiresAt' | 'allowlist'>> & { allowlist?: string | string[]; allowlistExpiresAt?: string | null };
    const { allowlistExpiresAt, allowlist, ...rest } = b;
    const patch: Partial<ScanSettings> = { ...rest, ...(allowlistExpiresAt !== undefined ? { allowlistExpiresAt: epoch(allowlistExpiresAt) } : {}), ...(allowlist !== undefined ? { allowlist: allowlist as string[] } : {}) };
    return settingsView(await scans.setSettings(registry, patch, actor(req, p)));
  });

  app.get('/scan/allowlist', { schema: { tags: ['scanning'], summary: 'The common CVE allow list (used by every registry without its own)', response: withErrors({ 200: AllowlistOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'scan:view');
    const a = await scans.commonAllowlist(actor(req, p));
    return { allowlist: a.allowlist, expiresAt: iso(a.expiresAt) ?? null };
  });
  app.put('/scan/allowlist', { schema: { tags: ['scanning'], summary: 'Set the common CVE allow list (admins)', body: AllowlistBody, response: withErrors({ 200: AllowlistOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'scan:global');
    const b = req.body as { allowlist: string | string[]; expiresAt?: string | null };
    const a = await scans.setCommonAllowlist({ allowlist: b.allowlist, expiresAt: epoch(b.expiresAt) }, actor(req, p));
    return { allowlist: a.allowlist, expiresAt: iso(a.expiresAt) ?? null };
  });
  app.get('/scan/schedule', { schema: { tags: ['scanning'], summary: 'The service-wide scan schedule (Scan Settings, Auto Scan)', response: withErrors({ 200: ScheduleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'scan:view');
    const s = await scans.schedule(actor(req, p));
    return { ...s, nextAt: iso(s.nextAt) ?? null };
  });
  app.put('/scan/schedule', { schema: { tags: ['scanning'], summary: 'Set the service-wide scan schedule: None, Hourly, Daily (00:00 UTC), Weekly (Saturday 00:00 UTC) or Custom (cron, UTC)', body: ScheduleBody, response: withErrors({ 200: ScheduleOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'scan:global');
    const b = req.body as { cycle: ScanCycle; cron?: string | null };
    const s = await scans.setSchedule(b, actor(req, p));
    return { ...s, nextAt: iso(s.nextAt) ?? null };
  });

  app.get('/vulndb', { schema: { tags: ['scanning'], summary: 'The imported vulnerability data: advisories per source and their age', response: withErrors({ 200: VulnDbOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'scan:view');
    const v = await scans.vulnDb(actor(req, p));
    return { stamp: v.stamp, sources: v.sources.map((s) => ({ ...s, importedAt: iso(s.importedAt) })) };
  });
  // the body is the file itself: OSV JSON, a JSON array of OSV records, an OSV all.zip, or the Debian tracker's JSON
  app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    upload.post(
      '/vulndb/import',
      {
        bodyLimit: 1024 * 1024 * 1024,
        schema: { tags: ['scanning'], summary: "Import vulnerability data (admins): the request body is an OSV record, an array of them, an OSV all.zip, or the Debian security tracker's JSON; only new or changed advisories are written", querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 255 })) }), response: withErrors({ 200: ImportOut, 413: ErrorResponse }) },
      },
      async (req) => {
        const p = await authorize(deps, req, 'scan:global');
        const name = (req.query as { name?: string }).name ?? 'upload';
        const body = req.body as Buffer | undefined;
        if (!body || body.length === 0) throw new NcrError('VALIDATION_FAILED', 'the request body is empty: send the file');
        const parsed = await parseVulnFile(name, body);
        const r = await scans.importAdvisories(parsed.source, parsed.advisories, actor(req, p), name);
        return { ...r, skipped: parsed.skipped };
      },
    );
  });
}
