/**
 * The Image Cleanup and Image Protection tabs end to end, in Debian's chromium against a real server on SQLite (as
 * console.test.ts): two images pushed over HTTP, a protection and a cleanup policy added through their dialogs, a
 * policy disabled and enabled again, a test run whose details show KEEP, DELETE and PROTECTED, a real run that deletes
 * exactly the DELETE artifact, a cleanup cycle with its next run time, and a viewer who sees it all but changes
 * nothing. Screenshots go to test-output/screenshots/policies-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

const VIEWER = { username: 'vic', password: 'viewer-password-2' };
const REG = 'shop';

describe.skipIf(process.env.NCR_SKIP_BROWSER === '1')('cleanup and protection tabs in chromium', { timeout: 120_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    ensureConsoleBuilt();
    s = await startServer({ db: 'sqlite' });
    expect((await s.api('POST', '/api/v1/registries', { name: REG })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/users', { username: VIEWER.username, role: 'viewer', password: VIEWER.password })).status).toBe(201);
    // Oldest first: per image, the newest push is the one "keep the most recently pushed" keeps.
    const oci = new OciClient(s.url, s.admin);
    for (const [image, tag] of [
      ['web', '1.0'],
      ['api', 'release-1'],
      ['web', '2.0'],
      ['api', 'dev-2'],
    ]) {
      digests[`${image}:${tag}`] = (await oci.pushImage(`${REG}/${image}`, tag, `${image}-${tag}`)).digest;
      await new Promise((r) => setTimeout(r, 20));
    }
    b = await openBrowser();
    page = b.page;
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
  });

  const button = (name: string | RegExp) => page.getByRole('button', { name });
  const api = (path: string) => s.api('GET', `/api/v1/registries/${REG}${path}`);
  const runRows = () => page.getByRole('table', { name: 'Artifacts of the run' }).getByRole('row');
  /** Closes the corner's notifications, so that screenshots show what they cover. */
  const quiet = async () => {
    for (const close of await page.locator('.mantine-Notification-closeButton').all()) await close.click().catch(() => undefined);
    await page.locator('.mantine-Notification-root').first().waitFor({ state: 'detached' }).catch(() => undefined);
    // a full-page screenshot of a scrolled page draws the sticky header mid-page
    await page.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
  };
  const verdictOf = async (tag: string) => (await runRows().filter({ hasText: tag }).getAttribute('data-verdict')) ?? '';

  it('signs in and opens the Image Protection tab', async () => {
    await signIn(page, s.url, 'admin', s.admin.password);
    await page.goto(`${s.url}/registries/${REG}`);
    await page.getByRole('tab', { name: 'Image Protection' }).click();
    await page.waitForURL(new RegExp(`/registries/${REG}/protection$`));
    await page.getByText('No protection policies').waitFor();
    await b.shot('policies-01-protection-empty');
  });

  it('adds a protection policy through the dialog', async () => {
    await button('Add Protection Policy').click();
    const dialog = page.getByRole('dialog', { name: 'Add Protection Policy' });
    expect(await dialog.getByRole('textbox', { name: 'Image pattern' }).inputValue()).toBe('**');
    await dialog.getByRole('textbox', { name: 'Tag pattern' }).fill('release-(');
    await dialog.getByRole('radiogroup', { name: 'Tag pattern syntax' }).getByText('Regex').click();
    await dialog.getByText('Not a valid regular expression.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Add policy' }).isDisabled()).toBe(true);
    await dialog.getByRole('radiogroup', { name: 'Tag pattern syntax' }).getByText('Glob').click();
    await dialog.getByRole('textbox', { name: 'Tag pattern' }).fill('release-*');
    await b.shot('policies-02-add-protection', { fullPage: false });
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    const table = page.getByRole('table', { name: 'Protection policies' });
    await table.getByText('release-*').waitFor();
    const listed = await api('/protection-policies');
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ enabled: true, imageFilter: { pattern: '**', syntax: 'glob', mode: 'matching' }, tagFilter: { pattern: 'release-*', syntax: 'glob', mode: 'matching', untagged: false } });

    // the same again is a duplicate: the server's refusal shows in the dialog
    await button('Add Protection Policy').click();
    await dialog.getByRole('textbox', { name: 'Tag pattern' }).fill('release-*');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await dialog.getByRole('alert').innerText()).toMatch(/already|duplicate|same/i);
    await b.shot('policies-03-protection-duplicate', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await b.shot('policies-04-protection');
  });

  it('adds a cleanup policy, and disables and enables it', async () => {
    await page.getByRole('tab', { name: 'Image Cleanup' }).click();
    await page.waitForURL(new RegExp(`/registries/${REG}/cleanup$`));
    await page.getByRole('tab', { name: 'Policy Setting' }).waitFor();
    await page.getByText(/Only artifacts in images a policy's image filter matches are touched\./).waitFor();
    await page.getByText('No cleanup policies').waitFor();
    expect(await button('Test Run').isDisabled()).toBe(true);

    await button('Add Cleanup Policy').click();
    const dialog = page.getByRole('dialog', { name: 'Add Cleanup Policy' });
    await dialog.getByRole('textbox', { name: 'What to keep' }).or(dialog.getByRole('combobox', { name: 'What to keep' })).click();
    await page.getByRole('option', { name: /most recently pushed/ }).click();
    await dialog.getByLabel('Number of artifacts').fill('1');
    await dialog.getByText('In every image, this policy selects every tagged artifact; it keeps the most recently pushed (per image) and deletes the rest.').waitFor();
    await b.shot('policies-05-add-cleanup', { fullPage: false });
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    const table = page.getByRole('table', { name: 'Cleanup policies' });
    await table.getByText('Keep the most recently pushed').waitFor();
    let listed = await api('/cleanup-policies');
    expect(listed.body.items[0]).toMatchObject({ enabled: true, rule: { keep: 'latestPushed', n: 1 } });

    const toggle = table.getByRole('switch');
    await toggle.press('Space'); // the keyboard: the corner's notifications may cover the switch
    await table.getByText('Off', { exact: true }).waitFor();
    listed = await api('/cleanup-policies');
    expect(listed.body.items[0].enabled).toBe(false);
    expect(await button('Test Run').isDisabled()).toBe(true);
    await b.shot('policies-06-cleanup-disabled');
    await toggle.press('Space'); // the keyboard: the corner's notifications may cover the switch
    await table.getByText('On', { exact: true }).waitFor();
    listed = await api('/cleanup-policies');
    expect(listed.body.items[0].enabled).toBe(true);
    await quiet();
    await b.shot('policies-07-cleanup-policies');
  });

  it('test-runs: the history shows KEEP, DELETE and PROTECTED and nothing is deleted', async () => {
    await button('Test Run').click();
    await page.waitForURL(/view=history&run=/);
    const details = page.getByRole('region', { name: 'Run details' });
    await details.getByRole('heading', { name: 'Test run details' }).waitFor();
    await details.getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    await runRows().nth(4).waitFor();
    expect(await verdictOf('1.0')).toBe('DELETE');
    expect(await verdictOf('2.0')).toBe('KEEP');
    expect(await verdictOf('release-1')).toBe('PROTECTED');
    expect(await verdictOf('dev-2')).toBe('KEEP');
    expect(await runRows().filter({ hasText: 'release-1' }).innerText()).toMatch(/protection policy/);
    expect(await runRows().filter({ hasText: '1.0' }).innerText()).toMatch(/Would be deleted/);
    expect(await page.getByRole('table', { name: 'Cleanup history' }).innerText()).toMatch(/Test run[\s\S]*4 artifacts: 2 kept, 1 protected, 1 would be deleted/);
    await quiet();
    await b.shot('policies-08-test-run-details');
    expect((await s.api('GET', `/api/v1/registries/${REG}/images/web/tags`)).body.items.map((t: { name: string }) => t.name).sort()).toEqual(['1.0', '2.0']);
  });

  it('runs immediately: the DELETE artifact is gone, the protected one stays', async () => {
    await page.getByRole('tab', { name: 'Policy Setting' }).click();
    await button('Run Immediately').click();
    const confirm = page.getByRole('dialog', { name: 'Run cleanup now?' });
    await confirm.getByText(/use Test Run first/).waitFor();
    await b.shot('policies-09-run-confirm', { fullPage: false });
    await confirm.getByRole('button', { name: 'Run Immediately' }).click();
    await page.waitForURL(/view=history&run=/);
    const details = page.getByRole('region', { name: 'Run details' });
    await details.getByRole('heading', { name: 'Run details', exact: true }).waitFor();
    await details.getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    await runRows().filter({ hasText: '1.0' }).getByText('Deleted', { exact: true }).waitFor();
    expect(await verdictOf('release-1')).toBe('PROTECTED');
    expect(await page.getByRole('table', { name: 'Cleanup history' }).getByRole('row').count()).toBe(3);
    await quiet();
    await b.shot('policies-10-run-details');

    const tags = async (image: string) => (await s.api('GET', `/api/v1/registries/${REG}/images/${image}/tags`)).body.items.map((t: { name: string }) => t.name).sort();
    expect(await tags('web')).toEqual(['2.0']);
    expect(await tags('api')).toEqual(['dev-2', 'release-1']);
    await page.goto(`${s.url}/registries/${REG}/images/web`);
    const artifacts = page.getByRole('table', { name: 'Artifacts' });
    await artifacts.getByText('2.0', { exact: true }).waitFor();
    expect(await artifacts.getByText('1.0', { exact: true }).count()).toBe(0);
    expect(await artifacts.getByRole('row').count()).toBe(2);
    await b.shot('policies-11-image-after-run');
  });

  it('sets a cleanup cycle and shows the next run time', async () => {
    await page.goto(`${s.url}/registries/${REG}/cleanup`);
    const cycle = page.getByRole('region', { name: 'Cleanup Cycle Setting' });
    await cycle.getByText('No cycle is set').waitFor();
    await cycle.getByLabel('Cron expression (UTC)').fill('61 * * * *');
    await cycle.getByRole('button', { name: 'Set cycle' }).click();
    await cycle.getByRole('alert').waitFor();
    await cycle.getByLabel('Cron expression (UTC)').fill('0 3 * * *');
    await cycle.getByRole('button', { name: 'Set cycle' }).click();
    const current = cycle.getByTestId('cleanup-cycle-current');
    await current.getByText('0 3 * * * (UTC)').waitFor();
    await current.getByText(/03:00:00 UTC/).waitFor();
    const schedule = await api('/cleanup/schedule');
    expect(schedule.body.cron).toBe('0 3 * * *');
    expect(new Date(schedule.body.nextAt).getUTCHours()).toBe(3);
    await cycle.getByText('Coordinated Universal Time (UTC)', { exact: false }).waitFor();
    await quiet();
    await b.shot('policies-12-cleanup-cycle');
  });

  it('is usable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${s.url}/registries/${REG}/cleanup`);
      await page.getByRole('table', { name: 'Cleanup policies' }).waitFor();
      await b.shot('policies-13-phone-policies');
      await page.getByRole('tab', { name: 'View History' }).click();
      await page.getByRole('table', { name: 'Cleanup history' }).getByRole('button', { name: /^Test run of / }).click();
      await page.getByRole('table', { name: 'Artifacts of the run' }).waitFor();
      await b.shot('policies-14-phone-history');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it('shows a viewer the policies and the history, with no write controls', async () => {
    const v = await openBrowser();
    try {
      const p = v.page;
      await signIn(p, s.url, VIEWER.username, VIEWER.password);
      const writes = /^(Add (Cleanup|Protection) Policy|Delete (Cleanup|Protection) Policy.*|Test Run|Run Immediately|Set cycle|Change cycle|Remove cycle|Stop)$/;
      await p.goto(`${s.url}/registries/${REG}/cleanup`);
      await p.getByRole('table', { name: 'Cleanup policies' }).getByText('Keep the most recently pushed').waitFor();
      await p.getByText('0 3 * * * (UTC)').waitFor();
      expect(await p.getByRole('button', { name: writes }).count()).toBe(0);
      expect(await p.getByRole('switch').first().isDisabled()).toBe(true);
      await v.shot('policies-15-viewer-cleanup');
      await p.getByRole('tab', { name: 'View History' }).click();
      await p.getByRole('table', { name: 'Cleanup history' }).getByRole('button', { name: /^Run of / }).click();
      await p.getByRole('table', { name: 'Artifacts of the run' }).getByText('Deleted', { exact: true }).waitFor();
      await p.goto(`${s.url}/registries/${REG}/protection`);
      await p.getByRole('table', { name: 'Protection policies' }).getByText('release-*').waitFor();
      expect(await p.getByRole('button', { name: writes }).count()).toBe(0);
      await v.shot('policies-16-viewer-protection');
      expect(v.errors).toEqual([]);
    } finally {
      await v.close();
    }
  });

  it('deletes the policies after a confirmation', async () => {
    await page.goto(`${s.url}/registries/${REG}/protection`);
    await button(/^Delete Protection Policy /).click();
    let confirm = page.getByRole('dialog', { name: 'Delete protection policy?' });
    await confirm.getByText(/no longer protected/).waitFor();
    await b.shot('policies-17-delete-protection', { fullPage: false });
    await confirm.getByRole('button', { name: 'Delete Protection Policy' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByText('No protection policies').waitFor();
    expect((await api('/protection-policies')).body.items).toEqual([]);

    await page.getByRole('tab', { name: 'Image Cleanup' }).click();
    await button(/^Delete Cleanup Policy /).click();
    confirm = page.getByRole('dialog', { name: 'Delete cleanup policy?' });
    await confirm.getByRole('button', { name: 'Delete Cleanup Policy' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByText('No cleanup policies').waitFor();
    expect((await api('/cleanup-policies')).body.items).toEqual([]);
    // what cleanup did stays in the history
    await page.getByRole('tab', { name: 'View History' }).click();
    const history = page.getByRole('table', { name: 'Cleanup history' });
    await history.getByRole('button', { name: /^Run of / }).waitFor();
    expect(await history.getByRole('row').count()).toBe(3);
  });

  it('logged no errors in the browser', () => {
    expect(b.errors).toEqual([]);
  });
});
