/**
 * The image cache in the console, in Debian's chromium: the Image Cache tab creates a source (another ncr) with the
 * guide's provider table in the dialog, Refresh marks it reachable, Modify changes it; Create Registry with the purpose
 * Image Cache binds a registry to it; an image pulled through shows up there, and the registry list marks the
 * registry as an image cache; Delete Image Cache is refused while the registry uses it.
 * Screenshots go to test-output/screenshots/cache-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

describe.skipIf(process.env.NCR_SKIP_BROWSER === '1')('image cache in the console (chromium)', { timeout: 120_000 }, () => {
  let s: TestServer;
  let source: TestServer;
  let b: BrowserSession;
  let page: Page;
  let pushed: { digest: string };

  beforeAll(async () => {
    ensureConsoleBuilt();
    [s, source] = await Promise.all([startServer({ db: 'sqlite', config: { endpoints: { allowPrivateNetworks: true } } }), startServer({ db: 'sqlite' })]);
    expect((await source.api('POST', '/api/v1/registries', { name: 'src' })).status).toBe(201);
    pushed = await new OciClient(source.url, source.admin).pushImage('src/app', '1.0', 'browser-cache');
    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await Promise.all([s?.close(), source?.close()]);
  });

  const caches = () => page.getByRole('table', { name: 'Image caches' });

  it('creates an image cache (source registry) from the Image Cache tab and refreshes it', async () => {
    await page.getByRole('link', { name: 'Image Cache' }).click();
    await page.getByRole('heading', { name: 'Image Cache', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Create Image Cache' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create Image Cache' });
    await dialog.getByRole('table', { name: 'Source registry types' }).getByText('Quay', { exact: true }).waitFor();
    await dialog.getByRole('textbox', { name: 'Name' }).fill('upstream');
    await dialog.getByRole('textbox', { name: 'Source registry type' }).or(dialog.getByRole('combobox', { name: 'Source registry type' })).click();
    await page.getByRole('option', { name: 'NHN Container Registry (NCR)' }).click();
    await dialog.getByRole('textbox', { name: 'URL' }).fill(source.url);
    await dialog.getByRole('textbox', { name: 'Access ID' }).fill(source.admin.accessKey);
    await dialog.getByLabel('Access Secret').fill(source.admin.secretKey);
    await b.shot('cache-01-create-dialog');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await caches().getByText('upstream', { exact: true }).waitFor();
    expect(await caches().innerText()).toContain('NHN Container Registry (NCR)');
    expect(await caches().innerText()).not.toContain(source.admin.secretKey);
    await page.getByRole('button', { name: 'Refresh upstream' }).click();
    await caches().getByText('reachable', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Modify Image Cache upstream' }).click();
    const modify = page.getByRole('dialog', { name: 'Modify Image Cache' });
    await modify.getByRole('textbox', { name: 'Description' }).fill('the ncr next door');
    await modify.getByRole('button', { name: 'Modify' }).click();
    await caches().getByText('the ncr next door').waitFor();
    await b.shot('cache-02-list');
  });

  it('creates a registry with the purpose Image Cache; an image pulled through appears in it', async () => {
    await page.getByRole('link', { name: 'Registries' }).click();
    await page.getByRole('button', { name: 'Create registry' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create registry' });
    await dialog.getByRole('textbox', { name: /Registry name/ }).fill('mirror');
    await dialog.getByText('Image Cache', { exact: true }).click();
    await dialog.getByRole('textbox', { name: 'Image cache' }).or(dialog.getByRole('combobox', { name: 'Image cache' })).click();
    await page.getByRole('option', { name: /upstream/ }).click();
    await dialog.getByText('Address to pull through').waitFor();
    await b.shot('cache-03-create-registry');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/registries\/mirror/);
    await page.getByRole('heading', { name: 'Pull through the image cache' }).waitFor();

    // a pull through the cache registry (what docker pull HOST/mirror/src/app:1.0 does)
    const res = await fetch(`${s.url}/v2/mirror/src/app/manifests/1.0`, {
      headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64'), accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(pushed.digest);
    await page.reload();
    await page.getByText('src/app').first().waitFor();
    await page.goto(`${s.url}/registries`);
    const row = page.getByRole('table', { name: 'Registries' }).getByRole('row').filter({ hasText: 'mirror' });
    await row.getByText('Image cache').waitFor();
    expect(await row.innerText()).toContain('of upstream');
    await b.shot('cache-04-registries');
  });

  it('refuses Delete Image Cache while the registry uses it, naming the registry', async () => {
    await page.getByRole('link', { name: 'Image Cache' }).click();
    await page.getByRole('button', { name: 'Delete Image Cache upstream' }).click();
    const dialog = page.getByRole('dialog', { name: /Delete Image Cache upstream/ });
    await dialog.getByRole('button', { name: 'Delete Image Cache' }).click();
    await dialog.getByText(/in use by image cache registry mirror/).waitFor();
    await b.shot('cache-05-delete-refused');
  });
});
