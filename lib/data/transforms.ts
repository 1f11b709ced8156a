import { checkBytes, checkIndexList, checkPositiveInt, toInt32Labels } from '../core/check.js';
import { checkOneOf, checkOptions } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { getBackend } from '../backend/select.js';
import { checkTensor } from '../ops/check.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import type { LabelArray } from './batches.js';
import { checkAllocation } from '../core/limits.js';

/** uint8 pixels (0..255) to float32 in [0, 1], as [N, H, W, C] images; a shape [N, H, W] gains the channel axis (grayscale). */
export function scaleImages(pixels: Uint8Array, shape: readonly number[]): Tensor {
  checkBytes(pixels, 'pixels', 'scaleImages');
  checkIndexList(shape, 'shape', 'scaleImages');
  const size = shape.reduce((a, b) => a * b, 1);
  if (pixels.length !== size) throw new ShapeError(`scaleImages: ${pixels.length} pixels do not fill shape ${formatShape(shape)}`);
  const out = new Float32Array(size);
  getBackend().bytesToFloats(out, pixels, 255);
  return new Tensor(out, shape.length === 3 ? [...shape, 1] : shape);
}

/**
 * Resizes NHWC images by area averaging (each output pixel is the mean of
 * the input area it covers), e.g. MNIST 28×28 → 14×14 as the courses do.
 * Works for any sizes; integer factors average exact blocks.
 */
export function resize(xIn: Tensor, height: number, width: number): Tensor {
  // Grayscale [N, H, W] images are taken as [N, H, W, 1].
  const x = xIn instanceof Tensor && xIn.rank === 3 ? xIn.reshape([...xIn.shape, 1]) : xIn;
  checkTensor(x, 'x', 'resize', 4);
  checkPositiveInt(height, 'height', 'resize');
  checkPositiveInt(width, 'width', 'resize');
  const [n, h, w, c] = x.shape;
  checkAllocation(n * height * width * c, 4, `resize: the images resized to ${height}×${width} ([${n}, ${height}, ${width}, ${c}])`);
  const out = new Float32Array(n * height * width * c);
  const sy = h / height;
  const sx = w / width;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < height; oy++) {
      const y0 = oy * sy;
      const y1 = y0 + sy;
      for (let ox = 0; ox < width; ox++) {
        const x0 = ox * sx;
        const x1 = x0 + sx;
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let iy = Math.floor(y0); iy < Math.min(Math.ceil(y1), h); iy++) {
            const wy = Math.min(iy + 1, y1) - Math.max(iy, y0);
            for (let ix = Math.floor(x0); ix < Math.min(Math.ceil(x1), w); ix++) {
              const wx = Math.min(ix + 1, x1) - Math.max(ix, x0);
              sum += wy * wx * x.data[((b * h + iy) * w + ix) * c + ch];
            }
          }
          out[((b * height + oy) * width + ox) * c + ch] = sum / (sy * sx);
        }
      }
    }
  return new Tensor(out, [n, height, width, c]);
}

/**
 * Standardisation fitted on training data and applied to any: per feature
 * (scikit-learn's StandardScaler, the default) or, with {per: 'channel'}, one
 * mean and std per channel of NHWC images (Keras's Normalization, torchvision's
 * Normalize). Per feature, a pixel that is almost always background has a
 * tiny std, and a test image that inks it lands hundreds of stds out.
 */
export class StandardScaler {
  mean: Float32Array | null = null;
  std: Float32Array | null = null;
  readonly per: 'feature' | 'channel';

  constructor(options: { per?: 'feature' | 'channel' } = {}) {
    checkOptions(options, ['per'], 'StandardScaler');
    this.per = options.per === undefined ? 'feature' : checkOneOf(options.per, ['feature', 'channel'] as const, 'per', 'StandardScaler');
  }

