import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { History } from '../train.js';

/** Renders a Vega-Lite spec to an SVG string in Node (no browser, no canvas). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white' } as const;

/** Training loss of every iteration, with a moving average. */
export function iterationLossSpec(history: History): vl.TopLevelSpec {
  const values = history.iterationLoss.map((loss, i) => ({ iteration: i + 1, loss }));
  const window = Math.max(1, Math.round(values.length / 100));
  return {
    ...base,
    title: 'Training loss per iteration',
    width: 520,
    height: 220,
    data: { values },
    layer: [
      { mark: { type: 'line', opacity: 0.3, color: '#4c78a8' }, encoding: { x: { field: 'iteration', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } } } },
      {
        transform: [{ window: [{ op: 'mean', field: 'loss', as: 'smoothed' }], frame: [-window, window] }],
        mark: { type: 'line', color: '#e45756' },
        encoding: { x: { field: 'iteration', type: 'quantitative' }, y: { field: 'smoothed', type: 'quantitative', title: 'loss' } },
      },
    ],
  } as vl.TopLevelSpec;
}

/** Train and validation curves of a metric per epoch. */
export function epochSpec(history: History, metric: 'loss' | 'accuracy'): vl.TopLevelSpec {
  const values = history.epochs.flatMap((e) => [
    { epoch: e.epoch, split: 'train', value: e[metric] },
    ...(e.valLoss !== undefined ? [{ epoch: e.epoch, split: 'validation', value: metric === 'loss' ? e.valLoss : e.valAccuracy! }] : []),
  ]);
  return {
    ...base,
    title: `${metric === 'loss' ? 'Loss' : 'Accuracy'} per epoch`,
    width: 250,
    height: 200,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false }, ...(metric === 'accuracy' ? { axis: { format: '.1%' } } : {}) },
      color: { field: 'split', type: 'nominal' },
    },
  } as vl.TopLevelSpec;
}

/** The row-normalised confusion matrix as a heat map, with counts. */
export function confusionSpec(matrix: number[][], classes: readonly string[]): vl.TopLevelSpec {
  const values = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const name = (c: number) => (classes[c] === String(c) ? String(c) : `${c} ${classes[c]}`);
    return row.map((count, p) => ({ true: name(t), predicted: name(p), count, rate: count / total }));
  });
  return {
    ...base,
    title: 'Confusion matrix (rows: true class, normalised)',
    data: { values },
    width: 320,
    height: 320,
    encoding: { x: { field: 'predicted', type: 'ordinal', sort: null }, y: { field: 'true', type: 'ordinal', sort: null } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'rate', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, title: 'rate' } } },
      { mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: 'datum.rate > 0.5', value: 'white' }, value: 'black' } } },
    ],
  } as vl.TopLevelSpec;
}

export function perClassSpec(perClass: { class: number; name: string; accuracy: number }[]): vl.TopLevelSpec {
  return {
    ...base,
    title: 'Accuracy per class',
    width: 320,
    height: 200,
    data: { values: perClass.map((c) => ({ class: c.name === String(c.class) ? c.name : `${c.class} ${c.name}`, accuracy: c.accuracy })) },
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'ordinal', sort: null },
      y: { field: 'accuracy', type: 'quantitative', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
    },
  } as vl.TopLevelSpec;
}
