// Metrics that fit and evaluate report beside the loss (Keras's compile
// metrics): accuracy is the loss's own; others are functions of a batch's
// targets and the model's outputs, averaged over the samples of an epoch.
import { foldName } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';

/**
 * A metric's value for one batch: the mean over its samples. targets are the
 * batch's labels (Int32Array) or target rows (Float32Array, [n · units]);
 * outputs are the model's outputs [n, units] (probabilities, or values under
 * a regression loss).
 */
export type MetricFunction = (targets: Int32Array | Float32Array, outputs: Tensor) => number;

/** A metric by the name its logs and history keys take. */
export interface BatchMetric {
  readonly name: string;
  readonly fn: MetricFunction;
}

const meanError = (power: 1 | 2): MetricFunction => (targets, outputs) => {
  if (!(targets instanceof Float32Array)) throw new ValueError(`metric: ${power === 2 ? 'mse' : 'mae'} needs target values (a tensor), not class labels`);
  let sum = 0;
  for (let i = 0; i < outputs.size; i++) {
    const e = outputs.data[i] - targets[i];
    sum += power === 2 ? e * e : Math.abs(e);
  }
  return sum / outputs.size;
};

// Keras's metric names for the regression errors; the key in the logs is the name as given.
const BUILT_IN = new Map<string, MetricFunction>([
  ['mse', meanError(2)], ['meansquarederror', meanError(2)],
  ['mae', meanError(1)], ['meanabsoluteerror', meanError(1)],
]);

/** The names under which accuracy (the loss's own, always computed) is asked for. */
export const ACCURACY_NAMES = new Set(['accuracy', 'acc', 'sparsecategoricalaccuracy', 'binaryaccuracy', 'categoricalaccuracy']);

const registered = new Map<string, MetricFunction>();

/**
 * Registers a metric under a name, so `compile({metrics: [name]})` finds it;
 * fit's logs and history then carry `name` and `val_name` (Keras's custom
 * metrics, tfjs's registered functions).
 * @example
 * ```ts
 * import { registerMetric } from 'convkit';
 * registerMetric('meanMaxProbability', (_t, out) => { ... return mean; });
 * ```
 */
export function registerMetric(name: string, fn: MetricFunction): void {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new ValueError(`registerMetric: name must be letters, digits and _ starting with a letter, got ${describe(name)}`);
  if (typeof fn !== 'function') throw new ValueError(`registerMetric: fn must be a function (targets, outputs) => number, got ${describe(fn)}`);
  if (BUILT_IN.has(foldName(name)) || ACCURACY_NAMES.has(foldName(name)) || foldName(name) === 'loss') throw new ValueError(`registerMetric: '${name}' is one of convkit's own metric names; give the custom metric another name`);
  registered.set(name, fn);
}

/**
 * The metrics a compile or fit list names, accuracy left out (the loss
 * reports it); a function is taken under its own name.
 */
export function resolveMetrics(list: unknown, fn: string): BatchMetric[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ValueError(`${fn}: metrics must be a list of metric names or functions, e.g. ['accuracy'], got ${describe(list)}`);
  const out: BatchMetric[] = [];
  for (const m of list) {
    if (typeof m === 'function') {
      if (!m.name) throw new ValueError(`${fn}: a metric function needs a name (a named function), for its key in the logs`);
      out.push({ name: m.name, fn: m as MetricFunction });
      continue;
    }
    if (typeof m !== 'string') throw new ValueError(`${fn}: metric ${describe(m)} is not a metric name or function`);
    if (ACCURACY_NAMES.has(foldName(m))) continue;
    const found = registered.get(m) ?? BUILT_IN.get(foldName(m));
    if (!found) {
      const known = ['accuracy', 'acc', 'mse', 'mae', ...registered.keys()];
      throw new ValueError(`${fn}: metric '${m}' is not one convkit computes; it has ${known.map((k) => `'${k}'`).join(', ')} (registerMetric adds your own)`);
    }
    out.push({ name: m, fn: found });
  }
  const names = out.map((m) => m.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ValueError(`${fn}: metric '${twice}' is listed twice`);
  return out;
}
