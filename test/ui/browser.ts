/** One headless Debian Chromium per test file (playwright-core), as CI runs it. */
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Playwright gives every launch a fresh temporary profile (user-data dir) and removes it on close. */
export async function launchChromium(): Promise<{ newContext(colorScheme?: 'light' | 'dark'): Promise<BrowserContext>; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    newContext: (colorScheme = 'light') => browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } }),
    close: () => browser.close(),
  };
}

/** Opens `path` (a page that asks for sign-in), signs in with an API token and waits for the dashboard's home. */
export async function signIn(context: BrowserContext, base: string, token: string, path = '/ui/items'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/ui`);
  return page;
}
