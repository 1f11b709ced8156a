// The comparison report of the course's five networks (examples/course-sweep.yaml:
// four CNNs and a 3-layer MLP) on MNIST, opened in a real headless Chromium:
// no console errors, no network requests, every chart and image visible (top-3
// images of every run, activation maps of every CNN), the
// table sorts; a screenshot is kept in test-artifacts/ for a person to look at.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convkit } from '../helpers/sweep.js';
import { chromium, inChromium } from '../helpers/browser.js';

const dataDir = process.env.CONVKIT_DATA;
const haveMnist = Boolean(dataDir && existsSync(join(dataDir, 'mnist', 'train-images-idx3-ubyte.gz')));
if (!haveMnist) console.warn('skipping the course comparison report: MNIST is not in $CONVKIT_DATA');
if (!chromium) console.warn('skipping the browser half of the course comparison report: no /usr/bin/chromium (apt-get install chromium)');

describe.skipIf(!haveMnist)('the comparison report of the course\'s five networks', () => {
  it('compares them side by side, and shows in a browser with everything visible', async () => {
    const out = mkdtempSync(join(tmpdir(), 'course-'));
    const r = convkit(['sweep', 'examples/course-sweep.yaml', '--epochs', '2', '--limit', '4000', '--data-dir', dataDir!, '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).rows as { name: string; testAccuracy: number }[];
    expect(rows.map((row) => row.name)).toEqual(['0-model=mnist-2layer', '1-model=mnist-3layer', '2-model=mnist-gap', '3-model=lenet5', '4-model=mlp-3layer']);
    // Two short epochs of 4,000 images: 92–96% here; the GAP network learns slowest (about 75%).
    for (const row of rows) expect(row.testAccuracy, row.name).toBeGreaterThan(row.name.endsWith('mnist-gap') ? 0.6 : 0.88);
    // `convkit report` on the sweep writes the same page the sweep wrote.
    const again = convkit(['report', out, '--output', join(out, 'again.html'), '--data-dir', dataDir!, '--quiet']);
    expect(again.status, again.stderr).toBe(0);
    const file = join(out, 'report.html');
    const html = readFileSync(file, 'utf8');
    const strip = (page: string) => page.replace(/<title>.*?<\/title>|<h1>.*?<\/h1>/g, '');
    expect(strip(readFileSync(join(out, 'again.html'), 'utf8'))).toBe(strip(html));
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing fetched
    expect((html.match(/<img /g) ?? []).length).toBe(5 * 10 * 3 + 10 + 4 * 10); // each run's top-3 per class, the sample, each CNN's maps of it
    expect(html).toContain('no convolution: an MLP has no activation map');

    if (!chromium) return;
    const seen = await inChromium(file, 'test-artifacts/comparison.png', async (page, { images, charts }) => {
      expect(images).toHaveLength(200);
      for (const img of images) {
        expect(img.ok).toBe(true);
        expect(img.w).toBeGreaterThan(0);
        expect(img.h).toBeGreaterThan(0);
      }
      expect(charts.length).toBe(2 + 5); // loss and accuracy curves, five confusion matrices
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(100);
        expect(c.h).toBeGreaterThan(100);
        expect(c.marks).toBeGreaterThan(10);
      }
      for (const locator of ['table.runs', 'table.per-class', 'table.top', 'table.cams', 'h2:text("Top-3 images per class")', 'h2:text("Class activation maps")']) {
        expect(await page.locator(locator).first().isVisible(), locator).toBe(true);
      }
      // The table sorts by a column: test accuracy, descending on the second click.
      const accuracy = page.locator('table.runs th', { hasText: 'test accuracy' });
      await accuracy.click();
      await accuracy.click();
      const sorted = await page.$$eval('table.runs tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
      expect(sorted).toEqual([...rows].sort((a, b) => b.testAccuracy - a.testAccuracy).map((row) => row.name));
    });
    expect(seen.problems).toEqual([]);
    expect(seen.offline).toBe(true);
    expect(existsSync('test-artifacts/comparison.png')).toBe(true);
  });
});
