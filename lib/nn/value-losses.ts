// Losses whose targets are a row of numbers per sample, not a class label:
// one-hot or soft class probabilities (categorical cross-entropy), 0/1 per
// output (multi-label binary cross-entropy) and regression values (mean
// squared / absolute error, Huber). Each is a mean over the batch, as Keras's
// and torch's are, and writes dLoss/dInput into a reused buffer.
import { getBackend } from '../backend/select.js';
import { Buffers } from './layers/layer.js';
import { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';

/** log Σ_j e^{z_j} over one row of logits, by the max shift (no overflow). */
export function logSumExp(z: Float32Array, offset: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, z[offset + j]);
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(z[offset + j] - max);
  return max + Math.log(sum);
}

/** The index of each row's largest value (the first of equal ones). */
export function argmaxRows(data: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[r * cols + j] > data[r * cols + best]) best = j;
    out[r] = best;
  }
  return out;
}

/**
 * Softmax cross-entropy against a distribution per sample: one-hot rows
 * (`tf.oneHot`, `to_categorical`) or soft labels, Keras's
 * categorical_crossentropy and torch's CrossEntropyLoss with probability
 * targets. Rows need not sum to 1 (torch's and TF's from-logits form):
 * L = −Σ t·log softmax(z), dL/dz = softmax(z)·Σt − t.
 */
export class CategoricalCrossEntropy {
  readonly name = 'categoricalCrossentropy' as const;
  readonly targets = 'values' as const;
  /** Keras's label_smoothing: each target row becomes t·(1 − ε) + ε/K. */
  readonly labelSmoothing: number;
  private readonly buffers = new Buffers();

  constructor(options: { labelSmoothing?: number } = {}) {
    const e = options.labelSmoothing ?? 0;
    if (typeof e !== 'number' || !(e >= 0 && e < 1)) throw new ValueError(`categoricalCrossentropy: labelSmoothing must be in [0, 1), got ${e}`);
    this.labelSmoothing = e;
  }

  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, targets: Float32Array): { loss: number; dLogits: Tensor } {
    const [rows, cols] = logits.shape;
    const p = this.buffers.get('p', logits.size);
    const d = this.buffers.get('d', logits.size);
    getBackend().softmax(p, logits.data, rows, cols);
    const e = this.labelSmoothing;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const logSum = logSumExp(logits.data, o, cols);
      let mass = 0;
      for (let j = 0; j < cols; j++) {
        const t = targets[o + j] * (1 - e) + e / cols;
        mass += t;
        if (t !== 0) total -= t * (logits.data[o + j] - logSum);
      }
      for (let j = 0; j < cols; j++) d[o + j] = (p[o + j] * mass - (targets[o + j] * (1 - e) + e / cols)) / rows;
    }
    return { loss: total / rows, dLogits: new Tensor(d, logits.shape) };
  }

  /** Softmax over each row, for predict(). */
  probabilities(logits: Tensor): Tensor {
    const [rows, cols] = logits.shape;
    const y = new Float32Array(logits.size);
    getBackend().softmax(y, logits.data, rows, cols);
    return new Tensor(y, logits.shape);
  }

  /** The most probable class of each row. */
  classes(logits: Tensor): Int32Array {
    return argmaxRows(logits.data, logits.shape[0], logits.shape[1]);
  }

  /** Samples whose most probable class is the target row's largest entry (Keras's categorical_accuracy). */
  correct(logits: Tensor, targets: Float32Array): number {
    const [rows, cols] = logits.shape;
    const predicted = argmaxRows(logits.data, rows, cols);
    const truth = argmaxRows(targets, rows, cols);
    let right = 0;
    for (let r = 0; r < rows; r++) if (predicted[r] === truth[r]) right++;
    return right;
  }
}

/**
 * Binary cross-entropy of sigmoid(z) against a target in [0, 1] for every
 * output: multi-label classification (Keras's binary_crossentropy over K
 * sigmoid outputs, torch's BCEWithLogitsLoss), the mean over every output of
 * every sample. Computed from the logits in the stable form
 * max(z, 0) − z·t + log(1 + e^−|z|).
 */
export class BinaryCrossEntropy {
  readonly name = 'binaryCrossentropy' as const;
  readonly targets = 'values' as const;
  private readonly buffers = new Buffers();

