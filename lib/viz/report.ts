import { checkOptions } from '../core/check.js';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { confusionMatrix, perClassAccuracy, topKPerClass, worstClass, type ClassAccuracy, type ScoredExample } from '../nn/metrics.js';
import type { Model } from '../models/model.js';
import type { TestTimeAugmentation } from '../models/train-options.js';
import { GlobalAvgPool2D } from '../nn/layers/pool.js';
import type { Tensor } from '../core/tensor.js';
import type { History } from '../models/train.js';
import { writeFileAtomic } from '../formats/atomic.js';
import { classActivationMap } from './cam.js';
import { classLabel, confusionChart, epochChart, iterationLossChart, perClassChart } from './charts.js';
import { dataUri, grayPng, overlayPng } from './png.js';
import { esc } from './svg.js';

/** What a report is made from: a trained model, its history and test data. */
export interface ReportInput {
  title: string;
  model: Model;
  history: History;
  settings: Record<string, unknown>;
  classes: readonly string[];
  test: { x: Tensor; y: ArrayLike<number> };
  dataSource?: string;
}

/** Test-set results the report, the TensorBoard images and the CLI summary share. */
export interface Analysis {
  accuracy: number;
  /** Mean cross-entropy of the true classes (the training loss, on the test set). */
  loss: number;
  matrix: number[][];
  perClass: ClassAccuracy[];
  worst: ClassAccuracy;
  top: ScoredExample[][];
  /** Thumbnails (PNG) of the top examples, by class then rank. */
  topImages: Uint8Array[][];
  /** CAM overlays of each class's top example, when the model ends in GlobalAvgPool2D → Dense. */
  cams: (Uint8Array | null)[] | null;
}

const SCALE = 3;

/** One image of a batch x [N, H, W, C] as gray floats (channels averaged) with its size. */
export function grayImage(x: Tensor, index: number): { pixels: Float32Array; width: number; height: number } {
  const [, height, width, channels] = x.shape;
  const size = height * width;
  const pixels = new Float32Array(size);
  const base = index * size * channels;
  for (let p = 0; p < size; p++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += x.data[base + p * channels + c];
    pixels[p] = sum / channels;
  }
  return { pixels, width, height };
}

/**
 * A model's metrics on (x, y): confusion matrix, per-class accuracy, top-k examples per class;
 * tta 'flip' scores each image by the mean logits of it and its mirror (see PredictOptions).
 * @example
 * ```ts
 * import { analyze } from 'convkit';
 * const a = analyze(model, test.x, test.y, ['0','1','2','3','4','5','6','7','8','9']);
 * ```
 */
