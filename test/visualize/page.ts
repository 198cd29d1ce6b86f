/**
 * Driving the visualizer page in headless Chromium (playwright-core with the Debian package's
 * /usr/bin/chromium): launching, the page's console errors, and reading what it shows.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

/** A page that records its uncaught errors and console errors. */
export type WatchedPage = Page & { readonly errors: string[] };

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A 1440x900 page whose errors are collected in `errors`. */
export async function openPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return Object.assign(page, { errors });
}

/** Retries `check` until it passes (the page updates asynchronously over SSE). */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** `10:00:05.000`: how the page prints the server's clock. */
export const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** The trimmed text of the first element matching `selector`. */
export const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

/** The ids of the highlighted (current) states of the chart. */
export const current = (page: Page) => page.locator('#chart g.state.current').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-id')));

/** The event types of the timeline, newest first. */
export const timelineTypes = (page: Page) => page.locator('#timeline .tl-item').evaluateAll((li) => li.map((x) => x.getAttribute('data-type')));
