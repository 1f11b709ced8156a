// What fit, evaluate and predict take and give: their options (checked
// here), their logs and history, and the model they drive.
import { checkBoolean, checkOneOf, checkOptions, checkPositiveInt } from '../core/check.js';
import { ConvkitError } from '../core/errors.js';
import type { Augmentation } from '../data/augment.js';
import type { ClassWeight } from '../data/sampling.js';
import type { Loss, LossSpec } from '../nn/losses.js';
import type { MetricFunction } from '../nn/batch-metrics.js';
import type { Optimizer, OptimizerName } from '../optim/optimizers.js';
import type { Parameter } from '../nn/layers/layer.js';
import type { Verbosity } from '../core/progress.js';
import type { Tensor } from '../core/tensor.js';
import type { LabelArray } from '../data/batches.js';

/**
 * The model the training loop drives (Sequential is one). The loop knows a
 * model by this alone, so that model.ts can import train.ts for fit() and
 * not the other way round.
 */
export interface TrainableModel {
  /** Output units per sample (classes, or 1 for a binary model). */
  readonly outputUnits: number;
  /** Set by a callback to stop fit() after the current epoch. */
  stopTraining: boolean;
  /** The optimizer the current (or last) fit steps with, as Keras's model.optimizer (callbacks such as reduceLROnPlateau change its rate). */
  optimizer?: Optimizer | null;
  checkInput(x: Tensor, op: string): Tensor;
  forwardInPlace(x: Tensor, training: boolean): Tensor;
  /** targets: a label per sample, or rows of values [n · outputUnits], as the loss takes them. */
  trainPassInPlace(x: Tensor, targets: Int32Array | Float32Array, loss: Loss): { loss: number; logits: Tensor };
  /** A final Softmax or Sigmoid that the loss applies itself (null when the model ends in logits). */
  outputActivation(): { readonly kind: string; forward(x: Tensor, training: boolean): Tensor; backward(dy: Tensor, need: boolean): Tensor | null } | null;
  parameters(): Parameter[];
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, Tensor>): void;
}

/** Training hit a non-finite loss. */
export class NonFiniteError extends ConvkitError {}

/** One epoch's results, as the history and onEpochEnd see them. */
export interface EpochLogs {
  /** The epoch's index, counted from 0 as Keras and tfjs count (the progress line prints it plus 1). */
  epoch: number;
  loss: number;
  /** Accuracy over the epoch's batches (NaN under a regression loss). */
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** The rate after the epoch's last step, which the next batch uses (torch's scheduler.get_last_lr() printed at the epoch's end). */
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
  /** The means of the metrics asked for (compile's or fit's metrics, accuracy aside), by name. */
  metrics?: Record<string, number>;
  /** The same over the validation data. */
  valMetrics?: Record<string, number>;
}

/** What `evaluate` returns: the mean loss, the accuracy (NaN under a regression loss) and the metrics asked for. */
export interface EvaluateResult {
  loss: number;
  accuracy: number;
  metrics?: Record<string, number>;
}

/**
 * The epoch logs as callbacks receive them: convkit's fields and the keys a
 * Keras or tfjs callback reads (`val_loss`, `acc` and `val_acc` as tfjs
 * names them, `val_accuracy` and `learning_rate` as Keras does).
 */
export interface CallbackEpochLogs extends EpochLogs {
  /** Each metric and val_ metric by its name, as Keras's logs carry them. */
  [metric: string]: number | Record<string, number> | undefined;
  acc: number;
  val_loss?: number;
  val_accuracy?: number;
  val_acc?: number;
  learning_rate: number;
}

/** logs with the Keras and tfjs keys added. */
export function kerasLogs(logs: EpochLogs): CallbackEpochLogs {
  const out: CallbackEpochLogs = { ...logs, acc: logs.accuracy, learning_rate: logs.learningRate };
  if (logs.valLoss !== undefined) {
    out.val_loss = logs.valLoss;
    out.val_accuracy = out.val_acc = logs.valAccuracy;
  }
  for (const [name, value] of Object.entries(logs.metrics ?? {})) out[name] ??= value;
  for (const [name, value] of Object.entries(logs.valMetrics ?? {})) out[`val_${name}`] ??= value;
  return out;
}

/** What a callback's onBatchEnd receives (tfjs's batch logs: the batch's index and size, its loss, the epoch's accuracy so far). */
export interface BatchLogs {
  /** The batch's index in the epoch, from 0 (the same as onBatchEnd's first argument). */
  batch: number;
  /** Samples in the batch. */
  size: number;
  /** The epoch's index, from 0. */
  epoch: number;
  /** This batch's mean loss. */
  loss: number;
  /** Accuracy over the epoch's batches so far. */
  accuracy: number;
  /** The same, under tfjs's key. */
  acc: number;
}

/**
 * Hooks called during fit, with Keras's and tfjs's signatures: epochs and
 * batches counted from 0, logs with their keys. Any may be async (fit awaits
 * it). Returning 'stop' from onEpochEnd, or setting model.stopTraining, ends
 * training after that epoch.
 */
