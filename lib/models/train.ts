import { checkBoolean, checkFunction, didYouMean, checkNonNegativeInt, checkNumber, checkOneOf, checkOptions, checkPositiveInt, toInt32Labels } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { BatchGatherer, type LabelArray, checkBatchSize } from '../data/batches.js';
import { split } from '../data/transforms.js';
import { WeightedSampler, augmentBatch, classWeights } from '../data/sampling.js';
import { type Loss, createLoss } from '../nn/losses.js';
import { CALLBACK_NAMES, type EpochLogs, type EvaluateOptions, FIT_OPTIONS, type FitOptions, type History, NonFiniteError, type PredictOptions, type TrainableModel, checkPredictOptions, monitorField } from './train-options.js';
import { createOptimizer } from '../optim/optimizers.js';
import { Progress } from '../core/progress.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';

export * from './train-options.js';

function allFinite(a: Float32Array): boolean {
  // NaN or ±Infinity times 0 is NaN; finite values add 0. Four sums, so that
  // the adds do not wait on each other (a whole data set is checked this way).
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= a.length; i += 4) {
    s0 += a[i] * 0;
    s1 += a[i + 1] * 0;
    s2 += a[i + 2] * 0;
    s3 += a[i + 3] * 0;
  }
  for (; i < a.length; i++) s0 += a[i] * 0;
  return s0 + s1 + s2 + s3 === 0;
}

function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;
}

/** Number of classes a label may take for this model. */
function classCount(model: TrainableModel): number {
  return model.outputUnits === 1 ? 2 : model.outputUnits;
}

/** Checks labels: one per sample, integers in [0, classes). */
export function checkLabels(y: unknown, count: number, classes: number, op: string, name = 'y'): LabelArray {
  if (!(y instanceof Int32Array || y instanceof Uint8Array || Array.isArray(y))) {
    throw new ValueError(`${op}: ${name} must be integer class labels (Int32Array, Uint8Array or number[]), got ${describe(y)}`);
  }
  if (y.length !== count) throw new ShapeError(`${op}: ${name} has ${y.length} labels but x has ${count} samples`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${name}[${i}] must be an integer class label, got ${describe(v)}`);
    if (v < 0 || v >= classes) throw new ValueError(`${op}: ${name}[${i}] = ${v} is outside the model's ${classes} classes [0, ${classes - 1}]`);
  }
  return y as LabelArray;
}

/** Refuses NaN or infinite inputs, naming the first bad element. */
export function checkFiniteInput(x: Tensor, op: string, name = 'x'): void {
  const d = x.data;
  if (allFinite(d)) return;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
      throw new ValueError(`${op}: ${name} holds ${d[i]} at sample ${Math.floor(i / row)} (flat index ${i}); clean or impute the data first`);
    }
  }
}

function accuracyOf(loss: Loss, logits: Tensor, labels: Int32Array): number {
  const predicted = loss.classes(logits);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right++;
  return right;
}

/** Calls onBatch(logits, start) for each batch of x in order (no shuffling, no training). */
export function predictBatches(model: TrainableModel, x: Tensor, options: PredictOptions, onBatch: (logits: Tensor, start: number) => void, fn = 'predict'): void {
  const batchSize = checkBatchSize(options.batchSize ?? 256, fn);
  const count = x.shape[0];
  const gatherer = new BatchGatherer(x, null, batchSize);
  const indices = new Int32Array(Math.min(batchSize, count));
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const idx = indices.subarray(0, n);
    for (let i = 0; i < n; i++) idx[i] = start + i;
    const batch = gatherer.gather(idx);
    const out = model.forwardInPlace(batch.x, false);
    onBatch(out.reshape([n, model.outputUnits]), start);
  }
}

/** Mean loss and accuracy over (x, y), in batches. */
export function evaluate(model: TrainableModel, x: Tensor, y: LabelArray, options: EvaluateOptions = {}): { loss: number; accuracy: number } {
  checkPredictOptions(options, 'evaluate');
  const t = model.checkInput(x, 'evaluate');
  const labels = checkLabels(toInt32Labels(y, 'y', 'evaluate'), t.shape[0], classCount(model), 'evaluate');
  if (t.shape[0] === 0) throw new ShapeError('evaluate: x has no samples');
  if (!options.allowNonFinite) checkFiniteInput(t, 'evaluate');
  const loss = createLoss(options.loss, model.outputUnits, 'evaluate');
  let total = 0;
  let right = 0;
  const batchLabels = new Int32Array(Math.min(options.batchSize ?? 256, t.shape[0]));
  predictBatches(model, t, options, (logits, start) => {
    const n = logits.shape[0];
    const l = batchLabels.subarray(0, n);
    for (let i = 0; i < n; i++) l[i] = labels[start + i];
    total += loss.compute(logits, l).loss * n;
    right += accuracyOf(loss, logits, l);
  }, 'evaluate');
  return { loss: total / t.shape[0], accuracy: right / t.shape[0] };
}

