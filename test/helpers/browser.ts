// A page opened in Debian's headless Chromium (driven by playwright-core),
// recording what should never happen: console errors and warnings, page
// errors, and requests for anything but the file itself and data: URIs.
import { existsSync, mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';

export const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);

export interface Visible {
  images: { ok: boolean; w: number; h: number }[];
  charts: { w: number; h: number; marks: number }[];
}

/** Opens the file, runs check(page), then asserts nothing went wrong; keeps a full-page screenshot. */
export async function inChromium(file: string, screenshot: string, check: (page: Page, visible: Visible) => Promise<void>): Promise<{ problems: string[]; offline: boolean }> {
  const { chromium: launcher } = await import('playwright-core');
  const browser = await launcher.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ ok: i.complete && i.naturalWidth > 0, w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height })));
    const charts = await page.$$eval('svg', (svgs) => svgs.map((s) => ({ w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height, marks: s.querySelectorAll('path, rect, text').length })));
    await check(page, { images, charts });
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { problems, offline: requests.every((u) => u.startsWith('file:') || u.startsWith('data:')) };
  } finally {
    await browser.close();
  }
}
