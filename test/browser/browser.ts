/**
 * Debian's chromium driven by playwright-core (never a downloaded browser): a fresh profile per session, screenshots
 * under test-output/screenshots/, and the built console (web/dist), built first when missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.NCR_CHROMIUM ?? '/usr/bin/chromium';
export const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds web/dist (vite) unless it is there already; the server serves whatever web/dist holds. */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console errors and uncaught exceptions seen so far (network 401s excluded: the console expects those) */
  errors: string[];
  /** Saves a screenshot as test-output/screenshots/<name>.png and returns its path. */
  shot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** A browser with its own fresh profile (so its own cookies), at the given viewport. */
export async function openBrowser(viewport = { width: 1280, height: 860 }): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does this when run as root)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'ncr-chromium-'));
  // Playwright wants the profile directory as an argument, not as --user-data-dir: it adds that flag itself.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport, timeout: 60_000 });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return {
    context,
    page,
    errors,
    async shot(name, opts = {}) {
      const path = join(SCREENSHOTS, `${name}.png`);
      // Let transitions (modals, notifications) settle first.
      await page.waitForTimeout(350);
      await page.screenshot({ path, fullPage: opts.fullPage ?? true });
      return path;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on the console's sign-in page and waits for the Registries page it lands on. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Registries', exact: true }).waitFor();
}
