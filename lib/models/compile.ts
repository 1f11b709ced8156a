// Keras's and tfjs's model.compile: the optimizer, loss and metrics that fit
// and evaluate use when their own options do not name them.
import { checkOptions } from '../core/check.js';
import { FormatError, ValueError } from '../core/errors.js';
import { type MetricFunction, resolveMetrics } from '../nn/batch-metrics.js';
import { type Loss, type LossSpec, createLoss, losses } from '../nn/losses.js';
import { type Optimizer, type OptimizerName, createOptimizer, optimizerFromConfig } from '../optim/optimizers.js';

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

/** A loss as JSON: its name, with the options of convkit's parametrised losses. */
function lossJson(loss: LossSpec | undefined): unknown {
  if (loss === undefined || typeof loss === 'string') return loss ?? null;
  const l = loss as Loss & { labelSmoothing?: number; delta?: number };
  const out: Record<string, unknown> = { name: l.name };
  if (l.labelSmoothing) out.labelSmoothing = l.labelSmoothing;
  if (l.name === 'huber' && l.delta !== undefined) out.delta = l.delta;
  if (l.fromLogits !== undefined) out.fromLogits = l.fromLogits;
  return out;
}

/**
 * What compile set, as JSON for a checkpoint (Keras's training_config): the
 * optimizer's config, the loss by name (with its options), the metrics by
 * name. A metric given as a function cannot be saved: it is named in a
 * warning (registerMetric gives it a name that is saved).
 */
export function trainingConfig(compiled: Compiled): Record<string, unknown> {
  const metrics = (compiled.metrics ?? []).filter((m): m is string => typeof m === 'string');
  const functions = (compiled.metrics ?? []).filter((m) => typeof m === 'function').map((m) => (m as MetricFunction).name);
  if (functions.length) process.emitWarning(`convkit: the metric function(s) ${functions.join(', ')} are not saved with the model; register them with registerMetric and compile by name to keep them`, { code: 'CONVKIT_UNSAVED_METRIC' });
  return { optimizer: compiled.optimizer.config(), loss: lossJson(compiled.loss), metrics };
}

/** compile()'s options back from trainingConfig's JSON; a loss, metric or optimizer not registered here is named. */
export function compileOptionsFromJson(json: Record<string, unknown>, source: string): CompileOptions {
  const fail = (what: string, error: unknown) => new FormatError(`${source}: the model was compiled with ${what}, which cannot be rebuilt here: ${(error as Error).message}`);
  let optimizer: Optimizer;
  try {
    optimizer = optimizerFromConfig(json.optimizer as Record<string, unknown>);
  } catch (error) {
    throw fail(`optimizer ${JSON.stringify((json.optimizer as { kind?: unknown })?.kind)}`, error);
  }
  let loss: LossSpec | undefined;
  const l = json.loss as string | null | { name: string; labelSmoothing?: number; delta?: number; fromLogits?: boolean };
  if (typeof l === 'string') loss = l;
  else if (l && typeof l === 'object' && typeof l.name === 'string') {
    const logits = l.fromLogits === undefined ? {} : { fromLogits: l.fromLogits };
    if (l.name === 'categoricalCrossentropy') loss = losses.categoricalCrossentropy({ labelSmoothing: l.labelSmoothing, ...logits });
    else if (l.name === 'huber') loss = losses.huber({ delta: l.delta });
    else if (l.name === 'softmaxCrossEntropy' && (l.fromLogits !== undefined || l.labelSmoothing)) loss = losses.sparseCategoricalCrossentropy({ labelSmoothing: l.labelSmoothing, ...logits });
    else if (l.name === 'binaryCrossentropy' && l.fromLogits !== undefined) loss = losses.binaryCrossentropy(logits);
    else loss = l.name;
  }
  const metrics = Array.isArray(json.metrics) ? (json.metrics as string[]) : undefined;
  try {
    resolveMetrics(metrics, 'loadModel');
  } catch (error) {
    throw fail(`metrics ${JSON.stringify(metrics)}`, error);
  }
  return { optimizer, loss, metrics };
}
