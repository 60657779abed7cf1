/**
 * The registry's Replication tab in Debian's chromium, on each database, against a second ncr as the target: Create
 * Replication with a new endpoint, the status turning Enabled, Run Replication (confirmed) copying an image pushed
 * before, the Replication History with each artifact, a push copied on its own, and a viewer who sees but cannot
 * change. Screenshots go to test-output/screenshots/replication-*.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

const VIEWER = { username: 'vera', password: 'viewer-password-1' };
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';


describe.skipIf(process.env.NCR_SKIP_BROWSER === '1').each(DB_KINDS)('Replication tab in chromium (%s)', { timeout: 120_000 }, (db) => {
  let a: TestServer;
  let target: TestServer;
  let b: BrowserSession;
  let page: Page;
  let old: { digest: string };
  const shot = (name: string) => b.shot(`replication-${db}-${name}`);
  const button = (name: string | RegExp) => page.getByRole('button', { name });
  const dialog = () => page.getByRole('dialog');
  const digestAtTarget = async (repo: string, tag: string) => {
    const res = await new OciClient(target.url, target.admin).req('HEAD', `/v2/${repo}/manifests/${tag}`, { headers: { accept: ACCEPT } });
    return res.status === 200 ? res.headers.get('docker-content-digest') : undefined;
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    [a, target] = await Promise.all([startServer({ db, config: { endpoints: { allowPrivateNetworks: true } } }), startServer({ db: 'sqlite' })]);
    expect((await a.api('POST', '/api/v1/registries', { name: 'web' })).status).toBe(201);
    expect((await target.api('POST', '/api/v1/registries', { name: 'mirror' })).status).toBe(201);
    expect((await a.api('POST', '/api/v1/users', { username: VIEWER.username, role: 'viewer', password: VIEWER.password })).status).toBe(201);
    old = await new OciClient(a.url, a.admin).pushImage('web/before', '1.0', `before-${db}`);
    b = await openBrowser();
    page = b.page;
    await signIn(page, a.url, 'admin', a.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await Promise.all([a?.close(), target?.close()]);
  });

  it('creates a replication with a new endpoint; it turns Enabled once the target is checked', async () => {
    await page.goto(`${a.url}/registries/web`);
    await page.getByRole('tab', { name: 'Replication' }).click();
    await page.waitForURL(/\/registries\/web\/replication$/);
    await page.getByText('No replications yet').waitFor();
    await button('Create Replication').click();
    await dialog().getByRole('textbox', { name: /^Name/ }).fill('to-mirror');
    await dialog().getByText('New endpoint').click();
    await dialog().getByLabel('Endpoint name').fill('second');
    await dialog().getByLabel('URL').fill(target.url);
    await dialog().getByLabel('Access ID').fill(target.admin.accessKey);
    await dialog().getByLabel('Access Secret').fill(target.admin.secretKey);
    await dialog().getByLabel('Target registry').fill('mirror');
    await shot('01-create-dialog');
    await dialog().getByRole('button', { name: 'Create' }).click();
    const table = page.getByRole('table', { name: 'Replications of web' });
    await table.getByText('to-mirror').waitFor();
    await table.getByText('Enabled', { exact: true }).waitFor({ timeout: 20_000 });
    await shot('02-enabled');
    const rules = (await a.api('GET', '/api/v1/registries/web/replications')).body.items;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ name: 'to-mirror', endpoint: 'second', targetRegistry: 'mirror', status: 'enabled' });
  });

  it('Run Replication (confirmed) copies the image pushed before; the history shows each artifact', async () => {
    await button('Run Replication to-mirror').click();
    await dialog().getByText('Images the target already has are skipped').waitFor();
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    const details = page.getByRole('region', { name: 'Run details' });
    await details.getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    const artifacts = details.getByRole('table', { name: 'Artifacts of the run' });
    await artifacts.getByText('before', { exact: true }).waitFor();
    await artifacts.locator('tr[data-outcome="copied"]').first().waitFor();
    await shot('03-run-details');
    expect(await digestAtTarget('mirror/before', '1.0')).toBe(old.digest);
  });

  it('a push is copied on its own and shows as an automatic run', async () => {
    const pushed = await new OciClient(a.url, a.admin).pushImage('web/after', '2.0', `after-${db}`);
    const history = page.getByRole('table', { name: 'Replication History' });
    await history.getByText('Auto: web/after:2.0').waitFor({ timeout: 30_000 });
    await history.getByText('Auto: web/after:2.0').click();
    await page.getByRole('region', { name: 'Run details' }).getByText('after', { exact: true }).waitFor();
    await shot('04-auto-run');
    expect(await digestAtTarget('mirror/after', '2.0')).toBe(pushed.digest);
  });

  it('a viewer sees the replications and their history, and cannot change them', async () => {
    const vb = await openBrowser();
    try {
      const viewer = vb.page;
      await signIn(viewer, a.url, VIEWER.username, VIEWER.password);
      await viewer.goto(`${a.url}/registries/web/replication?rule=to-mirror`);
      await viewer.getByRole('table', { name: 'Replication History' }).getByText('Manual').waitFor();
      expect(await viewer.getByRole('button', { name: 'Create Replication' }).count()).toBe(0);
      expect(await viewer.getByRole('button', { name: /^Run Replication/ }).count()).toBe(0);
      await vb.shot(`replication-${db}-05-viewer`);
      expect(vb.errors).toEqual([]);
    } finally {
      await vb.close();
    }
    expect(b.errors).toEqual([]);
  });
});