  /** Learns the mean and standard deviation of x (per feature or per channel). */
  fit(xIn: Tensor): this {
    checkTensor(xIn, 'x', 'StandardScaler.fit');
    // Per channel: every pixel of every image is a sample of its channel.
    const x = this.per === 'channel' ? xIn.reshape([xIn.size / xIn.shape[xIn.rank - 1], xIn.shape[xIn.rank - 1]]) : xIn;
    const n = x.shape[0];
    if (n === 0) throw new ShapeError('StandardScaler.fit: x has no samples');
    const f = x.size / n;
    const mean = new Float64Array(f);
    const sq = new Float64Array(f);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < f; j++) {
        const v = x.data[i * f + j];
        mean[j] += v;
        sq[j] += v * v;
      }
    this.mean = new Float32Array(f);
    this.std = new Float32Array(f);
    for (let j = 0; j < f; j++) {
      const m = mean[j] / n;
      this.mean[j] = m;
      const variance = Math.max(sq[j] / n - m * m, 0);
      this.std[j] = variance > 1e-12 ? Math.sqrt(variance) : 1; // a constant feature is left centred, not divided by 0
    }
    return this;
  }

  /** (x - mean) / std with what fit learned, as a new tensor. */
  transform(x: Tensor): Tensor {
    checkTensor(x, 'x', 'StandardScaler.transform');
    if (!this.mean || !this.std) throw new ValueError('StandardScaler.transform: call fit first');
    const f = this.mean.length;
    if (this.per === 'channel' ? x.shape[x.rank - 1] !== f : x.size / x.shape[0] !== f) {
      throw new ShapeError(`StandardScaler.transform: fitted on ${f} ${this.per === 'channel' ? 'channels' : 'features'}, x has ${this.per === 'channel' ? x.shape[x.rank - 1] : x.size / Math.max(x.shape[0], 1)}`);
    }
    const out = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) out[i] = (x.data[i] - this.mean[i % f]) / this.std[i % f];
    return new Tensor(out, x.shape);
  }

  /** fit(x), then transform(x). */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** The fitted mean and std as plain arrays (to save with a checkpoint). */
  toJSON(): { mean: number[]; std: number[]; per: 'feature' | 'channel' } {
    if (!this.mean || !this.std) throw new ValueError('StandardScaler.toJSON: call fit first');
    return { mean: Array.from(this.mean), std: Array.from(this.std), per: this.per };
  }

  /** A scaler fitted before, from toJSON()'s arrays. */
  static fromJSON(value: unknown, source = 'StandardScaler.fromJSON'): StandardScaler {
    const v = value as { mean?: unknown; std?: unknown; per?: unknown } | null;
    const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length > 0 && a.every((e) => typeof e === 'number' && Number.isFinite(e));
    if (!v || !ok(v.mean) || !ok(v.std) || v.mean.length !== v.std.length || v.std.some((e) => e <= 0)) {
      throw new ValueError(`${source}: a scaler needs equal-length finite mean and positive std arrays, got ${describe(value)}`);
    }
    if (v.per !== undefined && v.per !== 'feature' && v.per !== 'channel') throw new ValueError(`${source}: per must be 'feature' or 'channel', got ${describe(v.per)}`);
    const scaler = new StandardScaler({ per: (v.per as 'feature' | 'channel' | undefined) ?? 'feature' });
    scaler.mean = Float32Array.from(v.mean);
    scaler.std = Float32Array.from(v.std);
    return scaler;
  }
}

/** Rows of x (and y) in the given order. */
export function takeRows(x: Tensor, indices: ArrayLike<number>): Tensor {
  checkTensor(x, 'x', 'takeRows');
  if (x.rank < 1) throw new ShapeError('takeRows: x must have a first (sample) axis');
  checkIndexList(indices, 'indices', 'takeRows');
  for (let i = 0; i < indices.length; i++) if (indices[i] >= x.shape[0]) throw new ValueError(`takeRows: indices[${i}] = ${indices[i]} is past the ${x.shape[0]} rows of x`);
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) out.set(x.data.subarray(indices[i] * row, indices[i] * row + row), i * row);
  return new Tensor(out, [indices.length, ...x.shape.slice(1)]);
}

/** The labels at these indices, as a new Int32Array. */
export function takeLabels(y: LabelArray, indices: ArrayLike<number>): Int32Array {
  const labels = toInt32Labels(y, 'y', 'takeLabels');
  checkIndexList(indices, 'indices', 'takeLabels');
  for (let i = 0; i < indices.length; i++) if (indices[i] >= labels.length) throw new ValueError(`takeLabels: indices[${i}] = ${indices[i]} is past the ${labels.length} labels`);
  return Int32Array.from({ length: indices.length }, (_, i) => y[indices[i]]);
}

/** One part of a split: its images and labels. */
export interface Split {
  x: Tensor;
  y: Int32Array;
}

/**
 * A seeded shuffle of (x, y) cut into parts by fraction, e.g.
 * split(x, y, [0.8, 0.1, 0.1], {seed}) → [train, validation, test].
 */
export function split(x: Tensor, y: LabelArray, fractions: readonly number[], options: { seed?: number; shuffle?: boolean } = {}): Split[] {
  checkOptions(options, ['seed', 'shuffle'], 'split');
  checkTensor(x, 'x', 'split');
  if (x.rank < 1) throw new ShapeError('split: x must have a first (sample) axis');
  toInt32Labels(y, 'y', 'split');
  if (y.length !== x.shape[0]) throw new ShapeError(`split: y has ${y.length} labels but x has ${x.shape[0]} samples`);
  if (!Array.isArray(fractions) || fractions.length === 0 || fractions.some((f) => typeof f !== 'number' || !(f >= 0) || !Number.isFinite(f))) throw new ValueError(`split: fractions must be a non-empty array of non-negative numbers, got ${describe(fractions)}`);
  checkTensor(x, 'x', 'split');
  const n = x.shape[0];
  if (y.length !== n) throw new ShapeError(`split: y has ${y.length} labels but x has ${n} samples`);
  const total = fractions.reduce((a, b) => a + b, 0);
  if (fractions.some((f) => !(f >= 0)) || Math.abs(total - 1) > 1e-9) throw new ValueError(`split: fractions must be non-negative and sum to 1, got ${describe(fractions as number[])}`);
  const order = options.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : new Random(options.seed ?? 0).permutation(n);
  const parts: Split[] = [];
  let start = 0;
  let acc = 0;
  fractions.forEach((f, i) => {
    acc += f;
    const end = i === fractions.length - 1 ? n : Math.round(acc * n);
    const idx = order.subarray(start, end);
    parts.push({ x: takeRows(x, idx), y: takeLabels(y, idx) });
    start = end;
  });
  return parts;
}
