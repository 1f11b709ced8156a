import { DTypeError, ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { checkSameShape, checkTensor } from './check.js';

/** Integer class labels, one per row of the logits. */
export type Labels = Int32Array | Uint8Array | readonly number[];

/** Integer class labels as an Int32Array, each checked against [0, classes). */
export function toLabelArray(labels: unknown, count: number, classes: number, op: string, name = 'labels'): Int32Array {
  let out: Int32Array;
  if (labels instanceof Int32Array) out = labels;
  else if (labels instanceof Uint8Array || Array.isArray(labels)) {
    out = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new DTypeError(`${op}: ${name}[${i}] must be an integer class index, got ${describe(v)}`);
      }
      out[i] = v;
    }
  } else {
    throw new DTypeError(`${op}: ${name} must be an Int32Array, Uint8Array or array of integers, got ${describe(labels)}`);
  }
  if (out.length !== count) throw new ShapeError(`${op}: ${name} has ${out.length} entries but logits has ${count} rows`);
  for (let i = 0; i < out.length; i++) {
    if (out[i] < 0 || out[i] >= classes) {
      throw new ValueError(`${op}: ${name}[${i}] = ${out[i]} is outside the ${classes} classes [0, ${classes - 1}]`);
    }
  }
  return out;
}

/**
 * Mean softmax cross-entropy of logits [N, K] against integer labels.
 * Stable for logits of any magnitude (log-sum-exp). dLogits is already divided by N.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Labels): { loss: number; dLogits: Tensor; probs: Tensor } {
  const op = 'softmaxCrossEntropy';
  checkTensor(logits, 'logits', op, 2);
  const [rows, cols] = logits.shape;
  if (rows === 0) throw new ShapeError(`${op}: logits must have at least one row, got logits.shape = ${formatShape(logits.shape)}`);
  if (cols < 1) throw new ShapeError(`${op}: logits must have at least one class, got logits.shape = ${formatShape(logits.shape)}`);
  const l = toLabelArray(labels, rows, cols, op);
  const probs = new Float32Array(logits.size);
  const dLogits = new Float32Array(logits.size);
  const loss = getBackend().softmaxCrossEntropy(probs, dLogits, logits.data, l, rows, cols);
  return { loss, dLogits: new Tensor(dLogits, logits.shape), probs: new Tensor(probs, logits.shape) };
}

/**
 * Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]
 * (same shape as logits, e.g. [N, 1]). Stable for logits of any magnitude.
 */
export function sigmoidBinaryCrossEntropy(logits: Tensor, targets: Tensor | Labels): { loss: number; dLogits: Tensor } {
  const op = 'sigmoidBinaryCrossEntropy';
  checkTensor(logits, 'logits', op);
  if (logits.size === 0) throw new ShapeError(`${op}: logits must not be empty, got logits.shape = ${formatShape(logits.shape)}`);
  let t: Tensor;
  if (targets instanceof Tensor) {
    checkTensor(targets, 'targets', op);
    checkSameShape(targets, 'targets', logits, 'logits', op);
    t = targets;
  } else if (targets instanceof Int32Array || targets instanceof Uint8Array || Array.isArray(targets)) {
    if (targets.length !== logits.size) throw new ShapeError(`${op}: targets has ${targets.length} entries but logits has ${logits.size}`);
    t = new Tensor(Float32Array.from(targets as ArrayLike<number>), logits.shape);
  } else {
    throw new DTypeError(`${op}: targets must be a Tensor or an array of 0/1 labels, got ${describe(targets)}`);
  }
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i];
    if (!(v >= 0 && v <= 1)) throw new ValueError(`${op}: targets[${i}] = ${v} must lie in [0, 1]`);
  }
  const dLogits = new Float32Array(logits.size);
  const loss = getBackend().sigmoidBinaryCrossEntropy(dLogits, logits.data, t.data);
  return { loss, dLogits: new Tensor(dLogits, logits.shape) };
}
