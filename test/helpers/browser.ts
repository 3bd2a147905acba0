import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's Chromium, installed by scripts/bootstrap.sh: playwright-core downloads no browser of its own. */
export const chromiumPath = '/usr/bin/chromium';

/** A headless Chromium; close it after the tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

/**
 * A browser context whose requests never leave loopback: a page asking for a resource off the machine (the board
 * does) must not slow or break a test, and a page that needs one shows it by failing.
 */
export async function loopbackContext(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
  hosts: readonly string[] = ['127.0.0.1'],
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(10_000);
  await context.route(
    (url) => !hosts.includes(url.hostname),
    (route) => route.abort(),
  );
  return context;
}