export function analyze(model: Model, x: Tensor, y: ArrayLike<number>, classes: readonly string[], k = 3, batchSize = 256, tta: TestTimeAugmentation = 'none'): Analysis {
  const probs = model.predict(x, { batchSize, tta });
  const units = model.outputUnits;
  // A one-output (sigmoid) model scores two classes: 1 - p and p.
  const scores = units === 1 ? Float32Array.from({ length: probs.size * 2 }, (_, i) => (i % 2 ? probs.data[i >> 1] : 1 - probs.data[i >> 1])) : probs.data;
  const count = Math.max(units, 2);
  const predicted = Int32Array.from({ length: y.length }, (_, i) => {
    let best = 0;
    for (let c = 1; c < count; c++) if (scores[i * count + c] > scores[i * count + best]) best = c;
    return best;
  });
  let loss = 0;
  for (let i = 0; i < y.length; i++) loss -= Math.log(Math.max(scores[i * count + y[i]], 1e-30));
  loss /= Math.max(y.length, 1);
  const matrix = confusionMatrix(y as Int32Array, predicted, count);
  const perClass = perClassAccuracy(matrix, classes);
  const top = topKPerClass(scores, count, y, k);
  const topImages = top.map((examples) => examples.map((e) => {
    const g = grayImage(x, e.index);
    return grayPng(g.pixels, g.width, g.height, SCALE);
  }));
  const hasGap = model.layers.some((l) => l instanceof GlobalAvgPool2D);
  const cams = hasGap
    ? top.map((examples, c) => {
        if (!examples.length) return null;
        const e = examples[0];
        const [, h, w, ch] = x.shape;
        const image = x.data.subarray(e.index * h * w * ch, (e.index + 1) * h * w * ch);
        const map = classActivationMap(model, new (x.constructor as typeof Tensor)(image, [h, w, ch]), c);
        const g = grayImage(x, e.index);
        return overlayPng(g.pixels, map.data, g.width, g.height, SCALE);
      })
    : null;
  return { accuracy: perClass.reduce((n, c) => n + c.correct, 0) / y.length, loss, matrix, perClass, worst: worstClass(perClass), top, topImages, cams };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The files `writeReport` wrote. */
export interface ReportFiles {
  html: string;
  svgs: string[];
}

/**
 * Writes a self-contained HTML report (charts as inline SVG, images as
 * data URIs; nothing is fetched) and, when
 * svgDir is given, the curves as standalone SVG files.
 */
export async function writeReport(path: string, input: ReportInput, options: { svgDir?: string; analysis?: Analysis } = {}): Promise<ReportFiles> {
  checkOptions(options, ['svgDir', 'analysis'], 'writeReport');
  checkOptions(input, ['title', 'model', 'history', 'settings', 'classes', 'test', 'dataSource'], 'writeReport', 'input');
  const { model, history, classes } = input;
  const a = options.analysis ?? analyze(model, input.test.x, input.test.y, classes);
  const charts: [string, string][] = [];
  if (history.iterationLoss.length) charts.push(['loss-per-iteration', iterationLossChart(history)]);
  if (history.epochs.length) {
    charts.push(['loss-per-epoch', epochChart(history, 'loss')]);
    charts.push(['accuracy-per-epoch', epochChart(history, 'accuracy')]);
  }
  const confusion = confusionChart(a.matrix, classes);
  const perClass = perClassChart(a.perClass);
  const svgs: string[] = [];
  if (options.svgDir) {
    mkdirSync(options.svgDir, { recursive: true });
    for (const [name, svg] of [...charts, ['confusion-matrix', confusion], ['per-class-accuracy', perClass]] as [string, string][]) {
      const file = join(options.svgDir, `${name}.svg`);
      writeFileAtomic(file, new TextEncoder().encode(svg));
      svgs.push(file);
    }
  }
  const figure = (svg: string, caption: string) => `<figure class="chart">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
  const settingsRows = Object.entries(input.settings).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`).join('');
  const topCards = a.top.map((examples, c) => `<div class="card"><div class="card-title">${esc(classLabel(c, classes[c]))}</div><div class="row">${examples.map((e, r) => `<figure><img src="${dataUri(a.topImages[c][r])}" alt="class ${c} example ${r + 1}" width="84" height="84"><figcaption>${pct(e.probability)}${e.trueClass !== c ? ` <span class="wrong">(is ${esc(classLabel(e.trueClass, classes[e.trueClass]))})</span>` : ''}</figcaption></figure>`).join('')}</div></div>`).join('');
  const camSection = a.cams
    ? `<div class="grid">${a.cams.map((png, c) => (png ? `<figure><img src="${dataUri(png)}" alt="class activation map for class ${c}" width="84" height="84"><figcaption>${esc(classLabel(c, classes[c]))}</figcaption></figure>` : '')).join('')}</div>`
    : `<p>Class activation maps need a network that ends in GlobalAvgPool2D → Dense (for example the zoo's <code>mnist-gap</code>); ${esc(model.name)} does not.</p>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.charts,.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0}figcaption{font-size:12px;color:#555}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;vertical-align:top}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:6px 8px}.card-title{font-weight:600;margin-bottom:4px}
.row{display:flex;gap:6px}.top figcaption{text-align:center}.grid img{image-rendering:pixelated;border:1px solid #ccc}
.wrong{color:#c00}.big{font-size:20px;font-weight:600}pre{background:#f6f6f6;padding:8px;overflow:auto}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="big">Test accuracy ${pct(a.accuracy)}</p>
<p>Worst class: ${esc(classLabel(a.worst.class, a.worst.name))} at ${pct(a.worst.accuracy)}.${input.dataSource ? ` Data: ${esc(input.dataSource)}.` : ''}</p>
<h2>Training</h2><div class="charts">${charts.map(([name, svg]) => figure(svg, name.replace(/-/g, ' '))).join('')}</div>
<h2>Test results</h2><div class="charts">${figure(confusion, 'confusion matrix')}${figure(perClass, 'per-class accuracy')}</div>
<table class="per-class"><tr><th>class</th><th>accuracy</th><th>correct</th></tr>${a.perClass.map((c) => `<tr><td>${esc(classLabel(c.class, c.name))}</td><td>${pct(c.accuracy)}</td><td>${c.correct}/${c.total}</td></tr>`).join('')}</table>
<h2>Top-3 images per class</h2><p>The test images the model gives the highest probability for each class.</p>
<div class="grid top">${topCards}</div>
<h2>Class activation maps</h2>${camSection}
<h2>Model</h2><pre>${esc(model.summary())}</pre>
<h2>Settings</h2><table class="settings">${settingsRows}</table>
</body></html>
`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new TextEncoder().encode(html));
  return { html: path, svgs };
}
