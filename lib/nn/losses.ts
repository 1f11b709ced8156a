import { getBackend } from '../backend/select.js';
import { checkBoolean, checkOptions, didYouMean, foldName } from '../core/check.js';
import { BinaryCrossEntropy, CategoricalCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, argmaxRows, logSumExp } from './value-losses.js';
import { ValueError, describe } from '../core/errors.js';

export { BinaryCrossEntropy, CategoricalCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError } from './value-losses.js';
import { Buffers } from './layers/layer.js';
import { Tensor } from '../core/tensor.js';

/**
 * A loss over a model's raw outputs (logits) and each sample's target, mean
 * over the batch. compute() writes dLoss/dLogits into a reused buffer.
 * Targets are integer class labels (the default, `targets: 'labels'`) or a
 * row of numbers per sample (`targets: 'values'`: one-hot or soft class
 * rows, 0/1 per output, regression values).
 */
export interface Loss {
  readonly name: string;
  /** What a sample's target is: an integer class ('labels', the default) or a row of the model's output size ('values'). */
  readonly targets?: 'labels' | 'values';
  /** The loss is of the model's outputs (a final sigmoid or softmax applied), not of its logits: the regression losses. */
  readonly onOutputs?: boolean;
  /** Keras's from_logits, where it was given: true says the model ends in logits, false in a softmax or sigmoid; fit checks it against the model. */
  readonly fromLogits?: boolean;
  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, targets: Int32Array | Float32Array): { loss: number; dLogits: Tensor };
  /** Probabilities from logits, for predict(). */
  probabilities(logits: Tensor): Tensor;
  /** Class predictions from logits. */
  classes(logits: Tensor): Int32Array;
  /** How many samples of the batch are right (a fraction each for multi-label; NaN where accuracy means nothing); without it, classes() against integer labels. */
  correct?(logits: Tensor, targets: Int32Array | Float32Array): number;
}

/** The loss names `createLoss`, `fit`, `compile` and model files accept, in convkit's spelling. */
export type LossName = 'softmaxCrossEntropy' | 'sigmoidBinaryCrossEntropy' | 'categoricalCrossentropy' | 'meanSquaredError' | 'meanAbsoluteError' | 'huber';

/**
 * Keras's, tfjs's and PyTorch's names for the same losses, in camelCase or
 * snake_case. Their `fromLogits: false` default expects probabilities, which
 * a final softmax or sigmoid gives: convkit folds that activation into the
 * loss, so a model ending in one trains the same.
 */
export type KerasLossName =
  | 'sparseCategoricalCrossentropy' | 'sparse_categorical_crossentropy' | 'categorical_crossentropy'
  | 'binaryCrossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mse' | 'mean_absolute_error' | 'mae' | 'huber_loss'
  | 'CrossEntropyLoss' | 'BCEWithLogitsLoss' | 'MSELoss' | 'L1Loss' | 'HuberLoss';

/** A loss as fit, compile and evaluate take it: a name (convkit's, Keras's, tfjs's, PyTorch's, or one given to registerLoss) or a Loss object. */
export type LossSpec = Loss | LossName | KerasLossName | (string & {});

/** What a name stands for: a loss of integer labels, of value rows, or both (the right one is taken from the targets). */
interface LossEntry {
  labels?: () => Loss;
  values?: () => Loss;
  /** Said when the targets are of the kind the loss does not take. */
  otherwise: string;
}

const LOSSES = new Map<string, LossEntry>();
const alias = (names: string[], entry: LossEntry) => names.forEach((n) => LOSSES.set(foldName(n), entry));
alias(['softmaxCrossEntropy', 'CrossEntropyLoss'], {
  labels: () => new SoftmaxCrossEntropy(), values: () => new CategoricalCrossEntropy(), otherwise: '',
});
alias(['sparseCategoricalCrossentropy'], {
  labels: () => new SoftmaxCrossEntropy(),
  otherwise: "takes integer class labels, and y is a tensor of rows (one-hot?); use 'categoricalCrossentropy' for one-hot rows, or give the labels (argmax of each row)",
});
alias(['categoricalCrossentropy'], {
  values: () => new CategoricalCrossEntropy(),
  otherwise: "takes one-hot rows (a tensor [N, classes]: oneHot(y, classes), Keras's to_categorical), and y holds integer labels; use 'sparseCategoricalCrossentropy' for labels",
});
alias(['sigmoidBinaryCrossEntropy', 'binaryCrossentropy', 'BCEWithLogitsLoss'], {
  labels: () => new SigmoidBinaryCrossEntropy(), values: () => new BinaryCrossEntropy(), otherwise: '',
});
const REGRESSION = 'is a regression loss: y must be a tensor of target values [N, ...output shape], not class labels';
alias(['meanSquaredError', 'mse', 'MSELoss'], { values: () => new MeanSquaredError(), otherwise: REGRESSION });
alias(['meanAbsoluteError', 'mae', 'L1Loss'], { values: () => new MeanAbsoluteError(), otherwise: REGRESSION });
alias(['huber', 'huberLoss'], { values: () => new Huber(), otherwise: REGRESSION });

