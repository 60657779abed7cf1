/**
 * Vulnerability scanning end to end on the shared server of each database: images built by the test and pushed over
 * /v2, OSV and Debian tracker data uploaded (single files and a zip; a second import writes nothing), scans through
 * the API, the exact findings (and what must not be found: whited-out packages, fixed versions, other releases),
 * the Vulnerability column, Harbor's report, prevent pull (412 naming the count and the worst CVE) and the CVE allow
 * lists (the registry's replaces the common one; an expired list allows nothing).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { ALPINE_LAYERS, DEBIAN_LAYERS, FIXTURES, osvUploads, pushLayers } from '../helpers/scan-images.js';
import { DB_KINDS } from '../helpers/server.js';
import { ownAdmin, sharedServer, unique, type SharedServer } from '../helpers/shared.js';

const REG = unique('scan');
const MIME = 'application/vnd.security.vulnerability.report; version=1.1';

describe.each(DB_KINDS)('vulnerability scanning (%s)', { timeout: 120_000 }, (db) => {
  let s: SharedServer & { username: string };
  let c: OciClient;
  const digests: Record<string, string> = {};

  const upload = (name: string, body: Buffer) =>
    fetch(`${s.url}/api/v1/vulndb/import?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64'), 'content-type': name.endsWith('.zip') ? 'application/zip' : 'application/json' },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  async function scanned(image: string, digest: string) {
    const path = `/api/v1/registries/${REG}/images/${image}/artifacts/${digest}/scan`;
    for (let i = 0; i < 300; i++) {
      const r = await s.api('GET', path);
      if (r.body.status !== 'Scanning') return r.body;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${image}@${digest} is still being scanned`);
  }
  const pull = (image: string, digest: string) => c.req('GET', `/v2/${REG}/${image}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });

  beforeAll(async () => {
    s = await ownAdmin(sharedServer(db), `scan-${db}`);
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: REG })).status).toBe(201);
    digests.debian = await pushLayers(c, `${REG}/debian`, '12', DEBIAN_LAYERS);
    digests.alpine = await pushLayers(c, `${REG}/alpine`, '3.17', ALPINE_LAYERS);
  });

  it('imports OSV records, an OSV zip and the Debian tracker; importing again writes nothing', async () => {
    const files = [...(await osvUploads()), { name: 'debian-tracker.json', body: await readFile(join(FIXTURES, 'debian-tracker.json')) }];
    let written = 0;
    for (const f of files) {
      const r = await upload(f.name, f.body);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      written += r.body.written;
    }
    expect(written).toBe(12); // 9 OSV records, 3 tracker CVEs
    for (const f of files) expect((await upload(f.name, f.body)).body).toMatchObject({ written: 0 });
    const info = await s.api('GET', '/api/v1/vulndb');
    expect(info.body.sources.map((x: { source: string; advisories: number }) => [x.source, x.advisories])).toEqual([
      ['debian', 3],
      ['osv', 9],
    ]);
    expect(info.body.sources[0].ageSeconds).toBeGreaterThanOrEqual(0);
    const bad = await upload('junk.json', Buffer.from('{"not":"advisories"}'));
    expect(bad.status).toBe(400);
  });

  it('a viewer may look but not scan or upload', async () => {
    const viewer = unique(`scanview-${db}`);
    expect((await s.api('POST', '/api/v1/users', { username: viewer, role: 'viewer', password: 'viewer-password-1' })).status).toBe(201);
    const key = (await s.api('POST', `/api/v1/users/${viewer}/access-keys`)).body;
    const creds = { accessKey: key.accessKey, secretKey: key.secretKey };
    expect((await s.api('GET', `/api/v1/registries/${REG}/images/debian/artifacts/${digests.debian}/scan`, undefined, creds)).body.status).toBe('Not Scanned');
    const denied = await s.api('POST', `/api/v1/registries/${REG}/images/debian/artifacts/${digests.debian}/scan`, undefined, creds);
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].message).toContain('scan:run');
  });

  it('scans the Debian-like image: exactly the expected findings, nothing whited out, nothing fixed', async () => {
    const started = await s.api('POST', `/api/v1/registries/${REG}/images/debian/artifacts/${digests.debian}/scan`);
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('Scanning');
    const o = await scanned('debian', digests.debian);
    expect(o).toMatchObject({ status: 'Success', severity: 'Critical', total: 5, fixable: 4, summary: { Critical: 1, High: 1, Medium: 1, Negligible: 1, Unknown: 1 } });
    const rep = await s.api('GET', `/api/v1/registries/${REG}/images/debian/artifacts/${digests.debian}/scan/report`);
    expect(rep.status).toBe(200);
    const report = rep.body[MIME];
    expect(report.artifact).toEqual({ repository: `${REG}/debian`, digest: digests.debian, mime_type: 'application/vnd.oci.image.manifest.v1+json' });
    expect(report.severity).toBe('Critical');
    const lines = report.vulnerabilities.map((v: any) => `${v.id} ${v.package} ${v.version} fix=${v.fix_version} ${v.severity}`).sort();
    expect(lines).toEqual([
      'CVE-2021-23337 lodash 4.17.20 fix=4.17.21 High',
      'CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 fix=2.15.0 Critical',
      'CVE-2023-45853 zlib1g 1:1.2.13.dfsg-1 fix= Negligible',
      'CVE-2023-4911 libc6 2.36-9+deb12u1 fix=2.36-9+deb12u3 Unknown',
      'CVE-2024-22195 jinja2 3.1.2 fix=3.1.3 Medium',
    ]);
    const log4j = report.vulnerabilities.find((v: any) => v.id === 'CVE-2021-44228');
    expect(log4j.preferred_cvss).toEqual({ score_v3: 10, vector_v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' });
    expect(log4j.vendor_attributes).toMatchObject({ ecosystem: 'Maven', path: 'opt/app/lib/log4j-core-2.14.1.jar', aliases: ['GHSA-jfh8-c2jp-5v3q'] });
    expect(report.vulnerabilities.find((v: any) => v.id === 'CVE-2023-4911').vendor_attributes.aliases).toEqual(['DSA-5514-1']);
    // what must not be there: the whited-out libssl3 (CVE-2023-0286), the emptied old lodash, fixed minimist,
    // urllib3 and zlib's CVE-2022-37434, and the Debian 11 advisory
    const all = JSON.stringify(report);
    for (const absent of ['CVE-2023-0286', 'CVE-2021-44906', 'CVE-2024-37891', 'CVE-2022-37434', '4.17.15', 'libssl3', 'DSA-5343-1']) expect(all).not.toContain(absent);
  });

  it('scans the Alpine-like image: the origin package matches, each binary package is listed', async () => {
    await s.api('POST', `/api/v1/registries/${REG}/images/alpine/artifacts/${digests.alpine}/scan`);
    expect(await scanned('alpine', digests.alpine)).toMatchObject({ status: 'Success', severity: 'High', total: 2, fixable: 2 });
    const report = (await s.api('GET', `/api/v1/registries/${REG}/images/alpine/artifacts/${digests.alpine}/scan/report`)).body[MIME];
    expect(report.vulnerabilities.map((v: any) => `${v.id} ${v.package} ${v.version} fix=${v.fix_version} ${v.severity} ${v.preferred_cvss.score_v3}`).sort()).toEqual([
      'CVE-2023-0286 libcrypto3 3.0.7-r0 fix=3.0.8-r0 High 7.4',
      'CVE-2023-0286 libssl3 3.0.7-r0 fix=3.0.8-r0 High 7.4',
    ]);
    // the Vulnerability column for several artifacts at once; an unknown digest is Not Scanned
    const col = await s.api('GET', `/api/v1/registries/${REG}/images/alpine/scans?digest=${digests.alpine}&digest=sha256:${'0'.repeat(64)}`);
    expect(col.body.items.map((i: any) => [i.status, i.severity, i.total])).toEqual([
      ['Success', 'High', 2],
      ['Not Scanned', null, 0],
    ]);
  });

  it('prevent pull refuses with 412 naming the count and worst CVE; allow lists let it through', async () => {
    expect((await pull('debian', digests.debian)).status).toBe(200);
    const set = (body: unknown) => s.api('PUT', `/api/v1/registries/${REG}/scan/settings`, body);
    expect((await set({ preventSeverity: 'High' })).body).toMatchObject({ preventSeverity: 'High', useOwnAllowlist: false, autoScan: false });
    const refused = await pull('debian', digests.debian);
    expect(refused.status).toBe(412);
    const err = ((await refused.json()) as any).errors[0];
    expect(err.code).toBe('PULL_REFUSED');
    expect(err.message).toContain('has 2 (worst: CVE-2021-44228, Critical, in org.apache.logging.log4j:log4j-core 2.14.1, fixed in 2.15.0)');
    expect(err.message).toContain('CVE allow list');
    // the tag is refused too; the Alpine image (High) as well
    expect((await c.req('GET', `/v2/${REG}/debian/manifests/12`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(412);
    expect((await pull('alpine', digests.alpine)).status).toBe(412);

    // the common allow list (admins), CVE IDs separated by commas and line breaks
    const common = await s.api('PUT', '/api/v1/scan/allowlist', { allowlist: 'cve-2021-44228,\nCVE-2021-23337\nCVE-2023-0286' });
    expect(common.body.allowlist).toEqual(['CVE-2021-44228', 'CVE-2021-23337', 'CVE-2023-0286']);
    expect((await pull('debian', digests.debian)).status).toBe(200);
    expect((await pull('alpine', digests.alpine)).status).toBe(200);
    // the registry's own list replaces the common one
    await set({ useOwnAllowlist: true, allowlist: ['CVE-2021-44228'] });
    const again = await pull('debian', digests.debian);
    expect(again.status).toBe(412);
    expect(((await again.json()) as any).errors[0].message).toContain('has 1 (worst: CVE-2021-23337, High, in lodash 4.17.20');
    await set({ allowlist: 'CVE-2021-44228, CVE-2021-23337' });
    expect((await pull('debian', digests.debian)).status).toBe(200);
    // an expired list allows nothing
    await set({ allowlistExpiresAt: '2020-01-01T00:00:00Z' });
    expect((await pull('debian', digests.debian)).status).toBe(412);
    // Critical only: the High lodash alone no longer blocks once log4j is allowed
    await set({ allowlistExpiresAt: null, allowlist: 'CVE-2021-44228', preventSeverity: 'Critical' });
    expect((await pull('debian', digests.debian)).status).toBe(200);
    const bad = await set({ allowlist: 'not a cve' });
    expect(bad.status).toBe(400);
    await set({ preventSeverity: null });
    await s.api('PUT', '/api/v1/scan/allowlist', { allowlist: '' });
  });

  it('unscanned images follow the registry setting', async () => {
    const digest = await pushLayers(c, `${REG}/fresh`, 'v1', [[{ path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.17.1\n' }]]);
    await s.api('PUT', `/api/v1/registries/${REG}/scan/settings`, { preventSeverity: 'High', unscanned: 'allow' });
    expect((await pull('fresh', digest)).status).toBe(200);
    await s.api('PUT', `/api/v1/registries/${REG}/scan/settings`, { unscanned: 'refuse' });
    const r = await pull('fresh', digest);
    expect(r.status).toBe(412);
    expect(((await r.json()) as any).errors[0].message).toContain('is not scanned');
    await s.api('POST', `/api/v1/registries/${REG}/images/fresh/artifacts/${digest}/scan`);
    expect(await scanned('fresh', digest)).toMatchObject({ status: 'Success', severity: 'None', total: 0 });
    expect((await pull('fresh', digest)).status).toBe(200);
    await s.api('PUT', `/api/v1/registries/${REG}/scan/settings`, { preventSeverity: null, unscanned: 'allow' });
  });

  it('a layer that is not a tar fails the scan with the reason', async () => {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const cd = await c.pushBlob(`${REG}/broken`, config);
    const junk = Buffer.from('not a tar, not gzip: '.repeat(50));
    const ld = await c.pushBlob(`${REG}/broken`, junk);
    const m = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: ld, size: junk.length }] });
    const put = await c.pushManifest(`${REG}/broken`, 'v1', m);
    const digest = put.headers.get('docker-content-digest')!;
    await s.api('POST', `/api/v1/registries/${REG}/images/broken/artifacts/${digest}/scan`);
    const o = await scanned('broken', digest);
    expect(o.status).toBe('Error');
    expect(o.message).toContain(`layer ${ld}`);
    expect((await s.api('GET', `/api/v1/registries/${REG}/images/broken/artifacts/${digest}/scan/report`)).status).toBe(404);
  });

  it('the OpenAPI document describes what the vulndb and report routes answer', async () => {
    const spec = (await (await fetch(`${s.url}/api/v1/openapi.json`)).json()) as any;
    const ok = (path: string, method: string) => spec.paths[path][method].responses['200'].content['application/json'].schema;
    expect(Object.keys(ok('/api/v1/vulndb/import', 'post').properties).sort()).toEqual(['read', 'skipped', 'source', 'unchanged', 'written']);
    expect(spec.paths['/api/v1/vulndb/import'].post.responses['413']).toBeDefined();
    expect(ok('/api/v1/vulndb', 'get').properties.sources.items.properties).toHaveProperty('ageSeconds');
    const report = ok('/api/v1/registries/{registry}/images/{image}/artifacts/{digest}/scan/report', 'get').properties[MIME];
    expect(report.properties.vulnerabilities.items.required).toEqual(expect.arrayContaining(['id', 'package', 'version', 'fix_version', 'severity', 'vendor_attributes']));
    expect(JSON.stringify(report.properties.vulnerabilities.items.properties.severity)).toContain('"Critical"');
    expect(ok('/api/v1/registries/{registry}/images/{image}/scans', 'get').properties.items.items.properties).toHaveProperty('digest');
  });
});
