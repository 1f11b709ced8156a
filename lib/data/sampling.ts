// What fit draws each epoch: class weights as a weighted sampler, seeded from
// (seed, epoch) only, so a resumed run draws exactly what an uninterrupted one
// would. (How a batch is varied is augment.ts.)
import { ValueError, describe } from '../core/errors.js';
import { Random } from '../core/random.js';

/** A weight per class for sampling, or 'balanced' (inverse class frequency). */
export type ClassWeight = 'balanced' | readonly number[];

/**
 * Per-class weights: 'balanced' gives each class n / (k · count) as
 * scikit-learn and Keras do; a list is taken as given (one per class).
 */
export function classWeights(weight: unknown, y: Int32Array, classes: number, op: string): Float64Array {
  const counts = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  if (weight === 'balanced') {
    return Float64Array.from(counts, (c) => (c > 0 ? y.length / (classes * c) : 0));
  }
  if (!Array.isArray(weight) || weight.length !== classes || weight.some((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)) {
    throw new ValueError(`${op}: classWeight must be 'balanced' or ${classes} non-negative numbers (one per class), got ${describe(weight)}`);
  }
  if (!weight.some((w, c) => w > 0 && counts[c] > 0)) throw new ValueError(`${op}: classWeight gives weight 0 to every class present in y`);
  return Float64Array.from(weight as number[]);
}

/**
 * The epoch's sample order under class weights: `count` draws with
 * replacement, each sample with probability proportional to its class's
 * weight (PyTorch's WeightedRandomSampler). The expected gradient of an epoch
 * is that of the class-weighted loss, normalised; the kernels stay unweighted.
 */
export class WeightedSampler {
  private readonly cumulative: Float64Array;

  constructor(y: Int32Array, weights: Float64Array) {
    this.cumulative = new Float64Array(y.length);
    let sum = 0;
    for (let i = 0; i < y.length; i++) this.cumulative[i] = sum += weights[y[i]];
  }

  fill(order: Int32Array, random: Random): void {
    const c = this.cumulative;
    const total = c[c.length - 1];
    for (let k = 0; k < order.length; k++) {
      const u = random.next() * total;
      let lo = 0;
      let hi = c.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (c[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      order[k] = lo;
    }
  }
}
