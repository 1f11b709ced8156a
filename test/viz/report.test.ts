// The HTML report in a real headless Chromium (Debian's chromium driven by
// playwright-core): it loads with no console errors, works offline, every
// image and chart is present and visible; a screenshot is kept in
// test-artifacts/ for a person to look at.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, Tensor, zooModel } from '../../lib/index.js';
import { writeReport } from '../../lib/viz/report.js';
import { rng } from '../helpers/random.js';
import { chromium, inChromium } from '../helpers/browser.js';

const haveMnist = Boolean(process.env.CONVKIT_DATA && existsSync(join(process.env.CONVKIT_DATA, 'mnist', 'train-images-idx3-ubyte.gz')));
if (!chromium) console.warn('skipping the browser test of the report: no /usr/bin/chromium (apt-get install chromium)');

/** Synthetic "digits": class c lights a bar at row 2c+4, so a small model learns it fast. */
function bars(n: number, seed: number) {
  const random = rng(seed);
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    y[i] = c;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = random() * 0.1;
    for (let col = 4; col < 24; col++) x[i * 784 + (2 * c + 4) * 28 + col] = 1;
  }
  return { x: new Tensor(x, [n, 28, 28, 1]), y };
}

describe('the HTML report', () => {
  it('is one self-contained file with every section, and SVG curves beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const model = zooModel('mnist-gap', { seed: 1 });
    // Real digits when the data is at hand, so the screenshot shows a real model; synthetic bars otherwise.
    const mnist = haveMnist ? await data.loadDataset('mnist', { log: () => {} }) : null;
    const train = mnist ? { x: new Tensor(mnist.train.x.data.subarray(0, 6000 * 784), [6000, 28, 28, 1]), y: mnist.train.y.subarray(0, 6000) } : bars(600, 1);
    const test = mnist ? { x: new Tensor(mnist.test.x.data.subarray(0, 500 * 784), [500, 28, 28, 1]), y: mnist.test.y.subarray(0, 500) } : bars(60, 2);
    const history = await model.fit(train.x, train.y, { epochs: 3, batchSize: 32, verbose: 0, validation: 0.2, learningRate: 0.003 });
    const classes = Array.from({ length: 10 }, (_, i) => String(i));
    const title = `mnist-gap on ${mnist ? 'MNIST (6,000 training images)' : 'synthetic bars'}`;
    const files = await writeReport(join(dir, 'report.html'), { title, model, history, settings: { epochs: 3, batchSize: 32, learningRate: 0.003 }, classes, test }, { svgDir: dir });
    if (mnist) expect(model.evaluate(test.x, test.y).accuracy).toBeGreaterThan(0.8);
    expect(files.svgs.map((f) => f.split('/').pop())).toEqual(['loss-per-iteration.svg', 'loss-per-epoch.svg', 'accuracy-per-epoch.svg', 'confusion-matrix.svg', 'per-class-accuracy.svg']);
    const html = readFileSync(files.html, 'utf8');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="http/); // nothing fetched
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect((html.match(/<img /g) ?? []).length).toBe(30 + 10); // top-3 per class and one CAM per class
    expect(html).toContain('Model: &quot;mnist-gap&quot;');

    if (!chromium) return;
    const seen = await inChromium(files.html, 'test-artifacts/report.png', async (page, { images, charts }) => {
      expect(images.length).toBe(40);
      for (const img of images) {
        expect(img.ok).toBe(true);
        expect(img.w).toBeGreaterThan(0);
        expect(img.h).toBeGreaterThan(0);
      }
      expect(charts.length).toBeGreaterThanOrEqual(5);
      for (const c of charts) {
        expect(c.w).toBeGreaterThan(100);
        expect(c.h).toBeGreaterThan(100);
        expect(c.marks).toBeGreaterThan(10);
      }
      for (const locator of ['h2:text("Top-3 images per class")', 'h2:text("Class activation maps")', 'table.per-class']) {
        expect(await page.locator(locator).first().isVisible()).toBe(true);
      }
    });
    expect(seen.problems).toEqual([]);
    expect(seen.offline).toBe(true);
    expect(existsSync('test-artifacts/report.png')).toBe(true);
  });
});
