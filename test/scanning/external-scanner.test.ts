/**
 * An external scanner through Harbor's Pluggable Scanner API v1.1, on each database: a stand-in adapter on loopback,
 * written here, answers /metadata, accepts POST /scan (202 {id}) and, before reporting, really pulls the manifest
 * from ncr with the registry URL and Authorization it was given: proof that ncr's pull token works, for that
 * repository only, and not on the management API. The report (302 with Refresh-After first, then 200) becomes the
 * artifact's findings: severity bands, fixable counts, Harbor's report, prevent pull; a scan of an image that prevent
 * pull refuses still works (the scanner's pull is exempt); an adapter that fails makes the scan's status Error with
 * its message.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { DEBIAN_LAYERS, pushLayers } from '../helpers/scan-images.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

const MIME = 'application/vnd.security.vulnerability.report; version=1.1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Pulled {
  id: string;
  request: any;
  contentType: string | undefined;
  adapterAuth: string | undefined;
  manifest: number;
  manifestDigest: string | null;
  otherRepo: number;
  api: number;
}

/** The stand-in adapter: what it was asked and what its pulls got are kept in `scans`. */
async function standInAdapter(): Promise<{ url: string; scans: Pulled[]; failFor: Set<string>; close(): Promise<void> }> {
  const scans: Pulled[] = [];
  const failFor = new Set<string>();
  const polls = new Map<string, number>();
  const body = (req: IncomingMessage) => new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, v: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(v));
    if (req.method === 'GET' && req.url === '/api/v1/metadata') {
      return json(200, {
        scanner: { name: 'StandIn', vendor: 'ncr tests', version: '0.1' },
        capabilities: [{ consumes_mime_types: [OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json'], produces_mime_types: [MIME, 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0'] }],
        properties: { 'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability' },
      });
    }
    if (req.method === 'POST' && req.url === '/api/v1/scan') {
      const request = JSON.parse(await body(req));
      const id = `scan-${scans.length + 1}`;
      const entry: Pulled = { id, request, contentType: req.headers['content-type'], adapterAuth: req.headers.authorization, manifest: 0, manifestDigest: null, otherRepo: 0, api: 0 };
      scans.push(entry);
      json(202, { id });
      // as an adapter does: pull the artifact with what it was given
      const { url, authorization } = request.registry;
      const { repository, digest, mime_type } = request.artifact;
      const m = await fetch(`${url}/v2/${repository}/manifests/${digest}`, { headers: { authorization, accept: mime_type } });
      entry.manifest = m.status;
      entry.manifestDigest = m.headers.get('docker-content-digest');
      await m.arrayBuffer();
      entry.otherRepo = (await fetch(`${url}/v2/${repository.split('/')[0]}/other/manifests/latest`, { headers: { authorization } })).status;
      entry.api = (await fetch(`${url}/api/v1/registries`, { headers: { authorization } })).status;
      return;
    }
    const report = /^\/api\/v1\/scan\/([^/]+)\/report$/.exec(req.url ?? '');
    if (req.method === 'GET' && report) {
      const entry = scans.find((x) => x.id === report[1]);
      if (!entry) return json(404, { error: { message: 'no such scan' } });
      if (failFor.has(entry.request.artifact.digest)) return json(500, { error: { message: 'the database of the stand-in scanner is corrupt' } });
      const n = (polls.get(entry.id) ?? 0) + 1;
      polls.set(entry.id, n);
      // still working on the first poll, and until the pull above is done
      if (n === 1 || entry.manifest === 0 || entry.api === 0) return res.writeHead(302, { 'refresh-after': '1' }).end();
      if (req.headers.accept !== MIME) return json(400, { error: { message: `unexpected Accept ${req.headers.accept}` } });
      return json(200, {
        generated_at: new Date().toISOString(),
        artifact: entry.request.artifact,
        scanner: { name: 'StandIn', vendor: 'ncr tests', version: '0.1' },
        severity: 'Critical',
        vulnerabilities: [
          { id: 'CVE-2023-4911', package: 'libc6', version: '2.36-9+deb12u1', fix_version: '2.36-9+deb12u3', severity: 'Critical', description: 'Looney Tunables', links: ['https://security-tracker.debian.org/tracker/CVE-2023-4911'], preferred_cvss: { score_v3: 7.8, vector_v3: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' } },
          { id: 'CVE-2023-45853', package: 'zlib1g', version: '1:1.2.13.dfsg-1', fix_version: '', severity: 'HIGH', description: 'MiniZip', links: [] },
          { id: 'CVE-2011-3374', package: 'apt', version: '2.6.1', severity: 'Low', cvss3_score: '3.7', cvss3_vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N' },
          { id: 'CVE-2005-2541', package: 'tar', version: '1.34+dfsg-1.2', severity: 'Negligible' },
          { id: 'TEMP-0000000-ABCDEF', package: 'bash', version: '5.2.15-2', severity: 'whatever' },
        ],
      });
    }
    json(404, { error: { message: `no route ${req.method} ${req.url}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`,
    scans,
    failFor,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.each(DB_KINDS)('an external scanner through the Pluggable Scanner API (%s)', { timeout: 120_000 }, (db) => {
  let adapter: Awaited<ReturnType<typeof standInAdapter>>;
  let s: TestServer;
  let c: OciClient;
  let digest: string;

  async function scanned(image: string, d: string) {
    const path = `/api/v1/registries/shop/images/${image}/artifacts/${d}/scan`;
    for (let i = 0; i < 300; i++) {
      const r = await s.api('GET', path);
      if (r.body.status !== 'Scanning') return r.body;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${image}@${d} is still being scanned`);
  }

  beforeAll(async () => {
    adapter = await standInAdapter();
    s = await startServer({ db, config: { scanning: { adapter: { url: adapter.url, authorization: 'Bearer adapter-secret', timeoutSeconds: 60 } } } });
    expect((await s.api('POST', '/api/v1/registries', { name: 'shop' })).status).toBe(201);
    c = new OciClient(s.url, s.admin);
    digest = await pushLayers(c, 'shop/debian', '12', DEBIAN_LAYERS);
  });

  afterAll(async () => {
    await s?.close();
    await adapter?.close();
  });

  it('hands the adapter the artifact and a pull token for that repository only, and maps its report to findings', async () => {
    expect((await s.api('POST', `/api/v1/registries/shop/images/debian/artifacts/${digest}/scan`)).status).toBe(202);
    const o = await scanned('debian', digest);
    expect(o).toMatchObject({ status: 'Success', severity: 'Critical', total: 5, fixable: 1, summary: { Critical: 1, High: 1, Low: 1, Negligible: 1, Unknown: 1 } });

    expect(adapter.scans).toHaveLength(1);
    const [scan] = adapter.scans;
    expect(scan!.contentType).toBe('application/vnd.scanner.adapter.scan.request+json; version=1.0');
    expect(scan!.adapterAuth).toBe('Bearer adapter-secret');
    expect(scan!.request).toMatchObject({ registry: { url: s.url }, artifact: { repository: 'shop/debian', digest, mime_type: OCI_MANIFEST } });
    expect(scan!.request.registry.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    // the token pulls that manifest, is refused for another repository, and is no key to the management API
    expect(scan!.manifest).toBe(200);
    expect(scan!.manifestDigest).toBe(digest);
    expect(scan!.otherRepo).toBe(401);
    expect(scan!.api).toBe(401);

    const rep = await s.api('GET', `/api/v1/registries/shop/images/debian/artifacts/${digest}/scan/report`);
    expect(rep.status).toBe(200);
    const vulns = rep.body[MIME].vulnerabilities;
    expect(vulns.map((v: any) => [v.id, v.package, v.severity, v.fix_version])).toEqual([
      ['CVE-2023-4911', 'libc6', 'Critical', '2.36-9+deb12u3'],
      ['CVE-2023-45853', 'zlib1g', 'High', ''],
      ['CVE-2011-3374', 'apt', 'Low', ''],
      ['CVE-2005-2541', 'tar', 'Negligible', ''],
      ['TEMP-0000000-ABCDEF', 'bash', 'Unknown', ''],
    ]);
    expect(vulns[0]).toMatchObject({ description: 'Looney Tunables', links: ['https://security-tracker.debian.org/tracker/CVE-2023-4911'], preferred_cvss: { score_v3: 7.8, vector_v3: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' } });
    expect(vulns[2].preferred_cvss).toEqual({ score_v3: 3.7, vector_v3: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N' });
  });

  it('prevent pull refuses a user, not the scanner: a rescan of a refused image still works', async () => {
    expect((await s.api('PUT', '/api/v1/registries/shop/scan/settings', { preventSeverity: 'High' })).status).toBe(200);
    const refused = await c.req('GET', `/v2/shop/debian/manifests/${digest}`, { headers: { accept: OCI_MANIFEST } });
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as any).errors[0].message).toContain('has 2 (worst: CVE-2023-4911, Critical, in libc6');

    expect((await s.api('POST', `/api/v1/registries/shop/images/debian/artifacts/${digest}/scan`)).status).toBe(202);
    expect(await scanned('debian', digest)).toMatchObject({ status: 'Success', total: 5 });
    expect(adapter.scans).toHaveLength(2);
    expect(adapter.scans[1]!.manifest).toBe(200);
    expect((await s.api('PUT', '/api/v1/registries/shop/scan/settings', { preventSeverity: null })).status).toBe(200);
  });

  it("an adapter's failure is the scan's Error, with its message", async () => {
    const other = await pushLayers(c, 'shop/broken', '1', DEBIAN_LAYERS.slice(0, 1));
    adapter.failFor.add(other);
    expect((await s.api('POST', `/api/v1/registries/shop/images/broken/artifacts/${other}/scan`)).status).toBe(202);
    const o = await scanned('broken', other);
    expect(o.status).toBe('Error');
    expect(o.message).toContain('the database of the stand-in scanner is corrupt');
  });
});
