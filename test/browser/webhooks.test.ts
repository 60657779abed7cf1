/**
 * The registry's Webhook tab in Debian's chromium, on each database: create a webhook in the Create Webhook dialog,
 * push with skopeo and see the receiver get Harbor's PUSH_ARTIFACT and the history show it, Test from the list, a
 * failing receiver's retries and why in the history, disable in place, and a viewer who sees but cannot change.
 * Screenshots go to test-output/screenshots/webhooks-*.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeo } from '../helpers/clients.js';
import { buildImage } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { Receiver } from '../webhooks/receiver.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

const VIEWER = { username: 'wanda', password: 'viewer-password-1' };


describe.skipIf(process.env.NCR_SKIP_BROWSER === '1').each(DB_KINDS)('Webhook tab in chromium (%s)', { timeout: 120_000 }, (db) => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  let rx: Receiver;
  let work: string;
  const creds = () => `${s.admin.accessKey}:${s.admin.secretKey}`;
  const shot = (name: string) => b.shot(`webhooks-${db}-${name}`);

  beforeAll(async () => {
    ensureConsoleBuilt();
    s = await startServer({ db, config: { webhooks: { allowPrivateNetworks: true, retryBackoffMs: 60_000 } } });
    rx = await Receiver.start();
    work = await mkdtemp(join(tmpdir(), 'ncr-browser-wh-'));
    expect((await s.api('POST', '/api/v1/registries', { name: 'hooks' })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/users', { username: VIEWER.username, role: 'viewer', password: VIEWER.password })).status).toBe(201);
    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await rx?.stop();
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const button = (name: string | RegExp) => page.getByRole('button', { name });
  const dialog = () => page.getByRole('dialog');

  it('creates a webhook in the Create Webhook dialog', async () => {
    await page.goto(`${s.url}/registries/hooks`);
    await page.getByRole('tab', { name: 'Webhook' }).click();
    await page.waitForURL(/\/registries\/hooks\/webhooks$/);
    await page.getByText('No webhooks yet').waitFor();
    await button('Create Webhook').click();
    await dialog().getByLabel('Name').fill('ci deploy');
    await dialog().getByLabel('Endpoint URL').fill(`${rx.url}/ci`);
    await dialog().getByLabel('Artifact deleted (DELETE_ARTIFACT)').check();
    await dialog().getByLabel('Auth header').fill('Bearer from-the-console');
    await shot('01-create-dialog');
    await button('Confirm').click();
    await page.getByRole('table', { name: 'Webhooks of hooks' }).getByText('ci deploy').waitFor();
    await page.getByText('Webhook ci deploy created.').waitFor();
    const hooks = (await s.api('GET', '/api/v1/registries/hooks/webhooks')).body.items;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ name: 'ci deploy', address: `${rx.url}/ci`, eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'], authHeaderSet: true, payloadFormat: 'Default', enabled: true });
  });

  it('a skopeo copy reaches the receiver as Harbor’s PUSH_ARTIFACT and shows in the history', async () => {
    const image = await buildImage({ dir: join(work, 'layout'), tag: '1.0', seed: `browser-${db}` });
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(), image.ref, `docker://${s.host}/hooks/web:1.0`]);
    const [got] = await rx.waitFor(1);
    expect(got.headers.authorization).toBe('Bearer from-the-console');
    expect(got.json).toMatchObject({
      type: 'PUSH_ARTIFACT',
      operator: 'admin',
      event_data: { resources: [{ digest: image.manifestDigest, tag: '1.0', resource_url: `${s.host}/hooks/web:1.0` }], repository: { name: 'web', namespace: 'hooks', repo_full_name: 'hooks/web' } },
    });

    await button('History of ci deploy').click();
    const item = dialog().getByRole('button', { name: 'PUSH_ARTIFACT succeeded' });
    await item.waitFor();
    await item.click();
    await dialog().getByRole('table', { name: /^Attempts of delivery/ }).getByText('200').waitFor();
    await dialog().getByText('"repo_full_name": "hooks/web"').waitFor();
    await shot('02-history-push');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
  });

  it('Test sends a sample event now and says how it went', async () => {
    await button('Test ci deploy').click();
    await page.getByText('Test delivered to ci deploy').waitFor();
    await rx.waitFor(2);
    expect(rx.received[1].json.event_data.repository.repo_full_name).toBe('hooks/ncr-webhook-test');
    await shot('03-test-delivered');
  });

  it('a failing receiver: the history shows the attempt and why it failed', async () => {
    const down = await Receiver.start();
    const port = down.port;
    await down.stop();
    await button('Create Webhook').click();
    await dialog().getByLabel('Name').fill('chat');
    await dialog().getByLabel('Endpoint URL').fill(`http://127.0.0.1:${port}/gone`);
    await dialog().getByText('CloudEvents 1.0', { exact: true }).click();
    await button('Confirm').click();
    await page.getByRole('table', { name: 'Webhooks of hooks' }).getByText('chat', { exact: true }).waitFor();
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds(), `oci:${join(work, 'layout')}:1.0`, `docker://${s.host}/hooks/web:2.0`]);
    await button('History of chat').click();
    const item = dialog().getByRole('button', { name: 'PUSH_ARTIFACT retrying' });
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    await dialog().getByText(/connection failed: ECONNREFUSED/).first().waitFor();
    await dialog().getByText(/^Next attempt at/).waitFor();
    await shot('04-history-retrying');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
  });

  it('disables a webhook in place', async () => {
    await page.getByRole('switch', { name: 'Disable chat' }).click({ force: true });
    await page.getByText('Webhook chat disabled.').waitFor();
    const chat = (await s.api('GET', '/api/v1/registries/hooks/webhooks')).body.items.find((w: { name: string }) => w.name === 'chat');
    expect(chat.enabled).toBe(false);
    await shot('05-list');
  });

  it('shows a viewer the webhooks and their history, and no way to change them', async () => {
    const v = await openBrowser();
    try {
      await signIn(v.page, s.url, VIEWER.username, VIEWER.password);
      await v.page.goto(`${s.url}/registries/hooks/webhooks`);
      await v.page.getByRole('table', { name: 'Webhooks of hooks' }).getByText('ci deploy').waitFor();
      expect(await v.page.getByRole('button', { name: /^(Create Webhook|Test .*|Actions for .*)$/ }).count()).toBe(0);
      // the receiver's URL without its path: it may be the credential
      await v.page.getByText(`${rx.url}/…`, { exact: true }).waitFor();
      expect(await v.page.getByRole('switch', { name: 'Disable ci deploy' }).isDisabled()).toBe(true);
      await v.page.getByRole('button', { name: 'History of ci deploy' }).click();
      await v.page.getByRole('dialog').getByRole('button', { name: 'PUSH_ARTIFACT succeeded' }).first().waitFor();
      await v.shot(`webhooks-${db}-06-viewer`);
      expect(v.errors).toEqual([]);
    } finally {
      await v.close();
    }
  });

  it('logged no errors in the browser', () => {
    expect(b.errors).toEqual([]);
  });
});
