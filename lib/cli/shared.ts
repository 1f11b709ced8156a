// Helpers the commands share: the accuracy report and tables.
import type { Model } from '../models/model.js';
import type { TestTimeAugmentation } from '../models/train-options.js';
import type { Tensor } from '../core/tensor.js';
import { classLabel } from '../viz/charts.js';
import { analyze } from '../viz/report.js';

export function reportAccuracy(model: Model, x: Tensor, y: ArrayLike<number>, classes: string[], say: (m: string) => void, predict: { batchSize: number; tta?: TestTimeAugmentation }, print: (m: string) => void = (m) => console.log(m)) {
  const analysis = analyze(model, x, y, classes, 3, Math.max(predict.batchSize, 256), predict.tta);
  const { accuracy, matrix, perClass, worst } = analysis;
  const correct = perClass.reduce((n, c) => n + c.correct, 0);
  const loss = analysis.loss; // the same predictions, not a second pass
  say('per-class accuracy:');
  for (const c of perClass) say(`  ${classLabel(c.class, c.name).padEnd(14)} ${(c.accuracy * 100).toFixed(2).padStart(6)}%  (${c.correct}/${c.total})`);
  say(`worst class: ${classLabel(worst.class, worst.name)} at ${(worst.accuracy * 100).toFixed(2)}%`);
  print(`test accuracy: ${(accuracy * 100).toFixed(2)}% (${correct.toLocaleString('en-US')}/${y.length.toLocaleString('en-US')}), test loss ${loss.toFixed(4)}${predict.tta === 'flip' ? ' (with flip TTA)' : ''}`);
  return { accuracy, loss, perClass, matrix, analysis };
}

/** The end-of-run table: final metrics and where the files went. */
export function summaryTable(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
