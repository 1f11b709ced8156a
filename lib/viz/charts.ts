import type { History } from '../models/train.js';
import { barChart, heatmap, lineChart } from './svg.js';

const BLUE = '#4c78a8';
const RED = '#e45756';
const ORANGE = '#f58518';

/** Training loss of every iteration (log scale), with a centred moving average. */
export function iterationLossChart(history: History): string {
  const losses = history.iterationLoss;
  const window = Math.max(1, Math.round(losses.length / 100));
  const prefix = new Float64Array(losses.length + 1);
  losses.forEach((v, i) => (prefix[i + 1] = prefix[i] + v));
  const smoothed = losses.map((_, i) => {
    const from = Math.max(0, i - window);
    const to = Math.min(losses.length, i + window + 1);
    return [i + 1, (prefix[to] - prefix[from]) / (to - from)] as const;
  });
  return lineChart({
    title: 'Training loss per iteration',
    width: 520,
    height: 220,
    xLabel: 'iteration',
    yLabel: 'loss',
    yScale: 'log',
    xIntegerTicks: true,
    series: [
      { name: 'loss', points: losses.map((v, i) => [i + 1, v] as const), color: BLUE, opacity: 0.3 },
      { name: 'moving average', points: smoothed, color: RED },
    ],
  });
}

/** Train and validation curves of a metric per epoch. */
export function epochChart(history: History, metric: 'loss' | 'accuracy'): string {
  const train = history.epochs.map((e) => [e.epoch, e[metric]] as const);
  const validation = history.epochs
    .filter((e) => e.valLoss !== undefined)
    .map((e) => [e.epoch, metric === 'loss' ? e.valLoss! : e.valAccuracy!] as const);
  return lineChart({
    title: `${metric === 'loss' ? 'Loss' : 'Accuracy'} per epoch`,
    width: 250,
    height: 200,
    xLabel: 'epoch',
    yLabel: metric,
    xIntegerTicks: true,
    yFormat: metric === 'accuracy' ? (v) => `${(v * 100).toFixed(1)}%` : undefined,
    series: [
      { name: 'train', points: train, color: BLUE, markers: true },
      ...(validation.length ? [{ name: 'validation', points: validation, color: ORANGE, markers: true }] : []),
    ],
  });
}

/** "3" for a class named by its number (MNIST), "6 Shirt" otherwise. */
export const classLabel = (c: number, name: string | undefined): string => (name === undefined || name === String(c) ? String(c) : `${c} ${name}`);

/** The row-normalised confusion matrix as a heat map, with counts. */
export function confusionChart(matrix: number[][], classes: readonly string[]): string {
  const names = matrix.map((_, c) => classLabel(c, classes[c]));
  return heatmap({
    title: 'Confusion matrix (rows: true class, normalised)',
    rows: names,
    columns: names,
    rates: matrix.map((row) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      return row.map((count) => count / total);
    }),
    text: matrix.map((row) => row.map(String)),
    xLabel: 'predicted',
    yLabel: 'true',
    cell: matrix.length > 12 ? 22 : 32,
  });
}

/** An SVG bar chart of per-class accuracy. */
export function perClassChart(perClass: { class: number; name: string; accuracy: number }[]): string {
  return barChart({
    title: 'Accuracy per class',
    labels: perClass.map((c) => classLabel(c.class, c.name)),
    values: perClass.map((c) => c.accuracy),
    width: 320,
    height: 200,
    xLabel: 'class',
    yLabel: 'accuracy',
  });
}