export interface Callbacks {
  /** Once, before the first epoch. */
  onTrainBegin?(logs: Record<string, never>): unknown;
  /** Before each epoch, with its index. */
  onEpochBegin?(epoch: number, logs: Record<string, never>): unknown;
  /** Before each batch, with its index in the epoch and its size. */
  onBatchBegin?(batch: number, logs: { batch: number; size: number }): unknown;
  /** After each batch. */
  onBatchEnd?(batch: number, logs: BatchLogs): unknown;
  /** After each epoch; history is fit's own record so far, this epoch included (read it, do not change it). */
  onEpochEnd?(epoch: number, logs: CallbackEpochLogs, history: History): unknown;
  /** Once, after the last epoch (or an early stop), with the last epoch's logs and the history. */
  onTrainEnd?(logs: CallbackEpochLogs | Record<string, never>, history: History): unknown;
}

/** What early stopping can watch, in convkit's names and Keras's. */
export type Monitor = 'valLoss' | 'valAccuracy' | 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';
const MONITOR_NAMES: Record<Monitor, 'valLoss' | 'valAccuracy' | 'loss' | 'accuracy'> = {
  valLoss: 'valLoss', valAccuracy: 'valAccuracy', loss: 'loss', accuracy: 'accuracy', val_loss: 'valLoss', val_accuracy: 'valAccuracy',
};

/** A Keras monitor name ('val_loss') as the EpochLogs field it reads ('valLoss'). */
export function monitorField(monitor: unknown, fn: string): 'valLoss' | 'valAccuracy' | 'loss' | 'accuracy' {
  return MONITOR_NAMES[checkOneOf(monitor, Object.keys(MONITOR_NAMES) as Monitor[], 'monitor', fn)];
}

/** Stops training when the watched value stops improving (Keras's EarlyStopping). */
export interface EarlyStopping {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** 'valLoss' ('val_loss'), 'valAccuracy' ('val_accuracy'), 'loss' or 'accuracy'; default valLoss with validation data, else loss. */
  monitor?: Monitor;
  minDelta?: number;
  /** Put back the weights of the best epoch at the end (default true). */
  restoreBestWeights?: boolean;
}

/** Options of `fit`: epochs, batch size, optimizer, loss, validation, callbacks, augmentation and seed. */
export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  optimizer?: Optimizer | OptimizerName;
  learningRate?: number;
  loss?: LossSpec;
  /** Held-out data, or the fraction of (x, y) to hold out, drawn at random (seeded) from all of it. */
  validation?: { x: Tensor; y: LabelArray | Tensor } | number;
  /** Keras's and tfjs's meaning: the last fraction of (x, y), as given and before shuffling, held out (unlike validation: F, which draws at random). */
  validationSplit?: number;
  /** Keras's name for held-out data: the same as validation: {x, y}. */
  validationData?: { x: Tensor; y: LabelArray | Tensor };
  callbacks?: Callbacks | Callbacks[];
  /** Metrics beside the loss and accuracy: Keras's names ('mse', 'mae'), registered names, or named functions (targets, outputs) => batch mean. */
  metrics?: readonly (string | MetricFunction)[];
  seed?: number;
  shuffle?: boolean;
  earlyStopping?: EarlyStopping;
  /** 0 silent, 1 progress bar on a terminal (lines otherwise), 2 one line per epoch. */
  verbose?: Verbosity;
  /**
   * Stop with NonFiniteError naming the epoch and batch when the loss (true or
   * 'loss', the default) or also any gradient ('all') is NaN or infinite,
   * before the optimizer touches the weights.
   */
  checkFinite?: boolean | 'loss' | 'all';
  /** Aborting stops training after the current batch. */
  signal?: AbortSignal;
  /** Epochs already done (resuming); epochs counts the total. */
  initialEpoch?: number;
  /** Batches of the next epoch already done (resuming an interrupted epoch). */
  initialBatch?: number;
  /**
   * The interrupted epoch's running sums (history.stoppedAt gives them), so
   * that its loss and accuracy cover every batch, as if it had not stopped.
   */
  initialEpochSums?: EpochSums;
  /**
   * Weights per class, or 'balanced' (n / (classes · count), as Keras and
   * scikit-learn). Applied by sampling: each epoch draws as many samples as
   * there are, with replacement, in proportion to their class's weight
   * (PyTorch's WeightedRandomSampler), so the expected gradient is that of
   * the weighted loss and rare classes are seen as often as they weigh.
   */
  classWeight?: ClassWeight;
  /** Random shifts (pixels) and left-right flips of each training batch, seeded per batch. */
  augment?: Augmentation;
}

/** Running sums of an epoch in progress: the loss times batch size, correct predictions, samples seen. */
export interface EpochSums {
  lossSum: number;
  correct: number;
  seen: number;
}

