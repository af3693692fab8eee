/** One headless Debian Chromium per test file (playwright-core), as CI runs it. */
import { chromium, type BrowserContext } from 'playwright-core';

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
