// Keras's and tfjs's model.compile: the optimizer, loss and metrics that fit
// and evaluate use when their own options do not name them.
import { checkOptions } from '../core/check.js';
import { ValueError } from '../core/errors.js';
import { type MetricFunction, resolveMetrics } from '../nn/batch-metrics.js';
import { type LossSpec, createLoss } from '../nn/losses.js';
import { type Optimizer, type OptimizerName, createOptimizer } from '../optim/optimizers.js';

/** Options of `model.compile`. */
export interface CompileOptions {
  optimizer: Optimizer | OptimizerName | (string & {});
  /** A loss name (convkit's, Keras's, tfjs's, torch's or a registered one) or a Loss; matched with fit's targets (labels or one-hot rows). */
  loss?: LossSpec;
  /** Accuracy under any of its Keras names, 'mse', 'mae', registered names or named functions (targets, outputs) => batch mean. */
  metrics?: readonly (string | MetricFunction)[];
}

/** What compile keeps. */
export interface Compiled {
  optimizer: Optimizer;
  /** The optimizer's name when one was given: fit's learningRate then makes a new one of that kind. */
  optimizerName: OptimizerName | undefined;
  loss: LossSpec | undefined;
  metrics: readonly (string | MetricFunction)[] | undefined;
}

/** Checks compile's options against the model (its output size) and makes the optimizer. */
export function checkCompileOptions(options: CompileOptions, model: string, built: boolean, outputUnits: number): Compiled {
  if (options === undefined) throw new ValueError(`${model}.compile: options {optimizer, loss?, metrics?} are required, got undefined`);
  checkOptions(options, ['optimizer', 'loss', 'metrics'], 'compile');
  if (options.optimizer === undefined) throw new ValueError(`compile: optimizer is required ('adam', 'sgd', 'rmsprop', ... or an Optimizer), got undefined`);
  if (!built) throw new ValueError(`${model}.compile: build the model first (give inputShape, or call build([h, w, c])), so the loss can be matched to its outputs`);
  const optimizer = createOptimizer(options.optimizer, undefined, 'compile');
  // The name is matched with the targets at fit time (one-hot rows or labels); here it must name a loss of either kind.
  try {
    createLoss(options.loss, outputUnits, 'compile', 'labels');
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    createLoss(options.loss, outputUnits, 'compile', 'values');
  }
  resolveMetrics(options.metrics, 'compile');
  return { optimizer, optimizerName: typeof options.optimizer === 'string' ? (options.optimizer as OptimizerName) : undefined, loss: options.loss, metrics: options.metrics };
}
