// Runs side by side, in one self-contained HTML page (inline SVG, images as
// data URIs, a few lines of inline script to sort the table; nothing is
// fetched): settings and final metrics, overlaid curves, confusion matrices,
// per-class accuracy, each run's top-3 test images per class, and class
// activation maps of every CNN on the same test images.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../formats/atomic.js';
import type { History } from '../models/train.js';
import { classLabel, confusionChart } from './charts.js';
import { dataUri } from './png.js';
import { esc, lineChart } from './svg.js';

/** One run as the comparison shows it. */
export interface ComparedRun {
  name: string;
  /** Settings shown in the table (model, optimizer, lr, ...). */
  settings: Record<string, unknown>;
  parameters: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  seconds: number | null;
  history: History | null;
  classes: readonly string[];
  confusionMatrix: number[][] | null;
  perClass: { class: number; name: string; accuracy: number }[] | null;
  /** Activation maps on the shared sample (PNG), or why there are none. */
  cams: { png: Uint8Array; predicted: number; trueClass: number }[] | string;
  /** Per class, the test images the run is surest belong to it (PNG), best first; null when its test set was not at hand. */
  top: { png: Uint8Array; probability: number; trueClass: number }[][] | null;
}

export interface ComparisonInput {
  title: string;
  runs: ComparedRun[];
  /** The sample the maps show: each image's true class, and the plain images (PNG). */
  sample: { images: Uint8Array[]; classes: number[] } | null;
  note?: string;
}

/** Distinct colours for up to 10 runs (Tableau 10), then repeating. */
const COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const color = (i: number) => COLORS[i % COLORS.length];
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
const fixed = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));

/** Metric per epoch, one line per run (train, or validation). */
function overlay(runs: ComparedRun[], metric: 'loss' | 'accuracy', validation: boolean): string | null {
  const series = runs.flatMap((r, i) => {
    const points = (r.history?.epochs ?? [])
      .map((e) => [e.epoch, validation ? (metric === 'loss' ? e.valLoss : e.valAccuracy) : e[metric]] as const)
      .filter((p): p is readonly [number, number] => typeof p[1] === 'number');
    return points.length ? [{ name: r.name, points, color: color(i), markers: points.length <= 30 }] : [];
  });
  if (!series.length) return null;
  return lineChart({
    title: `${validation ? 'Validation' : 'Training'} ${metric} per epoch`,
    width: 460,
    height: 240,
    xLabel: 'epoch',
    yLabel: metric,
    xIntegerTicks: true,
    yScale: metric === 'loss' ? 'log' : 'linear',
    yFormat: metric === 'accuracy' ? (v) => `${(v * 100).toFixed(1)}%` : undefined,
    series,
  });
}

const SORT_SCRIPT = `document.querySelectorAll('table.runs th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const asc = th.dataset.order !== 'asc';
  th.closest('tr').querySelectorAll('th').forEach((h) => delete h.dataset.order);
  th.dataset.order = asc ? 'asc' : 'desc';
  const key = (tr) => { const c = tr.children[col]; const n = Number(c.dataset.v ?? NaN); return Number.isNaN(n) ? c.textContent : n; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); }).forEach((tr) => body.appendChild(tr));
}));`;

function bestValidation(r: ComparedRun): number | null {
  const v = (r.history?.epochs ?? []).map((e) => e.valAccuracy).filter((a): a is number => typeof a === 'number');
  return v.length ? Math.max(...v) : null;
}