  /** The mean loss over every output of the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, targets: Float32Array): { loss: number; dLogits: Tensor } {
    const count = logits.size;
    const d = this.buffers.get('d', count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const z = logits.data[i];
      const t = targets[i];
      total += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
      d[i] = (1 / (1 + Math.exp(-z)) - t) / count;
    }
    return { loss: total / count, dLogits: new Tensor(d, logits.shape) };
  }

  /** The sigmoid of each output, for predict(). */
  probabilities(logits: Tensor): Tensor {
    const y = new Float32Array(logits.size);
    getBackend().sigmoid(y, logits.data);
    return new Tensor(y, logits.shape);
  }

  /** 0/1 per sample for one output; the most probable output's index for several. */
  classes(logits: Tensor): Int32Array {
    const [rows, cols] = logits.shape;
    return cols === 1 ? Int32Array.from(logits.data, (z) => (z > 0 ? 1 : 0)) : argmaxRows(logits.data, rows, cols);
  }

  /** Per sample, the fraction of outputs on the right side of 0.5 (Keras's binary_accuracy), summed over the batch. */
  correct(logits: Tensor, targets: Float32Array): number {
    const cols = logits.shape[1];
    let right = 0;
    for (let i = 0; i < logits.size; i++) if ((logits.data[i] > 0) === (targets[i] > 0.5)) right++;
    return right / cols;
  }
}

/** What the regression losses share: targets are values, the loss sees the model's outputs (its final activation applied), and there is no accuracy. */
abstract class RegressionLoss {
  abstract readonly name: string;
  readonly targets = 'values' as const;
  /** The loss is of the model's outputs (after a final sigmoid or softmax), not of the logits. */
  readonly onOutputs = true;
  private readonly buffers = new Buffers();

  /** Loss and derivative of one error e = output − target. */
  protected abstract term(e: number): { value: number; slope: number };

  /** The mean loss over every output of the batch and dLoss/dOutputs (in a reused buffer). */
  compute(outputs: Tensor, targets: Float32Array): { loss: number; dLogits: Tensor } {
    const count = outputs.size;
    const d = this.buffers.get('d', count);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const { value, slope } = this.term(outputs.data[i] - targets[i]);
      sum += value;
      d[i] = slope / count;
    }
    return { loss: sum / count, dLogits: new Tensor(d, outputs.shape) };
  }

  /** The outputs themselves: a regression has no probabilities to take. */
  probabilities(outputs: Tensor): Tensor {
    return outputs.clone();
  }

  /** Refused: a regression has no classes. */
  classes(): Int32Array {
    throw new ValueError(`predictClasses: loss '${this.name}' is a regression loss; its model predicts values, not classes (use predict)`);
  }

  /** None: accuracy means nothing for a regression (fit and evaluate report NaN). */
  correct(): number {
    return NaN;
  }
}

/** The mean of (y − t)² over every output of every sample, as Keras's mean_squared_error and torch's MSELoss. */
export class MeanSquaredError extends RegressionLoss {
  readonly name = 'meanSquaredError' as const;
  protected term(e: number) {
    return { value: e * e, slope: 2 * e };
  }
}

/** The mean of |y − t|, as Keras's mean_absolute_error and torch's L1Loss (slope 0 at 0, as torch). */
export class MeanAbsoluteError extends RegressionLoss {
  readonly name = 'meanAbsoluteError' as const;
  protected term(e: number) {
    return { value: Math.abs(e), slope: Math.sign(e) };
  }
}

/** Huber loss: ½e² where |e| ≤ delta, delta·(|e| − ½delta) beyond, as Keras's Huber and torch's HuberLoss (default delta 1). */
export class Huber extends RegressionLoss {
  readonly name = 'huber' as const;
  readonly delta: number;

  constructor(options: { delta?: number } = {}) {
    super();
    const delta = options.delta ?? 1;
    if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new ValueError(`huber: delta must be a positive number, got ${delta}`);
    this.delta = delta;
  }

  protected term(e: number) {
    const a = Math.abs(e);
    return a <= this.delta ? { value: 0.5 * e * e, slope: e } : { value: this.delta * (a - 0.5 * this.delta), slope: this.delta * Math.sign(e) };
  }
}