/**
 * What `fit` resolves to: one entry per epoch. `history.history` and
 * `history.epoch` give the same numbers as Keras's and tfjs's History does
 * (`history.history.val_loss`, `history.history.acc`).
 */
export interface History {
  epochs: EpochLogs[];
  /** Keras's and tfjs's view: each logged value by its key (loss, acc, accuracy, val_loss, val_acc, val_accuracy, learning_rate), one entry per epoch. */
  readonly history?: Record<string, number[]>;
  /** Keras's and tfjs's list of the epochs' indices. */
  readonly epoch?: number[];
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  /** Training loss of every iteration, for curves. */
  iterationLoss: number[];
  stoppedEarly: boolean;
  interrupted: boolean;
  /** Where an interrupted run stopped: the index of the epoch in progress (the epochs done), the batches of it done, and its running sums. */
  stoppedAt?: { epoch: number; batch: number } & Partial<EpochSums>;
}

/** A new, empty History, with Keras's views `history` and `epoch` as getters (not saved with it). */
export function newHistory(): History {
  const h: History = { epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [], iterationLoss: [], stoppedEarly: false, interrupted: false };
  return withKerasViews(h);
}

/** Adds the getters `history` and `epoch` to a History (one read back from a file, for example). */
export function withKerasViews(h: History): History {
  Object.defineProperty(h, 'history', {
    enumerable: false,
    configurable: true,
    get() {
      const out: Record<string, number[]> = {};
      for (const e of h.epochs) {
        for (const [key, value] of Object.entries(kerasLogs(e))) {
          if (key === 'epoch' || key === 'seconds' || key === 'imagesPerSecond' || typeof value !== 'number') continue;
          (out[key] ??= []).push(value);
        }
      }
      return out;
    },
  });
  Object.defineProperty(h, 'epoch', { enumerable: false, configurable: true, get: () => h.epochs.map((e) => e.epoch) });
  return h;
}

/** Appends an epoch's logs to the history. */
export function recordEpoch(history: History, logs: EpochLogs): void {
  history.epochs.push(logs);
  history.loss.push(logs.loss);
  history.accuracy.push(logs.accuracy);
  if (logs.valLoss !== undefined) {
    history.valLoss.push(logs.valLoss);
    history.valAccuracy.push(logs.valAccuracy!);
  }
}

/** Options of `evaluate`: batch size and loss. */
export interface EvaluateOptions {
  batchSize?: number;
  /** As fit's metrics. */
  metrics?: readonly (string | MetricFunction)[];
  loss?: LossSpec;
  /** Let NaN or infinite inputs through (their rows then give NaN); by default they are refused, naming the row. */
  allowNonFinite?: boolean;
  /** As predict's. */
  tta?: TestTimeAugmentation;
}

/**
 * Test-time augmentation: 'flip' runs each image and its left-right mirror
 * and averages the two outputs' logits (the airbench and fast.ai habit),
 * which costs a second forward pass and usually gains a few tenths of a
 * percent on photographs. 'none' (the default) runs each image once.
 */
export type TestTimeAugmentation = 'none' | 'flip';

/** Options of `predict`, `predictLogits` and `predictClasses`. */
export interface PredictOptions {
  batchSize?: number;
  loss?: LossSpec;
  /** Let NaN or infinite inputs through (their rows then give NaN); by default they are refused, naming the row. */
  allowNonFinite?: boolean;
  /** Test-time augmentation (default 'none'): 'flip' averages the logits of each image and its mirror; for image inputs whose class a mirror keeps (not digits). */
  tta?: TestTimeAugmentation;
}

const PREDICT_OPTIONS = ['batchSize', 'loss', 'allowNonFinite', 'tta'];
const EVALUATE_OPTIONS = [...PREDICT_OPTIONS, 'metrics'];

/** Checks the options of predict, predictLogits, predictClasses and evaluate. */
export function checkPredictOptions(options: PredictOptions | EvaluateOptions, fn: string): void {
  checkOptions(options, fn === 'evaluate' ? EVALUATE_OPTIONS : PREDICT_OPTIONS, fn);
  if (options.batchSize !== undefined) checkPositiveInt(options.batchSize, 'batchSize', fn);
  if (options.allowNonFinite !== undefined) checkBoolean(options.allowNonFinite, 'allowNonFinite', fn);
  if (options.tta !== undefined) checkOneOf(options.tta, ['none', 'flip'] as const, 'tta', fn);
}

export const FIT_OPTIONS = [
  'epochs', 'batchSize', 'optimizer', 'learningRate', 'loss', 'metrics', 'validation', 'validationSplit', 'validationData', 'callbacks', 'seed',
  'shuffle', 'earlyStopping', 'verbose', 'checkFinite', 'signal', 'initialEpoch', 'initialBatch', 'initialEpochSums', 'classWeight', 'augment',
];
export const CALLBACK_NAMES = ['onTrainBegin', 'onEpochBegin', 'onBatchBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'];

