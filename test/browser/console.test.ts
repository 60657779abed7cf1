/**
 * The console end to end, in Debian's chromium against a real server on SQLite: sign in, create a registry, push an
 * image with skopeo, find it and its artifact, create and delete a tag, create and delete an access key, run garbage
 * collection, and check that a viewer sees no write buttons. Screenshots of each page go to test-output/screenshots/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeo } from '../helpers/clients.js';
import { buildImage, type BuiltImage } from '../helpers/oci-image.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser } from './browser.js';

const VIEWER = { username: 'vera', password: 'viewer-password-1' };

describe.skipIf(process.env.NCR_SKIP_BROWSER === '1')('web console in chromium', { timeout: 120_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  let work: string;
  let image: BuiltImage;

  beforeAll(async () => {
    ensureConsoleBuilt();
    s = await startServer({ db: 'sqlite' });
    work = await mkdtemp(join(tmpdir(), 'ncr-browser-'));
    image = await buildImage({ dir: join(work, 'layout'), tag: '1.0', layers: 2, layerSize: 48 * 1024, seed: 'console' });
    expect((await s.api('POST', '/api/v1/users', { username: VIEWER.username, role: 'viewer', password: VIEWER.password })).status).toBe(201);
    b = await openBrowser();
    page = b.page;
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const button = (name: string | RegExp) => page.getByRole('button', { name });
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name });
  const heading = (name: string) => page.getByRole('heading', { name, exact: true });

  it('signs in as the admin with the password', async () => {
    await page.goto(s.url + '/');
    await page.waitForURL(/\/sign-in$/);
    await heading('Sign in').waitFor();
    await b.shot('01-sign-in');
    await page.getByLabel('Username').fill('admin');
    await page.locator('input[name=password]').fill('not-the-password');
    await button('Sign in').click();
    await page.getByRole('alert').filter({ hasText: 'username or password is wrong' }).waitFor();
    await b.shot('02-sign-in-failed');
    await page.locator('input[name=password]').fill(s.admin.password);
    await button('Sign in').click();
    await heading('Registries').waitFor();
    expect(page.url()).toBe(`${s.url}/registries`);
    await page.getByText('No registries yet').waitFor();
    await b.shot('03-registries-empty');
  });

  it('creates a registry, checking the name rules as you type', async () => {
    await button('Create registry').first().click();
    const name = page.getByLabel('Registry name');
    await name.fill('Demo');
    await page.getByText('Use lowercase letters only.').waitFor();
    expect(await button('Create').last().isDisabled()).toBe(true);
    await b.shot('04-create-registry-invalid');
    await name.fill('demo');
    await page.getByText(`${s.host}/demo/IMAGE:TAG`).waitFor();
    await button(/^Create$/).click();
    await heading('demo').waitFor();
    expect(page.url()).toBe(`${s.url}/registries/demo`);
    await page.getByText('No images yet').waitFor();
    const commands = await page.getByRole('group', { name: 'Push commands' }).innerText();
    expect(commands).toContain(`docker login ${s.host}`);
    expect(commands).toContain(`docker tag my-app:latest ${s.host}/demo/my-app:1.0`);
    expect(commands).toContain(`docker push ${s.host}/demo/my-app:1.0`);
    await b.shot('05-registry-empty');
  });

  it('finds the image pushed with skopeo, and its artifact', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${s.admin.accessKey}:${s.admin.secretKey}`, image.ref, `docker://${s.host}/demo/hello:1.0`]);
    await page.reload();
    await page.getByRole('link', { name: 'hello', exact: true }).click();
    await page.waitForURL(/\/registries\/demo\/images\/hello$/);
    await heading('hello').waitFor();
    const short = image.manifestDigest.slice(0, 19);
    const artifact = page.getByRole('link', { name: new RegExp(`^Artifact ${short}`) });
    await artifact.waitFor();
    expect(await page.getByRole('table', { name: 'Artifacts' }).innerText()).toContain('1.0');
    await b.shot('06-image');
    await artifact.click();
    await page.waitForURL(/digest=sha256/);
    await page.getByRole('region', { name: 'Artifact detail' }).waitFor();
    await page.getByText(image.manifestDigest, { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Tags' }).getByText('1.0', { exact: true }).waitFor();
    await b.shot('07-artifact-tags');
  });

  it('shows layers, the manifest and the exact pull commands', async () => {
    await page.getByRole('tab', { name: 'Layers' }).click();
    const layers = page.getByRole('table', { name: 'Layers' });
    await layers.waitFor();
    expect(await layers.getByRole('row').count()).toBe(1 + image.layers.length + 1);
    await b.shot('08-artifact-layers');
    await page.getByRole('tab', { name: 'Manifest' }).click();
    await page.getByText('"schemaVersion": 2').waitFor();
    await b.shot('09-artifact-manifest');
    await page.getByRole('tab', { name: 'Pull' }).click();
    await page.getByText(`docker pull ${s.host}/demo/hello@${image.manifestDigest}`).waitFor();
    await page.getByText(`docker pull ${s.host}/demo/hello:1.0`).waitFor();
    await b.shot('10-artifact-pull');
    await page.getByRole('tab', { name: 'Tags' }).click();
  });

  it('creates a tag, sees it, and deletes it', async () => {
    const tags = page.getByRole('table', { name: 'Tags' });
    await button('Create tag').click();
    const dialog = page.getByRole('dialog', { name: 'Create tag' });
    await dialog.getByLabel('Tag name').fill('bad tag');
    await dialog.getByText(/Letters, digits/).waitFor();
    await dialog.getByLabel('Tag name').fill('stable');
    await b.shot('11-create-tag');
    await dialog.getByRole('button', { name: 'Create tag' }).click();
    await dialog.waitFor({ state: 'detached' });
    await tags.getByText('stable', { exact: true }).waitFor();
    await page.getByText(/Tag stable now points at/).waitFor();
    const listed = await s.api('GET', '/api/v1/registries/demo/images/hello/tags');
    expect(listed.body.items.map((t: { name: string }) => t.name).sort()).toEqual(['1.0', 'stable']);
    await b.shot('12-tag-created');

    await button('Delete tag stable').click();
    const confirm = page.getByRole('dialog', { name: 'Delete tag stable?' });
    await confirm.getByText(/The artifact and its other tags stay/).waitFor();
    await confirm.getByRole('button', { name: 'Delete tag' }).click();
    await confirm.waitFor({ state: 'detached' });
    await tags.getByText('stable', { exact: true }).waitFor({ state: 'detached' });
    const after = await s.api('GET', '/api/v1/registries/demo/images/hello/tags');
    expect(after.body.items.map((t: { name: string }) => t.name)).toEqual(['1.0']);
  });

  it('lists the registry with its image count and storage', async () => {
    await nav('Registries').click();
    const row = page.getByRole('table', { name: 'Registries' }).getByRole('row', { name: /demo/ });
    await row.waitFor();
    expect(await row.innerText()).toMatch(new RegExp(`${s.host}/demo[\\s\\S]*1[\\s\\S]*KB`));
    await b.shot('13-registries');
    await page.getByRole('link', { name: 'demo', exact: true }).click();
    await page.getByRole('link', { name: 'hello', exact: true }).waitFor();
    await b.shot('14-registry');
  });

  it('creates an access key, shows the secret once, and deletes the key', async () => {
    await nav('API security').click();
    await heading('API security').waitFor();
    await page.getByRole('table', { name: 'Access keys' }).getByText(s.admin.accessKey).waitFor();
    await button('Create access key').click();
    const dialog = page.getByRole('dialog', { name: 'Access key created' });
    await dialog.getByText('This is the only time it is shown').waitFor();
    const accessKey = (await dialog.getByTestId('access-key').innerText()).trim();
    const secretKey = (await dialog.getByTestId('secret-key').innerText()).trim();
    expect(accessKey).toMatch(/^NCR[A-Z0-9]{17}$/);
    expect(secretKey.length).toBeGreaterThanOrEqual(40);
    await b.shot('15-access-key-secret');
    const me = await s.api('GET', '/api/v1/me', undefined, { accessKey, secretKey });
    expect(me.status).toBe(200);
    await dialog.getByRole('button', { name: 'I have stored the secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secretKey);
    await page.getByRole('table', { name: 'Access keys' }).getByText(accessKey).waitFor();
    await b.shot('16-access-keys');

    await button(`Actions for ${accessKey}`).click();
    await page.getByRole('menuitem', { name: 'Delete key' }).click();
    const confirm = page.getByRole('dialog', { name: `Delete access key ${accessKey}?` });
    await confirm.getByRole('button', { name: 'Delete key' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Access keys' }).getByText(accessKey).waitFor({ state: 'detached' });
    expect((await s.api('GET', '/api/v1/me', undefined, { accessKey, secretKey })).status).toBe(401);
  });

  it('shows users and the account page to the admin', async () => {
    await nav('Users').click();
    await page.getByRole('table', { name: 'Users' }).getByText(VIEWER.username).waitFor();
    await b.shot('17-users');
    await nav('Account').click();
    await heading('Change password').waitFor();
    await b.shot('18-account');
  });

  it('runs garbage collection from its page: a dry run, its details, the schedule, a run', async () => {
    await nav('Garbage collection').click();
    await heading('Garbage collection').waitFor();
    await page.getByText('No runs yet.').waitFor();
    await button('Dry run').click();
    const runs = page.getByRole('table', { name: 'Garbage collection runs' });
    await runs.getByText('succeeded').waitFor();
    await runs.getByText(/would go/).waitFor();
    await b.shot('18a-gc-dry-run');
    await button('Details').click();
    await page.getByRole('dialog', { name: 'Garbage collection run' }).getByText('Blobs examined').waitFor();
    await b.shot('18b-gc-run-details');
    await page.keyboard.press('Escape');
    await page.getByLabel('Cron (5 fields, UTC)').fill('0 4 * * 0');
    await button('Save schedule').click();
    await page.getByText(/Runs on/).waitFor();
    await button('Run now').click();
    await page.getByRole('dialog', { name: 'Run garbage collection now?' }).getByRole('button', { name: 'Run now' }).click();
    await runs.getByText(/freed/).waitFor();
    await runs.getByText('succeeded').nth(1).waitFor();
    await b.shot('18c-gc-history-and-schedule');
    expect((await s.api('GET', '/api/v1/gc/schedule')).body).toMatchObject({ cron: '0 4 * * 0', enabled: true });
  });

  it('is usable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${s.url}/registries/demo/images/hello?digest=${encodeURIComponent(image.manifestDigest)}`);
    await page.getByRole('table', { name: 'Tags' }).waitFor();
    await b.shot('19-phone-image');
    await button('Open navigation').click();
    await nav('API security').waitFor();
    await b.shot('20-phone-navigation', { fullPage: false });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('signs out', async () => {
    await page.goto(`${s.url}/registries`);
    await button('Account menu for admin').click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.goto(`${s.url}/registries`);
    await page.waitForURL(/\/sign-in$/);
  });

  it('shows a viewer no write buttons', async () => {
    const v = await openBrowser();
    try {
      const p = v.page;
      await p.goto(`${s.url}/sign-in`);
      await p.getByLabel('Username').fill(VIEWER.username);
      await p.locator('input[name=password]').fill(VIEWER.password);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('table', { name: 'Registries' }).getByText('demo', { exact: true }).waitFor();
      const writes = /^(Create registry|Delete registry.*|Delete image.*|Delete artifact|Create tag|Delete tag.*|Add user)$/;
      expect(await p.getByRole('button', { name: writes }).count()).toBe(0);
      expect(await p.getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await p.getByRole('link', { name: 'Garbage collection' }).count()).toBe(0);
      await v.shot('21-viewer-registries');

      await p.goto(`${s.url}/registries/demo/images/hello?digest=${encodeURIComponent(image.manifestDigest)}`);
      await p.getByRole('table', { name: 'Tags' }).getByText('1.0', { exact: true }).waitFor();
      expect(await p.getByRole('button', { name: writes }).count()).toBe(0);
      await v.shot('22-viewer-artifact');

      await p.goto(`${s.url}/registries/demo/settings`);
      await p.getByRole('heading', { name: 'General' }).waitFor();
      expect(await p.getByRole('button', { name: writes }).count()).toBe(0);
      expect(v.errors).toEqual([]);
    } finally {
      await v.close();
    }
  });

  it('logged no errors in the browser', () => {
    expect(b.errors).toEqual([]);
  });
});