export function comparisonHtml(input: ComparisonInput): string {
  const { runs } = input;
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.settings)))];
  const cell = (v: unknown) => (v === undefined ? '<td>–</td>' : `<td${typeof v === 'number' ? ` data-v="${v}"` : ''}>${esc(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td>`);
  const num = (v: number | null, text: string) => `<td data-v="${v ?? ''}">${text}</td>`;
  const best = Math.max(...runs.map((r) => r.testAccuracy ?? -1));
  const rows = runs.map((r, i) => `<tr${r.testAccuracy === best ? ' class="best"' : ''}><td><span class="swatch" style="background:${color(i)}"></span>${esc(r.name)}</td>${keys.map((k) => cell(r.settings[k])).join('')}`
    + `${num(r.parameters, r.parameters?.toLocaleString('en-US') ?? '–')}${num(r.testAccuracy, pct(r.testAccuracy))}${num(r.testLoss, fixed(r.testLoss, 4))}`
    + `${num(bestValidation(r), pct(bestValidation(r)))}`
    + `${num(r.seconds, fixed(r.seconds, 1))}</tr>`).join('\n');
  const table = `<table class="runs"><thead><tr><th>run</th>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}<th>parameters</th><th>test accuracy</th><th>test loss</th><th>best val. accuracy</th><th>seconds</th></tr></thead><tbody>${rows}</tbody></table>`;
  const charts = [overlay(runs, 'loss', false), overlay(runs, 'accuracy', false), overlay(runs, 'loss', true), overlay(runs, 'accuracy', true)].filter((c): c is string => c !== null);
  const matrices = runs.map((r) => (r.confusionMatrix ? `<figure class="matrix"><figcaption>${esc(r.name)}: ${pct(r.testAccuracy)}</figcaption>${confusionChart(r.confusionMatrix, r.classes)}</figure>` : '')).join('');
  const classes = runs.find((r) => r.perClass)?.perClass ?? [];
  const perClass = classes.length
    ? `<table class="per-class"><thead><tr><th>class</th>${runs.map((r, i) => `<th><span class="swatch" style="background:${color(i)}"></span>${esc(r.name)}</th>`).join('')}</tr></thead><tbody>${classes.map((c) => {
        const values = runs.map((r) => r.perClass?.find((p) => p.class === c.class)?.accuracy ?? null);
        const top = Math.max(...values.map((v) => v ?? -1));
        return `<tr><td>${esc(classLabel(c.class, c.name))}</td>${values.map((v) => `<td${v === top ? ' class="best"' : ''}>${pct(v)}</td>`).join('')}</tr>`;
      }).join('')}</tbody></table>`
    : '<p>No per-class results recorded.</p>';
  const sample = input.sample;
  const camRows = sample
    ? `<table class="cams"><thead><tr><th></th>${sample.images.map((png, j) => `<th><img src="${dataUri(png)}" alt="test image ${j + 1}" width="72" height="72"><div>class ${sample.classes[j]}</div></th>`).join('')}</tr></thead><tbody>${runs.map((r) => `<tr><th>${esc(r.name)}</th>${
        typeof r.cams === 'string'
          ? `<td colspan="${sample.images.length}" class="none">${esc(r.cams)}</td>`
          : r.cams.map((c, j) => `<td><img src="${dataUri(c.png)}" alt="activation map of ${esc(r.name)} on test image ${j + 1}" width="72" height="72"><div class="${c.predicted === c.trueClass ? '' : 'wrong'}">says ${c.predicted}</div></td>`).join('')
      }</tr>`).join('')}</tbody></table>`
    : '<p>No test images at hand for the activation maps (give --data-dir).</p>';
  const withTop = runs.filter((r) => r.top);
  const topClasses = Math.max(0, ...withTop.map((r) => r.top!.length));
  const topTable = withTop.length
    ? `<table class="top"><thead><tr><th></th>${Array.from({ length: topClasses }, (_, c) => `<th>${esc(classLabel(c, withTop[0].classes[c]))}</th>`).join('')}</tr></thead><tbody>${withTop.map((r) => `<tr><th>${esc(r.name)}</th>${r.top!.map((examples, c) => `<td><div class="three">${examples.map((e, k) => `<figure><img src="${dataUri(e.png)}" alt="${esc(r.name)}: class ${c} example ${k + 1}" width="36" height="36"><figcaption class="${e.trueClass === c ? '' : 'wrong'}">${(e.probability * 100).toFixed(0)}%${e.trueClass === c ? '' : ` (${e.trueClass})`}</figcaption></figure>`).join('')}</div></td>`).join('')}</tr>`).join('')}</tbody></table>`
    : '<p>No test images at hand for the top images (give --data-dir).</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;vertical-align:middle}
table.runs th{cursor:pointer;user-select:none;border-bottom:1px solid #ccc}table.runs th[data-order=asc]::after{content:" ▲"}table.runs th[data-order=desc]::after{content:" ▼"}
tr.best td,td.best{font-weight:600}.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.charts,.matrices{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}figure{margin:0}figcaption{font-size:12px;color:#555}
.matrix svg{width:320px;height:auto}.cams img{image-rendering:pixelated;border:1px solid #ccc;display:block}.cams td,.cams th{text-align:center;font-size:12px}
.wrong{color:#c00}.none{color:#777;text-align:left}
.top td,.top th{font-size:11px;text-align:center;padding:2px 4px}.three{display:flex;gap:2px}.three img{image-rendering:pixelated;border:1px solid #ccc;display:block}
</style></head><body>
<h1>${esc(input.title)}</h1>
${input.note ? `<p>${esc(input.note)}</p>` : ''}
<h2>Runs</h2><p>Click a column to sort.</p>${table}
<h2>Curves</h2><div class="charts">${charts.map((svg) => `<figure class="chart">${svg}</figure>`).join('')}</div>
<h2>Confusion matrices</h2><div class="matrices">${matrices}</div>
<h2>Per-class accuracy</h2>${perClass}
<h2>Top-3 images per class</h2><p>For each class, the three test images each run is surest belong to it, with its probability; red: not of that class (its true class in brackets).</p>${topTable}
<h2>Class activation maps</h2><p>Grad-CAM of each CNN's predicted class on the same test images (the last convolution's feature maps weighted by the gradient of the class's score).</p>${camRows}
<script>${SORT_SCRIPT}</script>
</body></html>
`;
}

export function writeComparison(path: string, input: ComparisonInput): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new TextEncoder().encode(comparisonHtml(input)));
  return path;
}
