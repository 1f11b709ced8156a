// The training curves on their own, as SVG (always) or PNG files: loss per
// iteration, and train/validation loss and accuracy per epoch. PNG is drawn
// from the same SVG by resvg (an optional dependency: a prebuilt renderer,
// no compiler), with the system's fonts.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { checkOneOf, checkOptions, checkPath } from '../core/check.js';
import { ConvkitError, ValueError, describe } from '../core/errors.js';
import { writeFileAtomic } from '../formats/atomic.js';
import type { History } from '../models/train.js';
import { epochChart, iterationLossChart } from './charts.js';

/** The picture formats `exportCurves` writes. */
export type CurveFormat = 'svg' | 'png';

/** The curves a history has, by file name (without extension): SVG text. */
export function curveCharts(history: History): [string, string][] {
  if (!history || typeof history !== 'object' || !Array.isArray(history.iterationLoss) || !Array.isArray(history.epochs)) {
    throw new ValueError(`curves: history must be what fit returns (iterationLoss and epochs), got ${describe(history)}`);
  }
  const charts: [string, string][] = [];
  if (history.iterationLoss.length) charts.push(['loss-per-iteration', iterationLossChart(history)]);
  if (history.epochs.length) {
    charts.push(['loss-per-epoch', epochChart(history, 'loss')]);
    charts.push(['accuracy-per-epoch', epochChart(history, 'accuracy')]);
  }
  return charts;
}

type Resvg = typeof import('@resvg/resvg-js');

function resvg(): Resvg {
  try {
    return createRequire(import.meta.url)('@resvg/resvg-js') as Resvg;
  } catch (error) {
    throw new ConvkitError(`PNG curves need @resvg/resvg-js, an optional dependency that is not installed here (${(error as Error).message.split('\n')[0]}); run 'npm install @resvg/resvg-js', or write SVG`);
  }
}

/** An SVG chart as PNG bytes, drawn at `scale` times its size on white. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const { Resvg } = resvg();
  const image = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'sans-serif' } });
  return image.render().asPng();
}

/**
 * Writes the curves of a training history into `dir` (atomically, one file
 * per chart) and returns the files' paths.
 */
export function exportCurves(history: History, dir: string, options: { format?: CurveFormat } = {}): string[] {
  checkOptions(options, ['format'], 'exportCurves');
  checkPath(dir, 'dir', 'exportCurves');
  const format = options.format === undefined ? 'svg' : checkOneOf(options.format, ['svg', 'png'] as const, 'format', 'exportCurves');
  const files: string[] = [];
  for (const [name, svg] of curveCharts(history)) {
    const file = join(dir, `${name}.${format}`);
    writeFileAtomic(file, format === 'png' ? svgToPng(svg) : new TextEncoder().encode(svg));
    files.push(file);
  }
  return files;
}
