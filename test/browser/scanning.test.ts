/**
 * Vulnerability scanning in the console, in Debian's chromium: an admin imports the OSV and Debian tracker fixtures
 * (API upload, as `ncr vulndb import` does), sees them and their age in Scan Settings, clicks Scan in the artifact's
 * Image Scan tab, sees the severity with total and fixable counts in the Vulnerability column and the list in the
 * tab (filters: severity, fixable, package; search), then turns on Prevent Pull in the registry's Image Scan tab and
 * allow-lists the CVEs. Screenshots go to test-output/screenshots/scan-*.png.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { DEBIAN_LAYERS, FIXTURES, osvUploads, pushLayers } from '../helpers/scan-images.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

describe.skipIf(process.env.NCR_SKIP_BROWSER === '1')('vulnerability scanning in the console (chromium)', { timeout: 120_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  let c: OciClient;
  let digest: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    s = await startServer({ db: 'sqlite' });
    expect((await s.api('POST', '/api/v1/registries', { name: 'shop' })).status).toBe(201);
    c = new OciClient(s.url, s.admin);
    digest = await pushLayers(c, 'shop/web', '1.0', DEBIAN_LAYERS);
    const auth = 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64');
    for (const f of [...(await osvUploads()), { name: 'debian-tracker.json', body: await readFile(join(FIXTURES, 'debian-tracker.json')) }]) {
      const r = await fetch(`${s.url}/api/v1/vulndb/import?name=${f.name}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: f.body });
      expect(r.status).toBe(200);
    }
    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
  });

  const artifactsTable = () => page.getByRole('table', { name: 'Artifacts' });

  it('Scan Settings shows the imported data and sets the auto scan cycle', async () => {
    await page.getByRole('link', { name: 'Scan Settings' }).click();
    const data = page.getByRole('table', { name: 'Vulnerability data' });
    await data.waitFor();
    expect(await data.innerText()).toMatch(/OSV\s+9/);
    expect(await data.innerText()).toMatch(/Debian security tracker\s+3/);
    const form = page.getByRole('form', { name: 'Auto scan' });
    await form.getByLabel('Cycle').click();
    await page.getByRole('option', { name: /Daily/ }).click();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Auto scan: Daily.').waitFor();
    await form.getByText('Next scan:').waitFor();
    await b.shot('scan-01-settings', { fullPage: true });
    expect((await s.api('GET', '/api/v1/scan/schedule')).body).toMatchObject({ cycle: 'Daily', cron: '0 0 * * *' });
  });

  it('Scan in the Image Scan tab: the Vulnerability column and the list with filters', async () => {
    await page.goto(`${s.url}/registries/shop/images/web`);
    await artifactsTable().waitFor();
    const row = artifactsTable().getByRole('row').filter({ hasText: '1.0' });
    await row.getByLabel('Not Scanned').waitFor();
    await page.goto(`${s.url}/registries/shop/images/web?digest=${encodeURIComponent(digest)}&tab=scan`);
    await page.getByRole('tab', { name: 'Image Scan' }).click();
    await page.getByRole('button', { name: 'Scan', exact: true }).click();
    const list = page.getByRole('table', { name: 'Vulnerabilities' });
    await list.waitFor({ timeout: 30_000 });
    await row.getByText('Critical').waitFor();
    expect(await row.innerText()).toContain('5 total · 4 fixable');
    expect(await list.getByRole('row').count()).toBe(6);
    await b.shot('scan-02-report', { fullPage: true });

    await page.getByLabel('Fixable only').check();
    await page.getByText('4 of 5 vulnerabilities').waitFor();
    expect(await list.innerText()).not.toContain('CVE-2023-45853');
    await page.getByLabel('Fixable only').uncheck();
    await page.getByLabel('Search').fill('log4j');
    await page.getByText('1 of 5 vulnerabilities').waitFor();
    expect(await list.innerText()).toContain('CVE-2021-44228');
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Severity', { exact: true }).first().click();
    await page.getByRole('option', { name: 'High' }).click();
    await page.keyboard.press('Escape');
    await page.getByText('1 of 5 vulnerabilities').waitFor();
    expect(await list.innerText()).toContain('CVE-2021-23337');
    await b.shot('scan-03-filtered', { fullPage: true });
  });

  it('Prevent Pull in the registry Image Scan tab refuses the pull; allow-listing the CVEs lets it through', async () => {
    await page.goto(`${s.url}/registries/shop/scan`);
    const form = page.getByRole('form', { name: 'Image scan settings' });
    await form.waitFor();
    await form.getByLabel('Prevent Pull').click();
    await page.getByRole('option', { name: 'High and above' }).click();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Image scan settings saved.').waitFor();
    const pull = () => c.req('GET', `/v2/shop/web/manifests/1.0`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const refused = await pull();
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as any).errors[0].message).toContain('worst: CVE-2021-44228');

    await form.getByLabel("Use this registry's own CVE allow list").check();
    await form.getByLabel('Allow CVE').fill('CVE-2021-44228\nCVE-2021-23337');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Image scan settings saved.').first().waitFor();
    await b.shot('scan-04-registry-settings', { fullPage: true });
    await expect.poll(async () => (await pull()).status).toBe(200);
    expect(b.errors).toEqual([]);
  });
});
