/**
 * The "Done when", end to end with real parts: a new admin imports an OSV dump (`ncr vulndb import all.zip`),
 * pushes a real Debian bookworm minbase (debootstrap, one layer) with podman, clicks Scan in the console (Debian's
 * chromium) and sees the counts and the list; then Prevent Pull refuses `podman pull`, and allow-listing the CVEs it
 * names lets the pull through.
 *
 * The root file system is built once per machine and cached outside the repository (test/helpers/debian-rootfs.ts):
 * the first run downloads it from Debian's mirror (a couple of minutes), later runs reuse it. The expected findings
 * are not hard-coded: they are computed from the image's own dpkg status and the OSV records with the system's
 * `dpkg --compare-versions`, so a newer bookworm on the mirror changes what is expected, not whether this passes.
 * Screenshots: test-output/screenshots/scan-debian-*.png.
 */
import { link, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, podman, podmanResult, removePodmanStore } from '../helpers/clients.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { debianRootfs, dpkgLessThan, installedPackages, type DebianRootfs } from '../helpers/debian-rootfs.js';
import { FIXTURES } from '../helpers/scan-images.js';
import { storedZip } from '../helpers/scan-layers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

const SKIP = process.env.NCR_SKIP_BROWSER === '1' || process.env.NCR_SKIP_REAL_CLIENTS === '1';
// not under FIXTURES: tests that import that whole directory must not get these
const OSV_DIR = join(FIXTURES, '..', 'osv-debian-bookworm');

interface Expected {
  package: string;
  id: string;
  fixVersion: string;
}

/**
 * What a scan must find, by a rule of its own: an OSV record's Debian:12 package names a source package; each
 * installed binary built from it is affected when the record has no fix, or the source version is below the fix.
 */
async function expectedFindings(status: string, records: any[]): Promise<Expected[]> {
  const installed = installedPackages(status);
  const out: Expected[] = [];
  for (const r of records) {
    const cve = [r.id, ...(r.aliases ?? []), ...(r.upstream ?? [])].find((x: string) => x.startsWith('CVE-'));
    for (const a of r.affected) {
      if (a.package.ecosystem !== 'Debian:12') continue;
      const fixed: string | undefined = a.ranges.flatMap((x: any) => x.events).find((e: any) => e.fixed)?.fixed;
      for (const p of installed.filter((x) => x.source === a.package.name)) {
        if (!fixed || (await dpkgLessThan(p.sourceVersion, fixed))) out.push({ package: p.name, id: cve, fixVersion: fixed ?? '' });
      }
    }
  }
  return out.sort((x, y) => `${x.package} ${x.id}`.localeCompare(`${y.package} ${y.id}`));
}

/** A one-layer OCI image layout of the root file system, tagged `bookworm`. */
async function writeLayout(dir: string, rootfs: DebianRootfs): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: string) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const layerFile = join(blobs, rootfs.digest.slice('sha256:'.length));
  await link(rootfs.layerPath, layerFile).catch(() => copyFile(rootfs.layerPath, layerFile));
  const config = await put(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/bash'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: [rootfs.diffId] },
      history: [{ created_by: 'debootstrap --variant=minbase bookworm' }],
    }),
  );
  const manifest = await put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: rootfs.digest, size: rootfs.size }],
    }),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bookworm' } }] }),
  );
}