const BUILT_IN = new Set(LOSSES.keys());

/** Every name a loss may be given by: convkit's, then the registered ones. */
export function lossNames(): string[] {
  return ['softmaxCrossEntropy', 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError', 'meanAbsoluteError', 'huber', ...registered.keys()];
}
const registered = new Map<string, () => Loss>();

/**
 * Registers a custom loss under a name, so `compile({loss: name})`, `fit`,
 * model files and the CLI's `--loss` find it (Keras's
 * `register_keras_serializable`, tfjs's `serialization.registerClass`).
 * make() gives a new Loss each time; its `targets` says whether y holds
 * labels or value rows.
 * @example
 * ```ts
 * import { registerLoss } from 'convkit';
 * registerLoss('squaredHinge', () => new SquaredHinge());
 * ```
 */
export function registerLoss(name: string, make: () => Loss): void {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new ValueError(`registerLoss: name must be letters, digits and _ starting with a letter, got ${describe(name)}`);
  if (typeof make !== 'function') throw new ValueError(`registerLoss: make must be a function () => Loss, got ${describe(make)}`);
  if (BUILT_IN.has(foldName(name))) throw new ValueError(`registerLoss: '${name}' is one of convkit's own losses; give the custom loss another name`);
  registered.set(name, make);
}

function checkLossObject(loss: unknown, fn: string): Loss {
  const l = loss as Loss;
  if (typeof l.compute !== 'function' || typeof l.probabilities !== 'function' || typeof l.classes !== 'function') {
    throw new ValueError(`${fn}: a loss object needs compute(logits, targets), probabilities(logits) and classes(logits), got ${describe(loss)}`);
  }
  if (l.targets !== undefined && l.targets !== 'labels' && l.targets !== 'values') throw new ValueError(`${fn}: loss.targets must be 'labels' or 'values', got ${describe(l.targets)}`);
  return l;
}

/**
 * Softmax cross-entropy over K classes: logits [N, K], labels in [0, K). With
 * labelSmoothing ε the target is (1 − ε)·onehot + ε/K, as torch's
 * CrossEntropyLoss(label_smoothing); without it the backend's fused kernel runs.
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly name = 'softmaxCrossEntropy' as const;
  readonly labelSmoothing: number;
  private readonly buffers = new Buffers();

  constructor(options: { labelSmoothing?: number } = {}) {
    const e = options.labelSmoothing ?? 0;
    if (typeof e !== 'number' || !(e >= 0 && e < 1)) throw new ValueError(`sparseCategoricalCrossentropy: labelSmoothing must be in [0, 1), got ${describe(e)}`);
    this.labelSmoothing = e;
  }

  /** The mean loss over the batch and dLoss/dLogits (in a reused buffer). */
  compute(logits: Tensor, labels: Int32Array) {
    const [rows, cols] = logits.shape;
    const { probs, d } = this.outputsFor(logits.size);
    const loss = getBackend().softmaxCrossEntropy(probs, d, logits.data, labels, rows, cols);
    const e = this.labelSmoothing;
    if (e === 0) return { loss, dLogits: new Tensor(d, logits.shape) };
    // L = (1 − ε)·CE + ε·mean_j(−log p_j); dL/dz = p − t.
    let uniform = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const logSum = logSumExp(logits.data, o, cols);
      for (let j = 0; j < cols; j++) uniform += logSum - logits.data[o + j];
      for (let j = 0; j < cols; j++) d[o + j] = (probs[o + j] - (j === labels[r] ? 1 - e : 0) - e / cols) / rows;
    }
    return { loss: (1 - e) * loss + (e * uniform) / (rows * cols), dLogits: new Tensor(d, logits.shape) };
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
    return argmaxRows(logits.data, logits.shape[0], logits.shape[1]);
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
 * The loss a name stands for, for targets of this kind (integer labels by
 * default, or value rows); undefined gives softmax cross-entropy, or sigmoid
 * binary cross-entropy for one output.
 * @example
 * ```ts
 * import { createLoss } from 'convkit';
 * const loss = createLoss('softmaxCrossEntropy', 10);
 * ```
 */
export function createLoss(loss: LossSpec | undefined, outputs: number, fn = 'createLoss', targets: 'labels' | 'values' = 'labels'): Loss {
  if (loss === undefined) {
    if (targets === 'values') return outputs === 1 ? new BinaryCrossEntropy() : new CategoricalCrossEntropy();
    return outputs === 1 ? new SigmoidBinaryCrossEntropy() : new SoftmaxCrossEntropy();
  }
  if (typeof loss === 'object' && loss !== null) return checkLossObject(loss, fn);
  if (typeof loss === 'string') {
    const custom = registered.get(loss);
    if (custom) return checkLossObject(custom(), `${fn} (registered loss '${loss}')`);
    const entry = LOSSES.get(foldName(loss));
    if (entry) {
      const make = targets === 'values' ? entry.values : entry.labels;
      if (!make) throw new ValueError(`${fn}: loss '${loss}' ${entry.otherwise}`);
      return make();
    }
  }
  const hint = typeof loss === 'string' ? didYouMean(loss, lossNames()) : '';
  throw new ValueError(`${fn}: loss must be one of ${lossNames().map((n) => `'${n}'`).join(', ')} or a Loss object, got ${describe(loss)}${hint}`);
}

/** The fromLogits option of the loss factories, as Keras's from_logits. */
export interface FromLogitsOption {
  /** true: the model ends in logits; false: in a softmax (sigmoid for binary). Checked against the model by fit; left out, either is taken. */
  fromLogits?: boolean;
}

function withFromLogits<T extends Loss>(loss: T, options: FromLogitsOption | undefined, fn: string): T {
  checkOptions(options, ['fromLogits', 'labelSmoothing', 'delta'], fn);
  if (options?.fromLogits !== undefined) Object.defineProperty(loss, 'fromLogits', { value: checkBoolean(options.fromLogits, 'fromLogits', fn), enumerable: true });
  return loss;
}

/**
 * The losses by the names Keras's `keras.losses` and tfjs's `tf.losses` give
 * them, with their options.
 * @example
 * ```ts
 * import { losses } from 'convkit';
 * model.compile({ optimizer: 'adam', loss: losses.categoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }) });
 * ```
 */
export const losses = {
  /** Integer labels, softmax cross-entropy (torch's CrossEntropyLoss with class indices, and its label_smoothing). */
  sparseCategoricalCrossentropy: (options?: FromLogitsOption & { labelSmoothing?: number }) =>
    withFromLogits(new SoftmaxCrossEntropy({ labelSmoothing: options?.labelSmoothing }), options, 'sparseCategoricalCrossentropy'),
  /** One-hot or soft rows, softmax cross-entropy, with Keras's labelSmoothing. */
  categoricalCrossentropy: (options?: FromLogitsOption & { labelSmoothing?: number }) =>
    withFromLogits(new CategoricalCrossEntropy({ labelSmoothing: options?.labelSmoothing }), options, 'categoricalCrossentropy'),
  /** Sigmoid binary cross-entropy: 0/1 labels for one output, or a tensor of 0..1 targets for several (multi-label). */
  binaryCrossentropy: (options?: FromLogitsOption) => withFromLogits(new BinaryCrossEntropy(), options, 'binaryCrossentropy'),
  /** Mean squared error of the outputs. */
  meanSquaredError: () => new MeanSquaredError(),
  /** Mean absolute error of the outputs. */
  meanAbsoluteError: () => new MeanAbsoluteError(),
  /** Huber loss of the outputs (default delta 1). */
  huber: (options?: { delta?: number }) => new Huber(options),
};
