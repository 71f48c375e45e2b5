import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * The console page in Debian's headless chromium (playwright-core pointed at it; never a
 * downloaded browser), as the browser tests and `npm run bench -- console` open it.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM });

/** Opens `url` in a new page and waits until app.js says it is ready; `errors` collects the page's uncaught errors. */
export async function openConsolePage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}