describe.skipIf(SKIP)('a Debian bookworm minbase from debootstrap: OSV import, podman push, Scan in the console, prevent pull (chromium)', { timeout: 300_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  let work: string;
  let rootfs: DebianRootfs;
  let records: any[];
  let expected: Expected[];
  let digest: string;
  let ref: string;
  const stores: string[] = [];

  const newStore = async (label: string) => {
    const dir = await mkdtemp(join(work, `${label}-`));
    stores.push(dir);
    return dir;
  };
  const creds = () => `${s.admin.accessKey}:${s.admin.secretKey}`;

  beforeAll(async () => {
    for (const tool of ['podman', 'dpkg']) if (!haveTool(tool)) throw new Error(`${tool} is not installed: run \`npm test\` (scripts/test.sh installs it as root)`);
    ensureConsoleBuilt();
    const t0 = performance.now();
    rootfs = await debianRootfs();
    process.stderr.write(`[debootstrap] ${rootfs.built ? 'built' : 'cached'} ${rootfs.dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(rootfs.osRelease).toMatch(/VERSION_CODENAME=bookworm/);
    // lower case: podman names an image pulled from an OCI layout after the layout's path
    work = join(tmpdir(), `ncr-debootstrap-${randomBytes(6).toString('hex')}`);
    await mkdir(work);
    records = await Promise.all((await readdir(OSV_DIR)).filter((n) => n.endsWith('.json')).sort().map(async (n) => JSON.parse(await readFile(join(OSV_DIR, n), 'utf8'))));
    expected = await expectedFindings(rootfs.dpkgStatus, records);

    s = await startServer({ db: 'sqlite' });
    expect((await s.api('POST', '/api/v1/registries', { name: 'shop' })).status).toBe(201);
    ref = `${s.host}/shop/debian:12`;

    // the OSV dump, as osv.dev publishes one per ecosystem (all.zip), imported with the CLI
    const dump = join(work, 'all.zip');
    await writeFile(dump, storedZip(await Promise.all(records.map(async (r) => ({ name: `${r.id}.json`, content: JSON.stringify(r) })))));
    const imported = await runCli(['vulndb', 'import', dump], { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey });
    expect(imported.code, imported.stderr).toBe(0);

    // podman: the layout into its store, log in, push
    const layout = join(work, 'layout');
    await writeLayout(layout, rootfs);
    const store = await newStore('push');
    const pulled = await podman(['pull', '-q', `oci:${layout}:bookworm`], store, { timeout: 300_000 });
    const imageId = pulled.stdout.trim().split('\n').pop()!;
    await podman(['login', '--tls-verify=false', '-u', s.admin.accessKey, '-p', s.admin.secretKey, s.host], store);
    const digestFile = join(work, 'digest');
    await podman(['push', '--tls-verify=false', '--digestfile', digestFile, imageId, `docker://${ref}`], store, { timeout: 300_000 });
    digest = (await readFile(digestFile, 'utf8')).trim();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 20 * 60_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
    for (const d of stores) await removePodmanStore(d);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the expected findings are a real mix: open CVEs, fixes bookworm lacks, and fixed ones left out', () => {
    const ids = new Set(expected.map((e) => e.id));
    // open in bookworm for good: always there
    for (const id of ['CVE-2011-3374', 'CVE-2019-1010022', 'CVE-2005-2541', 'CVE-2023-45853']) expect(ids).toContain(id);
    // fixed in what the mirror has, or other distributions: never there
    for (const id of ['CVE-2023-4911', 'CVE-2022-37434', 'CVE-2026-34743', 'CVE-2023-0286']) expect(ids).not.toContain(id);
    // glibc's CVEs are reported once per binary built from it
    expect(expected.filter((e) => e.id === 'CVE-2019-1010022').map((e) => e.package)).toEqual(['libc-bin', 'libc6']);
  });

  it('Scan in the Image Scan tab: the Vulnerability column shows the counts and the tab lists exactly the expected findings', async () => {
    await page.goto(`${s.url}/registries/shop/images/debian`);
    const row = page.getByRole('table', { name: 'Artifacts' }).getByRole('row').filter({ hasText: '12' });
    await row.getByLabel('Not Scanned').waitFor();
    await page.goto(`${s.url}/registries/shop/images/debian?digest=${encodeURIComponent(digest)}&tab=scan`);
    await page.getByRole('tab', { name: 'Image Scan' }).click();
    await page.getByRole('button', { name: 'Scan', exact: true }).click();
    const list = page.getByRole('table', { name: 'Vulnerabilities' });
    await list.waitFor({ timeout: 60_000 });
    const fixable = expected.filter((e) => e.fixVersion).length;
    await row.getByText('Critical').waitFor();
    expect(await row.innerText()).toContain(`${expected.length} total · ${fixable} fixable`);
    await page.getByText(`${expected.length} of ${expected.length} vulnerabilities`).waitFor();
    expect(await list.getByRole('row').count()).toBe(expected.length + 1);
    const text = await list.innerText();
    for (const e of expected) expect(text).toContain(e.id);
    await b.shot('scan-debian-01-report', { fullPage: true });

    // the same, exactly, in the report (Harbor's format)
    const rep = await s.api('GET', `/api/v1/registries/shop/images/debian/artifacts/${digest}/scan/report`);
    expect(rep.status).toBe(200);
    const vulns = rep.body['application/vnd.security.vulnerability.report; version=1.1'].vulnerabilities as { id: string; package: string; fix_version: string }[];
    const got = vulns.map((v) => ({ package: v.package, id: v.id, fixVersion: v.fix_version })).sort((x, y) => `${x.package} ${x.id}`.localeCompare(`${y.package} ${y.id}`));
    expect(got).toEqual(expected);

    await page.getByLabel('Fixable only').check();
    await page.getByText(`${fixable} of ${expected.length} vulnerabilities`).waitFor();
    await page.getByLabel('Fixable only').uncheck();
    await page.getByLabel('Search').fill('zlib1g');
    await page.getByText(`${expected.filter((e) => e.package === 'zlib1g').length} of ${expected.length} vulnerabilities`).waitFor();
    await page.getByLabel('Search').fill('');
  });

  it('Prevent Pull refuses podman pull; allow-listing the CVEs it names lets the pull through', async () => {
    await page.goto(`${s.url}/registries/shop/scan`);
    const form = page.getByRole('form', { name: 'Image scan settings' });
    await form.waitFor();
    await form.getByLabel('Prevent Pull').click();
    await page.getByRole('option', { name: 'High and above' }).click();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Image scan settings saved.').waitFor();

    const rep = await s.api('GET', `/api/v1/registries/shop/images/debian/artifacts/${digest}/scan/report`);
    const high = [...new Set((rep.body['application/vnd.security.vulnerability.report; version=1.1'].vulnerabilities as { id: string; severity: string }[]).filter((v) => v.severity === 'High' || v.severity === 'Critical').map((v) => v.id))];
    expect(high).toContain('CVE-2019-1010022');

    const refusedStore = await newStore('refused');
    const refused = await podmanResult(['pull', '--tls-verify=false', '--creds', creds(), ref], refusedStore);
    expect(refused.code, refused.stdout).not.toBe(0);
    expect(refused.stderr).toContain(`has ${high.length} (worst: CVE-`);
    expect(refused.stderr).toMatch(/412|Precondition Failed|PULL_REFUSED|refuses pulls/);

    await form.getByLabel("Use this registry's own CVE allow list").check();
    await form.getByLabel('Allow CVE').fill(high.join('\n'));
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Image scan settings saved.').first().waitFor();
    await b.shot('scan-debian-02-allowlist', { fullPage: true });

    const okStore = await newStore('allowed');
    const ok = await podmanResult(['pull', '--tls-verify=false', '--creds', creds(), ref], okStore, { timeout: 300_000 });
    expect(ok.code, ok.stderr).toBe(0);
    const inspected = JSON.parse((await podman(['image', 'inspect', ref], okStore)).stdout);
    expect(inspected[0].Digest).toBe(digest);
    expect(b.errors).toEqual([]);
  });
});
