/**
 * Storage quotas in the console, in Debian's chromium: an admin sets a registry's quota in its Settings tab; the
 * registry page and the registries list then show the usage against it (orange past 85%), and Remove quota lifts it.
 * The registry page also shows the private endpoint's address (Private URI) when one is configured.
 * Screenshots go to test-output/screenshots/quota-*.png.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

describe('storage quota in the console (chromium)', { timeout: 120_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    // a private endpoint configured (never reached here): the registry page shows its address too
    s = await startServer({ db: 'sqlite', config: { server: { privateUrl: 'https://private-registry.example.internal' } } });
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    await new OciClient(s.url, s.admin).pushBlob('team/app', randomBytes(900 * 1024));
    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
  });

  it('an admin sets the quota in Settings; the page shows the usage against it', async () => {
    await page.goto(`${s.url}/registries/team/settings`);
    await page.getByRole('heading', { name: 'Storage quota' }).waitFor();
    await page.getByText('No limit.').waitFor();
    await page.getByText('private-registry.example.internal/team', { exact: true }).waitFor();
    await page.getByLabel('Quota').fill('1');
    await page.getByRole('textbox', { name: 'Unit' }).or(page.getByRole('combobox', { name: 'Unit' })).click();
    await page.getByRole('option', { name: 'MB', exact: true }).click();
    await page.getByRole('button', { name: 'Set quota' }).click();
    await page.getByText(/Up to 1\.00 MB/).waitFor();
    await page.getByLabel('Storage quota 88% used').waitFor();
    expect(await page.getByText(/of 1\.00 MB \(88%\)/).count()).toBe(1);
    expect((await s.api('GET', '/api/v1/registries/team')).body.quotaBytes).toBe(1024 * 1024);
    await b.shot('quota-01-settings');

    await page.goto(`${s.url}/registries`);
    const row = page.getByRole('row').filter({ hasText: 'team' });
    await row.getByText('of 1.00 MB').waitFor();
    await b.shot('quota-02-list');

    await page.goto(`${s.url}/registries/team/settings`);
    await page.getByRole('button', { name: 'Remove quota' }).click();
    await page.getByText('No limit.').waitFor();
    expect((await s.api('GET', '/api/v1/registries/team')).body.quotaBytes).toBeNull();
  });
});
