// Helpers the commands share: fitting images to a model, subsets, the accuracy report and tables.
import { resize } from '../data/transforms.js';
import type { Sequential } from '../model.js';
import { Tensor } from '../tensor.js';
import { analyze } from '../viz/report.js';

/** Resizes images to the model's input size when they differ (e.g. 28×28 → 14×14). */
export function fitToModel(x: Tensor, model: Sequential, say: (m: string) => void): Tensor {
  const [h, w] = model.inputShape;
  if (x.shape[1] === h && x.shape[2] === w) return x;
  say(`resizing images ${x.shape[1]}×${x.shape[2]} → ${h}×${w} for ${model.name}`);
  return resize(x, h, w);
}

export function firstN(x: Tensor, y: Uint8Array, n: number): { x: Tensor; y: Uint8Array } {
  if (n >= y.length) return { x, y };
  const row = x.size / x.shape[0];
  return { x: new Tensor(x.data.subarray(0, n * row), [n, ...x.shape.slice(1)]), y: y.subarray(0, n) };
}

export function reportAccuracy(model: Sequential, x: Tensor, y: ArrayLike<number>, classes: string[], say: (m: string) => void, batchSize: number, print: (m: string) => void = (m) => console.log(m)) {
  const analysis = analyze(model, x, y, classes, 3, Math.max(batchSize, 256));
  const { accuracy, matrix, perClass, worst } = analysis;
  const correct = perClass.reduce((n, c) => n + c.correct, 0);
  const loss = analysis.loss; // the same predictions, not a second pass
  say('per-class accuracy:');
  for (const c of perClass) say(`  ${classLabel(c.class, c.name).padEnd(14)} ${(c.accuracy * 100).toFixed(2).padStart(6)}%  (${c.correct}/${c.total})`);
  say(`worst class: ${classLabel(worst.class, worst.name)} at ${(worst.accuracy * 100).toFixed(2)}%`);
  print(`test accuracy: ${(accuracy * 100).toFixed(2)}% (${correct.toLocaleString('en-US')}/${y.length.toLocaleString('en-US')}), test loss ${loss.toFixed(4)}`);
  return { accuracy, loss, perClass, matrix, analysis };
}

/** The end-of-run table: final metrics and where the files went. */
export function summaryTable(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** "3" for a class named by its number (MNIST), "6 Shirt" otherwise. */
export function classLabel(c: number, name: string): string {
  return name === String(c) ? String(c) : `${c} ${name}`;
}
