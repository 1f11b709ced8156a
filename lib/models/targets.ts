// What fit, evaluate and trainPass take as y: integer class labels, or a
// tensor of target rows (one-hot rows, multi-label 0/1 rows, regression
// values), matched here with the loss that takes them and the model's output.
import { toInt32Labels } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { LabelArray } from '../data/batches.js';
import { type Loss, createLoss, type LossSpec } from '../nn/losses.js';

/** A model's targets: integer class labels (one per sample) or a tensor [N, ...output shape] of target values. */
export type Targets = LabelArray | Tensor;

/** What a loss check needs of the model: its output size and the activation a final layer folds into the loss. */
export interface TargetModel {
  readonly outputUnits: number;
  /** A final Softmax or Sigmoid the loss applies itself (null when the model ends in logits). */
  outputActivation(): { readonly kind: string; forward(x: Tensor, training: boolean): Tensor; backward(dy: Tensor, need: boolean): Tensor | null } | null;
}

/** Checks labels: one per sample, integers in [0, classes). */
export function checkLabels(y: unknown, count: number, classes: number, op: string, name = 'y'): LabelArray {
  if (!(y instanceof Int32Array || y instanceof Uint8Array || Array.isArray(y))) {
    throw new ValueError(`${op}: ${name} must be integer class labels (Int32Array, Uint8Array or number[]) or a tensor of target rows, got ${describe(y)}`);
  }
  if (y.length !== count) throw new ShapeError(`${op}: ${name} has ${y.length} labels but x has ${count} samples`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${name}[${i}] must be an integer class label, got ${describe(v)}`);
    if (v < 0 || v >= classes) throw new ValueError(`${op}: ${name}[${i}] = ${v} is outside the model's ${classes} classes [0, ${classes - 1}]`);
  }
  return y as LabelArray;
}

/** The loss against the model: a final sigmoid over several outputs does not go with softmax, and an explicit fromLogits must say what the model ends in. */
function checkLossAgainstModel(model: TargetModel, loss: Loss, op: string): void {
  const head = model.outputActivation();
  const softmaxLoss = loss.name === 'softmaxCrossEntropy' || loss.name === 'categoricalCrossentropy';
  if (head?.kind === 'Sigmoid' && softmaxLoss) {
    throw new ValueError(`${op}: the model ends in a sigmoid over ${model.outputUnits} outputs, which does not go with ${loss.name} (a softmax over them); end it in softmax, or use 'binaryCrossentropy' for multi-label targets`);
  }
  if (loss.fromLogits === true && head && !loss.onOutputs) {
    throw new ValueError(`${op}: loss ${loss.name} says fromLogits: true, but the model ends in ${head.kind}; remove that layer, or leave fromLogits false`);
  }
  if (loss.fromLogits === false && !head) {
    throw new ValueError(`${op}: loss ${loss.name} says fromLogits: false (probabilities), but the model ends in logits (no final softmax or sigmoid); say fromLogits: true, or end the model in softmax`);
  }
}

/** y as the loss takes it: labels checked against the classes, or values checked against the output size and for NaN. */
export interface ResolvedTargets {
  loss: Loss;
  /** Integer labels, where the loss takes labels. */
  labels: Int32Array | null;
  /** Target rows [N, outputUnits], where it takes values. */
  values: Tensor | null;
}

/**
 * Matches y with the loss: a tensor of rows goes to a loss of values (one-hot
 * rows to categorical cross-entropy), labels to a loss of labels, and a tensor
 * [N] or [N, 1] of integers (tfjs's tensor1d labels) to labels. A name that
 * takes the other kind is refused, saying which to use.
 */
