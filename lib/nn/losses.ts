import { getBackend } from '../backend/select.js';
import { didYouMean, foldName } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import { Buffers } from './layers/layer.js';
import { Tensor } from '../core/tensor.js';

/**
 * A loss over a model's raw outputs (logits) and integer labels, mean over
 * the batch. compute() writes dLoss/dLogits into a reused buffer.
 */
export interface Loss {
  readonly name: LossName;
  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, labels: Int32Array): { loss: number; dLogits: Tensor };
  /** Probabilities from logits, for predict(). */
  probabilities(logits: Tensor): Tensor;
  /** Class predictions from logits. */
  classes(logits: Tensor): Int32Array;
}

/** The loss names `createLoss`, `fit` and model files accept. */
export type LossName = 'softmaxCrossEntropy' | 'sigmoidBinaryCrossEntropy';

/**
 * Keras's and tfjs's names for the same losses. Their `fromLogits: false`
 * default expects probabilities, which a final softmax or sigmoid gives: convkit
 * folds that activation into the loss, so a model ending in one trains the same.
 */
export type KerasLossName = 'sparseCategoricalCrossentropy' | 'sparse_categorical_crossentropy' | 'binaryCrossentropy' | 'binary_crossentropy';

const KERAS_LOSSES = new Map<string, LossName>([
  ['softmaxcrossentropy', 'softmaxCrossEntropy'],
  ['sparsecategoricalcrossentropy', 'softmaxCrossEntropy'],
  ['sigmoidbinarycrossentropy', 'sigmoidBinaryCrossEntropy'],
  ['binarycrossentropy', 'sigmoidBinaryCrossEntropy'],
]);

/** Softmax cross-entropy over K classes: logits [N, K], labels in [0, K). */
export class SoftmaxCrossEntropy implements Loss {
  readonly name = 'softmaxCrossEntropy' as const;
  private readonly buffers = new Buffers();

  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, labels: Int32Array) {
    const [rows, cols] = logits.shape;
    const { probs, d } = this.outputsFor(logits.size);
    const loss = getBackend().softmaxCrossEntropy(probs, d, logits.data, labels, rows, cols);
    return { loss, dLogits: new Tensor(d, logits.shape) };
  }

  /** The buffers compute() writes for logits of this size (a whole training pass writes them too). */
  outputsFor(size: number): { probs: Float32Array; d: Float32Array } {
    return { probs: this.buffers.get('probs', size), d: this.buffers.get('d', size) };
  }

  probabilities(logits: Tensor): Tensor {
    const [rows, cols] = logits.shape;
    const y = new Float32Array(logits.size);
    getBackend().softmax(y, logits.data, rows, cols);
    return new Tensor(y, logits.shape);
  }

  classes(logits: Tensor): Int32Array {
    const [rows, cols] = logits.shape;
    const out = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 1; j < cols; j++) if (logits.data[r * cols + j] > logits.data[r * cols + best]) best = j;
      out[r] = best;
    }
    return out;
  }
}

/** Binary cross-entropy of sigmoid(logits) for one output: logits [N, 1], labels 0 or 1. */
export class SigmoidBinaryCrossEntropy implements Loss {
  readonly name = 'sigmoidBinaryCrossEntropy' as const;
  private readonly buffers = new Buffers();

  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, labels: Int32Array) {
    const targets = this.buffers.get('t', labels.length);
    for (let i = 0; i < labels.length; i++) targets[i] = labels[i];
    const d = this.buffers.get('d', logits.size);
    const loss = getBackend().sigmoidBinaryCrossEntropy(d, logits.data, targets);
    return { loss, dLogits: new Tensor(d, logits.shape) };
  }

  probabilities(logits: Tensor): Tensor {
    const y = new Float32Array(logits.size);
    getBackend().sigmoid(y, logits.data);
    return new Tensor(y, logits.shape);
  }

  classes(logits: Tensor): Int32Array {
    return Int32Array.from(logits.data, (z) => (z > 0 ? 1 : 0));
  }
}

/**
 * The loss a name stands for; undefined gives softmax cross-entropy, or sigmoid binary cross-entropy for one output.
 * @example
 * ```ts
 * import { createLoss } from 'convkit';
 * const loss = createLoss('softmaxCrossEntropy', 10);
 * ```
 */
export function createLoss(loss: LossName | KerasLossName | Loss | undefined, outputs: number, fn = 'createLoss'): Loss {
  if (loss === undefined) return outputs === 1 ? new SigmoidBinaryCrossEntropy() : new SoftmaxCrossEntropy();
  if (typeof loss === 'object' && loss !== null && typeof loss.compute === 'function') return loss;
  const name = typeof loss === 'string' ? KERAS_LOSSES.get(foldName(loss)) : undefined;
  if (name === 'softmaxCrossEntropy') return new SoftmaxCrossEntropy();
  if (name === 'sigmoidBinaryCrossEntropy') return new SigmoidBinaryCrossEntropy();
  if (typeof loss === 'string' && /^categorical_?crossentropy$/i.test(loss)) {
    throw new ValueError(`${fn}: loss '${loss}' takes one-hot targets, which convkit does not take yet; give integer class labels (argmax of the one-hot rows) with 'sparseCategoricalCrossentropy'`);
  }
  const hint = typeof loss === 'string' ? didYouMean(loss, ['softmaxCrossEntropy', 'sigmoidBinaryCrossEntropy', 'sparseCategoricalCrossentropy', 'binaryCrossentropy']) : '';
  throw new ValueError(`${fn}: loss must be 'softmaxCrossEntropy' (Keras's 'sparseCategoricalCrossentropy'), 'sigmoidBinaryCrossEntropy' ('binaryCrossentropy') or a Loss, got ${describe(loss)}${hint}`);
}
