// Debian's Chromium for billing's browser tests: where it is, a test that fails in CI and skips locally
// (saying what is missing) without it, and a launch and pages that give a loaded machine time.
import { existsSync, statSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starting Chromium or loading a page takes ~1 s idle; puppeteer's 30 s default failed at load 20-30. */
const LOADED_MACHINE_MS = 90_000;

/** Locally a missing Chromium skips the browser test, saying so; in CI (CI=true) it fails it. */
export function chromiumIt(what: string): jest.It {
  if (existsSync(chromium)) return it;
  const missing = `no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true')
    return ((name: string) =>
      it(name, () => {
        throw new Error(missing);
      })) as unknown as jest.It;
  console.warn(`SKIPPED: ${what} — ${missing}`);
  return it.skip;
}

export function launchChromium(args: string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    timeout: LOADED_MACHINE_MS,
    protocolTimeout: LOADED_MACHINE_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', ...args],
  });
}

/** A new tab the size of a phone, sending `headers` with every request. */
export async function phonePage(browser: Browser, headers: Record<string, string>): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(LOADED_MACHINE_MS);
  await page.setViewport({ width: 390, height: 844, isMobile: true, deviceScaleFactor: 1 });
  await page.setExtraHTTPHeaders(headers);
  return page;
}

/** An element's rendered text (tests compile without the DOM library, hence the structural type). */
export async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.$eval(selector, (e) => (e as unknown as { innerText: string }).innerText)).trim();
}

/** Clicks what navigates (a link, a form's button) and waits for the next page to load. */
export async function follow(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
}

/** A full-page screenshot into `file`, which must hold a rendered page (over 5 kB), not a blank one. */
export async function screenshot(page: Page, file: string): Promise<void> {
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size).toBeGreaterThan(5_000);
}
