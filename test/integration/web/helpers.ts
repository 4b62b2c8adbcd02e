/**
 * The web app in Debian's Chromium for the end-to-end tests: signing in through the page,
 * screenshots of each screen into test/out/web-screens/ (ignored by git; CI keeps them as
 * artifacts), and a check that a page logged no console error.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/server.js';

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test/out/web-screens');

/** Saves a screenshot of the page at 1280×800 (and at tablet width when asked). */
export async function screenshot(page: Page, name: string, tablet = false): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  if (tablet) {
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, `${name}-tablet.png`),
      fullPage: true,
    });
    await page.setViewportSize({ width: 1280, height: 800 });
  }
}

/**
 * Console errors and uncaught exceptions of a page, collected from now on. The browser
 * itself logs every 4xx answer to a fetch; the 401s of /v1/session are the API saying
 * "not signed in" or "wrong password", as designed, and are left out.
 */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    if (/\/v1\/session$/.test(url) && m.text().includes('status of 401')) return;
    errors.push(`${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Opens the app at `base` (with `query`, e.g. ?processing=off), signs in through the form,
 * waits for the home screen. */
export async function signIn(
  page: Page,
  base: string,
  extension: string,
  password: string,
  query = '',
) {
  await page.goto(`${base}/${query}`);
  await page.getByLabel('Extension').fill(extension);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('me').waitFor({ timeout: 10000 });
}