function resolveValidation(model: TrainableModel, x: Tensor, y: LabelArray, options: FitOptions, seed: number) {
  const given = (['validation', 'validationSplit', 'validationData'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) throw new ValueError(`fit: give one of validation, validationSplit and validationData, got ${given.join(' and ')}`);
  const validation = options.validation ?? options.validationSplit ?? options.validationData;
  if (options.validationSplit !== undefined && typeof options.validationSplit !== 'number') throw new ValueError(`fit: validationSplit must be a fraction in (0, 1), got ${describe(options.validationSplit)}`);
  if (options.validationData !== undefined && (typeof options.validationData !== 'object' || options.validationData === null)) throw new ValueError(`fit: validationData must be {x, y}, got ${describe(options.validationData)}`);
  if (validation === undefined) return { x, y, val: null };
  if (options.validationSplit !== undefined) {
    // Keras's and tfjs's meaning: the last fraction of the samples as given, before any shuffling.
    const f = options.validationSplit;
    if (!(f > 0 && f < 1)) throw new ValueError(`fit: validationSplit must be a fraction in (0, 1), got ${f}`);
    const n = x.shape[0];
    const at = Math.floor(n * (1 - f));
    if (at === 0 || at === n) throw new ValueError(`fit: a validationSplit of ${f} leaves an empty part of ${n} samples`);
    const [train, val] = split(x, y, [at / n, 1 - at / n], { shuffle: false });
    return { x: train.x, y: train.y as LabelArray, val };
  }
  if (typeof validation === 'number') {
    if (!(validation > 0 && validation < 1)) throw new ValueError(`fit: validation as a fraction must lie in (0, 1), got ${validation}`);
    const [train, val] = split(x, y, [1 - validation, validation], { seed: seed ^ 0x5eed });
    if (val.y.length === 0 || train.y.length === 0) throw new ValueError(`fit: a validation fraction of ${validation} leaves an empty part of ${x.shape[0]} samples`);
    return { x: train.x, y: train.y as LabelArray, val };
  }
  if (!validation || typeof validation !== 'object') throw new ValueError(`fit: validation must be {x, y} or a fraction, got ${describe(validation)}`);
  checkOptions(validation, ['x', 'y'], 'fit', 'validation');
  const vx = model.checkInput(validation.x, 'fit (validation)');
  checkFiniteInput(vx, 'fit', 'validation.x');
  const vy = checkLabels(toInt32Labels(validation.y, 'validation.y', 'fit'), vx.shape[0], classCount(model), 'fit', 'validation.y');
  return { x, y, val: { x: vx, y: vy } };
}

/**
 * Trains the model on (x, y). Everything is checked before the first batch:
 * shapes, label count and range, NaN in the data, the options. Yields to the
 * event loop between batches so a server or a progress display stays live.
 */
export async function fit(model: TrainableModel, xIn: Tensor, yIn: LabelArray, options: FitOptions = {}): Promise<History> {
  const op = 'fit';
  checkOptions(options, FIT_OPTIONS, op);
  const x0 = model.checkInput(xIn, op);
  if (x0.shape[0] === 0) throw new ShapeError(`${op}: x has no samples (x.shape = ${formatShape(x0.shape)})`);
  const y0 = checkLabels(toInt32Labels(yIn, 'y', op), x0.shape[0], classCount(model), op);
  checkFiniteInput(x0, op);
  const epochs = checkPositiveInt(options.epochs ?? 1, 'epochs', op);
  const batchSize = checkBatchSize(options.batchSize ?? 32, op);
  const seed = options.seed === undefined ? 0 : checkNumber(options.seed, 'seed', op, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const loss = createLoss(options.loss, model.outputUnits, op);
  const optimizer = createOptimizer(options.optimizer, options.learningRate, op);
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  // A callbacks object may carry state of its own; a key that looks like a hook must be one.
  callbacks.forEach((cb, i) => {
    if (!cb || typeof cb !== 'object') throw new ValueError(`${op}: callbacks${Array.isArray(options.callbacks) ? `[${i}]` : ''} must be an object of hooks, got ${describe(cb)}`);
    for (const [name, hook] of Object.entries(cb)) {
      if (!/^on[A-Z]/.test(name)) continue;
      if (!CALLBACK_NAMES.includes(name)) throw new ValueError(`${op}: unknown option '${name}'${didYouMean(name, CALLBACK_NAMES)} (callbacks take ${CALLBACK_NAMES.join(', ')})`);
      if (hook !== undefined) checkFunction(hook, `callbacks.${name}`, op);
    }
  });
  const verbose = options.verbose === undefined ? 1 : checkOneOf(options.verbose, [0, 1, 2] as const, 'verbose', op);
  const checkFinite = options.checkFinite === undefined ? true : checkOneOf(options.checkFinite, [true, false, 'loss', 'all'] as const, 'checkFinite', op);
  const checkGradients = checkFinite === 'all';
  if (options.shuffle !== undefined) checkBoolean(options.shuffle, 'shuffle', op);
  const initialEpoch = options.initialEpoch === undefined ? 0 : checkNumber(options.initialEpoch, 'initialEpoch', op, { integer: true, min: 0, max: epochs });
  const initialBatch = options.initialBatch === undefined ? 0 : checkNonNegativeInt(options.initialBatch, 'initialBatch', op);
  if (options.initialEpochSums !== undefined) {
    const s = checkOptions(options.initialEpochSums, ['lossSum', 'correct', 'seen'], op, 'initialEpochSums');
    checkNumber(s.lossSum, 'initialEpochSums.lossSum', op, { min: 0 });
    checkNonNegativeInt(s.correct, 'initialEpochSums.correct', op);
    checkNonNegativeInt(s.seen, 'initialEpochSums.seen', op);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new ValueError(`${op}: signal must be an AbortSignal, got ${describe(options.signal)}`);
  const early = options.earlyStopping === undefined ? undefined : checkOptions(options.earlyStopping, ['patience', 'monitor', 'minDelta', 'restoreBestWeights'], op, 'earlyStopping');
  if (early) {
    checkPositiveInt(early.patience, 'earlyStopping.patience', op);
    if (early.minDelta !== undefined) checkNumber(early.minDelta, 'earlyStopping.minDelta', op, { min: 0 });
    if (early.restoreBestWeights !== undefined) checkBoolean(early.restoreBestWeights, 'earlyStopping.restoreBestWeights', op);
  }
  const { x, y, val } = resolveValidation(model, x0, y0, options, seed);
  const labels = options.classWeight === undefined ? null : toInt32Labels(y, 'y', op);
  const sampler = labels ? new WeightedSampler(labels, classWeights(options.classWeight, labels, classCount(model), op)) : null;
  const augment = options.augment === undefined ? null : checkOptions(options.augment, ['shift', 'flip'], op, 'augment');
  if (augment) {
    if (augment.shift !== undefined) checkNumber(augment.shift, 'augment.shift', op, { integer: true, min: 0, max: Math.max(x.shape[1], x.shape[2]) - 1 });
    if (augment.flip !== undefined) checkBoolean(augment.flip, 'augment.flip', op);
    if (x.rank !== 4) throw new ValueError(`${op}: augment needs images [N, H, W, C], x is ${formatShape(x.shape)}`);
  }
  const augmentRandom = new Random(); // reseeded per batch
  const monitor = early?.monitor !== undefined ? monitorField(early.monitor, `${op}: earlyStopping`) : val ? 'valLoss' : 'loss';
  if (early && monitor.startsWith('val') && !val) throw new ValueError(`${op}: earlyStopping monitors ${early.monitor ?? monitor} but no validation data was given (pass validation or validationSplit)`);

  const history: History = { epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [], iterationLoss: [], stoppedEarly: false, interrupted: false };
  const progress = new Progress(verbose);
  const params = model.parameters();
  const count = x.shape[0];
  const batches = Math.ceil(count / batchSize);
  const gatherer = new BatchGatherer(x, y, batchSize);
  const order = new Int32Array(count);
  let best = { value: Infinity, epoch: -1, state: null as Record<string, Tensor> | null };
  let waited = 0;
  let lastYield = performance.now();
  model.stopTraining = false;

  for (const cb of callbacks) await cb.onTrainBegin?.();
  try {
    const firstEpoch = initialEpoch + 1;
    for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      for (let i = 0; i < count; i++) order[i] = i;
      // Each epoch's order depends only on (seed, epoch), so a resumed run shuffles as an uninterrupted one.
      if (sampler) sampler.fill(order, new Random(epochSeed(seed, epoch)));
      else if (options.shuffle !== false) new Random(epochSeed(seed, epoch)).shuffle(order);
      progress.epochStart(epoch, epochs, batches);
      const started = performance.now();
      const skip = epoch === firstEpoch ? initialBatch : 0;
      const sums = skip > 0 ? options.initialEpochSums : undefined;
      let lossSum = sums?.lossSum ?? 0;
      let right = sums?.correct ?? 0;
      let seen = sums?.seen ?? 0;
      for (let b = skip; b < batches; b++) {
        const batch = gatherer.gather(order.subarray(b * batchSize, Math.min((b + 1) * batchSize, count)));
        const n = batch.y.length;
        if (augment) augmentBatch(batch.x.data, n, x.shape[1], x.shape[2], x.shape[3], augment, augmentRandom.reseed(epochSeed(seed, epoch) ^ Math.imul(b + 1, 0x27d4eb2f)));
        const { loss: value, logits } = model.trainPassInPlace(batch.x, batch.y, loss);
        if (checkFinite && !Number.isFinite(value)) {
          throw new NonFiniteError(`fit: the loss became ${value} at epoch ${epoch}, batch ${b + 1} of ${batches}; lower the learning rate (now ${optimizer.currentLearningRate()}) or check the data`);
        }
        right += accuracyOf(loss, logits, batch.y);
        if (checkGradients) {
          const bad = params.find((p) => !allFinite(p.grad.data));
          if (bad) throw new NonFiniteError(`fit: the gradient of ${bad.name} became non-finite at epoch ${epoch}, batch ${b + 1} of ${batches}; the weights were left as they were before this batch`);
        }
        optimizer.step(params);
        lossSum += value * n;
        seen += n;
        history.iterationLoss.push(value);
        const elapsed = (performance.now() - started) / 1000;
        progress.batch(b + 1, lossSum / seen, right / seen, seen / Math.max(elapsed, 1e-9));
        for (const cb of callbacks) await cb.onBatchEnd?.({ epoch, batch: b + 1, loss: value, accuracy: right / seen });
        // Let the event loop run (timers, I/O, a progress display) between batches:
        // at least every 10 ms, not after every batch, which costs a few percent of a 2 ms step.
        if (performance.now() - lastYield >= 10) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (options.signal?.aborted) {
          history.interrupted = true;
          history.stoppedAt = { epoch, batch: b + 1, lossSum, correct: right, seen };
          break;
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // and always at the end of an epoch
      lastYield = performance.now();
      const seconds = (performance.now() - started) / 1000;
      const logs: EpochLogs = {
        epoch,
        loss: lossSum / Math.max(seen, 1),
        accuracy: right / Math.max(seen, 1),
        learningRate: optimizer.currentLearningRate(),
        seconds,
        imagesPerSecond: seen / Math.max(seconds, 1e-9),
      };
      if (history.interrupted && history.stoppedAt!.batch < batches) {
        progress.stop();
        break; // mid-epoch: the epoch's statistics are incomplete, so none are recorded
      }
      if (history.interrupted) history.stoppedAt = { epoch: epoch + 1, batch: 0 };
      if (val) {
        const v = evaluate(model, val.x, val.y, { loss });
        logs.valLoss = v.loss;
        logs.valAccuracy = v.accuracy;
      }
      history.epochs.push(logs);
      history.loss.push(logs.loss);
      history.accuracy.push(logs.accuracy);
      if (logs.valLoss !== undefined) {
        history.valLoss.push(logs.valLoss);
        history.valAccuracy.push(logs.valAccuracy!);
      }
      progress.epochEnd({ ...logs, epochs });
      let stop = false;
      for (const cb of callbacks) if ((await cb.onEpochEnd?.(logs, history)) === 'stop') stop = true;
      if (early) {
        const raw = logs[monitor]!;
        const value = monitor.endsWith('ccuracy') ? -raw : raw;
        if (value < best.value - (early.minDelta ?? 0)) {
          best = { value, epoch, state: early.restoreBestWeights === false ? null : model.stateDict() };
          waited = 0;
        } else if (++waited >= early.patience) {
          history.stoppedEarly = true;
          if (best.state) model.loadStateDict(best.state);
          if (verbose > 0) process.stderr.write(`early stopping: ${monitor} has not improved for ${early.patience} epoch(s); best was epoch ${best.epoch}\n`);
          stop = true;
        }
      }
      if (stop || model.stopTraining || history.interrupted) break;
    }
  } finally {
    progress.stop();
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history);
  return history;
}
