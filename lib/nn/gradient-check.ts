import { checkNumber, checkOptions, checkPositiveInt } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { Layer, type SampleShape } from './layers/layer.js';

/** What `checkLayerGradients` found: the worst disagreement between backward and central differences. */
export interface GradientCheck {
  /** Whether every checked gradient agrees within the tolerance. */
  ok: boolean;
  /** max |analytic - numeric| / max(1, max |numeric|) over the checked entries of each tensor. */
  maxRelativeError: number;
  /** How many entries were checked (inputs and parameters). */
  checked: number;
  /** The entry with the largest error, e.g. "input[3]: analytic 0.41, numeric 0.43". */
  worst: string;
}

/**
 * Checks a layer's backward against central differences of its forward,
 * for custom layers (PyTorch's torch.autograd.gradcheck idea, in float32).
 * The loss is <forward(x), r> for random x and r, so its gradient is
 * backward(r); up to `samples` entries of the input and of each parameter
 * are perturbed by ±step. Float32 and a step of 1e-2 give errors near 1e-3
 * for a smooth layer; kinks (ReLU at 0, max pooling ties) can exceed it.
 * @example
 * ```ts
 * const report = checkLayerGradients(new Scale(), [4, 4, 3]);
 * if (!report.ok) throw new Error(report.worst);
 * ```
 */
export function checkLayerGradients(layer: Layer, inputShape: SampleShape, options: { batch?: number; seed?: number; step?: number; samples?: number; tolerance?: number } = {}): GradientCheck {
  const fn = 'checkLayerGradients';
  if (!(layer instanceof Layer)) throw new ValueError(`${fn}: layer must be a Layer, got ${describe(layer)}`);
  const { batch = 2, seed = 0, step = 1e-2, samples = 32, tolerance = 2e-2 } = checkOptions(options, ['batch', 'seed', 'step', 'samples', 'tolerance'], fn);
  checkPositiveInt(batch, 'batch', fn);
  checkPositiveInt(samples, 'samples', fn);
  checkNumber(step, 'step', fn, { min: 0, minExclusive: true });
  checkNumber(tolerance, 'tolerance', fn, { min: 0 });
  if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 1)) throw new ValueError(`${fn}: inputShape must be a list of positive integers, got ${describe(inputShape)}`);
  const random = new Random(seed);
  if (layer.built && layer.inputShape.join() !== inputShape.join()) throw new ValueError(`${fn}: the layer is built for input [${layer.inputShape.join(', ')}], not [${inputShape.join(', ')}]`);
  const outputShape = layer.built ? layer.outputShape : layer.build(inputShape, random);
  const x = new Tensor(Float32Array.from({ length: batch * inputShape.reduce((a, b) => a * b, 1) }, () => random.next() * 2 - 1), [batch, ...inputShape]);
  const r = new Float64Array(batch * outputShape.reduce((a, b) => a * b, 1)).map(() => random.next() * 2 - 1);
  const loss = () => {
    const y = layer.forward(x, true).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };
  loss();
  for (const p of layer.parameters()) p.grad.data.fill(0);
  const dx = layer.backward(new Tensor(Float32Array.from(r), [batch, ...outputShape]), true);
  if (!dx) throw new ValueError(`${fn}: ${layer.kind}.backward returned no input gradient though one was asked for`);
  const targets = [{ what: 'input', values: x.data, grads: Float32Array.from(dx.data) }, ...layer.parameters().map((p) => ({ what: p.name, values: p.value.data, grads: Float32Array.from(p.grad.data) }))];
  let maxRelativeError = 0;
  let worst = 'none';
  let checked = 0;
  for (const t of targets) {
    const count = Math.min(samples, t.values.length);
    const picks = t.values.length <= samples ? Array.from({ length: count }, (_, i) => i) : Array.from({ length: count }, () => random.int(t.values.length));
    const numeric: number[] = [];
    for (const i of picks) {
      const saved = t.values[i];
      t.values[i] = saved + step;
      const plus = loss();
      t.values[i] = saved - step;
      const minus = loss();
      t.values[i] = saved;
      numeric.push((plus - minus) / (2 * step));
    }
    const scale = Math.max(1, ...numeric.map(Math.abs));
    picks.forEach((i, k) => {
      const error = Math.abs(t.grads[i] - numeric[k]) / scale;
      checked++;
      if (error >= maxRelativeError) {
        maxRelativeError = error;
        worst = `${t.what}[${i}]: analytic ${t.grads[i]}, numeric ${numeric[k]}`;
      }
    });
  }
  return { ok: maxRelativeError <= tolerance, maxRelativeError, checked, worst };
}
