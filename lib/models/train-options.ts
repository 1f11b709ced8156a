// What fit, evaluate and predict take and give: their options (checked
// here), their logs and history, and the model they drive.
import { checkBoolean, checkOneOf, checkOptions, checkPositiveInt } from '../core/check.js';
import { ConvkitError } from '../core/errors.js';
import type { Augmentation, ClassWeight } from '../data/sampling.js';
import type { KerasLossName, Loss, LossName } from '../nn/losses.js';
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
  checkInput(x: Tensor, op: string): Tensor;
  forwardInPlace(x: Tensor, training: boolean): Tensor;
  trainPassInPlace(x: Tensor, labels: Int32Array, loss: Loss): { loss: number; logits: Tensor };
  parameters(): Parameter[];
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, Tensor>): void;
}

/** Training hit a non-finite loss. */
export class NonFiniteError extends ConvkitError {}

/** One epoch's results, as the history and onEpochEnd see them. */
export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
}

/** What a callback's onBatchEnd receives. */
export interface BatchLogs {
  epoch: number;
  batch: number;
  loss: number;
  accuracy: number;
}

/** Hooks called during fit; any may be async. Returning 'stop' from onEpochEnd ends training. */
export interface Callbacks {
  /** Once, before the first epoch. */
  onTrainBegin?(): unknown;
  /** Before each epoch, with its number. */
  onEpochBegin?(epoch: number): unknown;
  /** After each batch (may return a promise, which fit awaits). */
  onBatchEnd?(logs: BatchLogs): unknown;
  /** history is fit's own record so far, this epoch included (read it, do not change it). */
  onEpochEnd?(logs: EpochLogs, history: History): unknown;
  /** Once, after the last epoch (or an early stop), with the history. */
  onTrainEnd?(history: History): unknown;
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
  loss?: Loss | LossName | KerasLossName;
  /** Held-out data, or the fraction of (x, y) to hold out, drawn at random (seeded) from all of it. */
  validation?: { x: Tensor; y: LabelArray } | number;
  /** Keras's and tfjs's meaning: the last fraction of (x, y), as given and before shuffling, held out (unlike validation: F, which draws at random). */
  validationSplit?: number;
  /** Keras's name for held-out data: the same as validation: {x, y}. */
  validationData?: { x: Tensor; y: LabelArray };
  callbacks?: Callbacks | Callbacks[];
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

/** What `fit` resolves to: one entry per epoch. */
export interface History {
  epochs: EpochLogs[];
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  /** Training loss of every iteration, for curves. */
  iterationLoss: number[];
  stoppedEarly: boolean;
  interrupted: boolean;
  /** Where an interrupted run stopped: the epoch in progress, the batches of it done, and its running sums. */
  stoppedAt?: { epoch: number; batch: number } & Partial<EpochSums>;
}

/** Options of `evaluate`: batch size and loss. */
export interface EvaluateOptions {
  batchSize?: number;
  loss?: Loss | LossName | KerasLossName;
  /** Let NaN or infinite inputs through (their rows then give NaN); by default they are refused, naming the row. */
  allowNonFinite?: boolean;
}

/** Options of `predict`, `predictLogits` and `predictClasses`. */
export interface PredictOptions {
  batchSize?: number;
  loss?: Loss | LossName | KerasLossName;
  /** Let NaN or infinite inputs through (their rows then give NaN); by default they are refused, naming the row. */
  allowNonFinite?: boolean;
}

const PREDICT_OPTIONS = ['batchSize', 'loss', 'allowNonFinite'];

/** Checks the options of predict, predictLogits, predictClasses and evaluate. */
export function checkPredictOptions(options: PredictOptions | EvaluateOptions, fn: string): void {
  checkOptions(options, PREDICT_OPTIONS, fn);
  if (options.batchSize !== undefined) checkPositiveInt(options.batchSize, 'batchSize', fn);
  if (options.allowNonFinite !== undefined) checkBoolean(options.allowNonFinite, 'allowNonFinite', fn);
}

export const FIT_OPTIONS = [
  'epochs', 'batchSize', 'optimizer', 'learningRate', 'loss', 'validation', 'validationSplit', 'validationData', 'callbacks', 'seed',
  'shuffle', 'earlyStopping', 'verbose', 'checkFinite', 'signal', 'initialEpoch', 'initialBatch', 'initialEpochSums', 'classWeight', 'augment',
];
export const CALLBACK_NAMES = ['onTrainBegin', 'onEpochBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'];

