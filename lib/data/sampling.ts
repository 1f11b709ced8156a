// What fit draws each epoch and how it varies a batch: class weights as a
// weighted sampler, and augmentation by random shifts and flips. Both are
// seeded from (seed, epoch[, batch]) only, so a resumed run draws exactly what
// an uninterrupted one would.
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

/** Random changes to each training image, drawn from the run's seed: shifts, flips and noise. */
export interface Augmentation {
  /** Largest random shift in pixels, up, down, left or right (zeros come in at the edge). */
  shift?: number;
  /** Mirror left-right with probability 1/2 (for images where that keeps the class: not digits). */
  flip?: boolean;
}

/**
 * Shifts and flips each image of an NHWC batch in place, with no scratch and
 * no allocation: a flip swaps pixels within each row, and a shift is one
 * memmove of the whole image (copyWithin) by dy rows and dx pixels, after
 * which the rows and columns that came in (or wrapped across a row end) are
 * zeroed. An image is shifted by (dy, dx) and, when flipped, mirrored first
 * (so that out[y][x] = in[y - dy][w - 1 - x - dx]).
 */
export function augmentBatch(x: Float32Array, n: number, h: number, w: number, c: number, options: Augmentation, random: Random): void {
  const shift = options.shift ?? 0;
  const size = h * w * c;
  const rowSize = w * c;
  for (let b = 0; b < n; b++) {
    const dy = shift ? random.int(2 * shift + 1) - shift : 0;
    let dx = shift ? random.int(2 * shift + 1) - shift : 0;
    const flip = options.flip ? random.next() < 0.5 : false;
    const base = b * size;
    if (flip) {
      for (let y = 0; y < h; y++) {
        const row = base + y * rowSize;
        for (let left = 0, right = w - 1; left < right; left++, right--) {
          for (let ch = 0; ch < c; ch++) {
            const t = x[row + left * c + ch];
            x[row + left * c + ch] = x[row + right * c + ch];
            x[row + right * c + ch] = t;
          }
        }
      }
      dx = -dx;
    }
    if (dy === 0 && dx === 0) continue;
    if (Math.abs(dy) >= h || Math.abs(dx) >= w) {
      x.fill(0, base, base + size);
      continue;
    }
    const offset = dy * rowSize + dx * c;
    if (offset > 0) x.copyWithin(base + offset, base, base + size - offset);
    else x.copyWithin(base, base - offset, base + size);
    // Rows shifted in at the top or bottom.
    if (dy > 0) x.fill(0, base, base + dy * rowSize);
    else if (dy < 0) x.fill(0, base + (h + dy) * rowSize, base + size);
    // Columns shifted in at the left or right (where pixels wrapped from the neighbouring row).
    if (dx !== 0) {
      const from = dx > 0 ? 0 : (w + dx) * c;
      const count = Math.abs(dx) * c;
      for (let y = Math.max(dy, 0); y < h + Math.min(dy, 0); y++) x.fill(0, base + y * rowSize + from, base + y * rowSize + from + count);
    }
  }
}

/** Writes the left-right mirror of each of n NHWC images of src into dst (the two must not overlap). */
export function mirrorImagesInto(src: Float32Array, dst: Float32Array, n: number, h: number, w: number, c: number): void {
  const rowSize = w * c;
  for (let row = 0; row < n * h; row++) {
    const base = row * rowSize;
    for (let x = 0; x < w; x++) {
      const from = base + x * c;
      const to = base + (w - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) dst[to + ch] = src[from + ch];
    }
  }
}