export function resolveTargets(model: TargetModel, y: unknown, spec: LossSpec | undefined, count: number, op: string, name = 'y'): ResolvedTargets {
  const units = model.outputUnits;
  const classes = units === 1 ? 2 : units;
  const probe = typeof spec === 'object' && spec !== null ? spec : null;
  if (y instanceof Tensor) {
    if (y.shape[0] !== count) throw new ShapeError(`${op}: ${name} has ${y.shape[0]} rows but x has ${count} samples (${name}.shape = ${formatShape(y.shape)})`);
    const perSample = y.size / Math.max(count, 1);
    const labelShaped = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1);
    const wantsLabels = probe ? probe.targets !== 'values' : createLossKind(spec as Exclude<LossSpec, Loss> | undefined, units, op) === 'labels';
    if (wantsLabels && labelShaped && units > 1) {
      const labels = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = y.data[i];
        if (!Number.isInteger(v)) throw new ValueError(`${op}: ${name}[${i}] = ${v} is not an integer class label (a tensor of one value per sample is taken as labels)`);
        labels[i] = v;
      }
      return resolveTargets(model, labels, spec, count, op, name);
    }
    if (perSample !== units) {
      throw new ShapeError(`${op}: ${name} must be a tensor [${count}, ${units}] (one row of ${units} target values per sample, the model's output), got ${formatShape(y.shape)}`);
    }
    for (let i = 0; i < y.size; i++) {
      if (!Number.isFinite(y.data[i])) throw new ValueError(`${op}: ${name} holds ${y.data[i]} at sample ${Math.floor(i / units)}; targets must be finite`);
    }
    const loss = createLoss(spec, units, op, 'values');
    if (loss.targets !== 'values' && units === 1) return resolveTargets(model, Int32Array.from(y.data), spec, count, op, name);
    if (loss.targets !== 'values') throw new ValueError(`${op}: loss ${loss.name} takes integer labels, and ${name} is a tensor ${formatShape(y.shape)} of rows; give labels, or a loss of values`);
    checkLossAgainstModel(model, loss, op);
    return { loss, labels: null, values: y.reshape([count, units]) };
  }
  const labels = toInt32Labels(y, name, op);
  const loss = createLoss(spec, units, op, 'labels');
  checkLabels(labels, count, classes, op, name);
  if (loss.targets === 'values') {
    // A loss of values given labels: 0/1 labels of one output are its values.
    if (units !== 1) throw new ValueError(`${op}: loss ${loss.name} takes a tensor of target rows [N, ${units}], and ${name} holds integer labels${loss.name === 'categoricalCrossentropy' ? '; make one-hot rows with oneHot(y, classes), or use sparseCategoricalCrossentropy' : ''}`);
    checkLossAgainstModel(model, loss, op);
    return { loss, labels: null, values: new Tensor(Float32Array.from(labels), [count, 1]) };
  }
  checkLossAgainstModel(model, loss, op);
  return { loss, labels, values: null };
}

/** Whether a loss spec (not an object) takes labels or values, trying labels first. */
function createLossKind(spec: Exclude<LossSpec, Loss> | undefined, units: number, op: string): 'labels' | 'values' {
  try {
    createLoss(spec, units, op, 'labels');
    return 'labels';
  } catch {
    return 'values';
  }
}

/**
 * One-hot rows of integer labels: [N, depth] with a 1 at each label (tfjs's
 * tf.oneHot, Keras's to_categorical, torch's F.one_hot).
 * @example
 * ```ts
 * import { oneHot } from 'convkit';
 * oneHot([0, 2], 3).data; // [1, 0, 0, 0, 0, 1]
 * ```
 */
export function oneHot(labels: LabelArray | Tensor, depth: number): Tensor {
  if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`oneHot: depth must be a positive integer (the number of classes), got ${describe(depth)}`);
  const y = labels instanceof Tensor ? labels.data : labels;
  const n = y.length;
  const out = new Float32Array(n * depth);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= depth) throw new ValueError(`oneHot: labels[${i}] = ${typeof v === 'number' ? v : describe(v)} is not a class in [0, ${depth - 1}]`);
    out[i * depth + v] = 1;
  }
  return new Tensor(out, [n, depth]);
}

/** Keras's name for oneHot (`keras.utils.to_categorical(y, num_classes)`). */
export function toCategorical(labels: LabelArray | Tensor, numClasses: number): Tensor {
  return oneHot(labels, numClasses);
}
