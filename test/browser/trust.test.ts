/**
 * Image trust in the console, in Debian's chromium: an image signed with `ncr sign` shows "Signed, unverified" until
 * its public key is added in the Image Trust tab, then "Verified (release)"; an unsigned one shows Unsigned; the
 * artifact's Signatures tab lists the signature and its key; the pull policy switch refuses unsigned pulls.
 * Screenshots go to test-output/screenshots/trust-*.png.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-inprocess.js';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type BrowserSession, ensureConsoleBuilt, openBrowser, signIn } from './browser.js';

describe.skipIf(process.env.NCR_SKIP_BROWSER === '1')('image trust in the console (chromium)', { timeout: 120_000 }, () => {
  let s: TestServer;
  let b: BrowserSession;
  let page: Page;
  let work: string;
  let signed: { digest: string };
  let plain: { digest: string };

  beforeAll(async () => {
    ensureConsoleBuilt();
    s = await startServer({ db: 'sqlite' });
    work = await mkdtemp(join(tmpdir(), 'ncr-browser-trust-'));
    expect((await s.api('POST', '/api/v1/registries', { name: 'secure' })).status).toBe(201);
    const c = new OciClient(s.url, s.admin);
    signed = await c.pushImage('secure/app', 'release-1', 'browser-signed');
    plain = await c.pushImage('secure/app', 'nightly', 'browser-plain');
    const env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey, COSIGN_PASSWORD: 'pw' };
    expect((await runCli(['generate-key-pair'], env, work)).code).toBe(0);
    const sign = await runCli(['sign', '--key', 'cosign.key', 'secure/app:release-1'], env, work);
    expect(sign.code, sign.stderr).toBe(0);
    b = await openBrowser();
    page = b.page;
    await signIn(page, s.url, 'admin', s.admin.password);
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const artifactsTable = () => page.getByRole('table', { name: 'Artifacts' });
  const rowOf = (tag: string) => artifactsTable().getByRole('row').filter({ hasText: tag });

  it('shows Signed, unverified and Unsigned in the Authentication column', async () => {
    await page.goto(`${s.url}/registries/secure/images/app`);
    await artifactsTable().waitFor();
    await rowOf('release-1').getByLabel('Authentication: Signed, unverified').waitFor();
    await rowOf('nightly').getByLabel('Authentication: Unsigned').waitFor();
    await b.shot('trust-01-artifacts-unverified');
  });

  it('adds the public key in the Image Trust tab; the signed artifact then shows Verified (release)', async () => {
    await page.goto(`${s.url}/registries/secure/trust`);
    await page.getByRole('button', { name: 'Add public key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add public key' });
    await dialog.getByLabel('Name').fill('release');
    await dialog.getByLabel('Public key (PEM)').fill('not a key');
    await dialog.getByRole('button', { name: 'Add key' }).click();
    await dialog.getByText(/BEGIN PUBLIC KEY/).first().waitFor();
    await b.shot('trust-02-add-key-invalid');
    await dialog.getByLabel('Public key (PEM)').fill(await readFile(join(work, 'cosign.pub'), 'utf8'));
    await dialog.getByRole('button', { name: 'Add key' }).click();
    await page.getByRole('table', { name: 'Public keys' }).getByText('release', { exact: true }).waitFor();
    expect(await page.getByRole('table', { name: 'Public keys' }).innerText()).toContain('ECDSA P-256');
    await b.shot('trust-03-keys');

    await page.goto(`${s.url}/registries/secure/images/app`);
    await rowOf('release-1').getByLabel('Authentication: Verified (release)').waitFor();
    await rowOf('nightly').getByLabel('Authentication: Unsigned').waitFor();
    await b.shot('trust-04-artifacts-verified');
  });

  it("lists the signature and its key in the artifact's Signatures tab", async () => {
    await page.goto(`${s.url}/registries/secure/images/app?digest=${encodeURIComponent(signed.digest)}`);
    await page.getByRole('region', { name: 'Artifact detail' }).waitFor();
    await page.getByRole('tab', { name: 'Signatures' }).click();
    const table = page.getByRole('table', { name: 'Signatures' });
    await table.waitFor();
    expect(await table.innerText()).toMatch(/cosign[\s\S]*Verified \(release\)[\s\S]*release/);
    await b.shot('trust-05-signatures');
  });

  it('the pull policy switch makes unsigned pulls fail with a message naming the key', async () => {
    await page.goto(`${s.url}/registries/secure/trust`);
    const toggle = page.getByRole('switch', { name: 'Only verified images can be pulled' });
    await expect.poll(() => toggle.isEnabled()).toBe(true); // enabled once the current policy is loaded
    await toggle.click({ force: true }); // a controlled switch: it shows the saved policy once the server has it
    await page.getByText('Only images with a verified signature can be pulled now.').waitFor();
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await b.shot('trust-06-policy-on');
    const c = new OciClient(s.url, s.admin);
    const refused = await c.req('GET', `/v2/secure/app/manifests/${plain.digest}`);
    expect(refused.status).toBe(412);
    expect(await refused.text()).toContain("one of the registry's keys (release)");
    expect((await c.req('GET', `/v2/secure/app/manifests/${signed.digest}`)).status).toBe(200);
    expect(b.errors).toEqual([]);
  });
});
