import { checkBoolean, checkFunction, didYouMean, checkNonNegativeInt, checkNumber, checkOneOf, checkOptions, checkPositiveInt, toInt32Labels } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { BatchGatherer, type LabelArray, checkBatchSize } from '../data/batches.js';
import { split, takeRows } from '../data/transforms.js';
import { WeightedSampler, classWeights } from '../data/sampling.js';
import { augmentBatch, mirrorImagesInto } from '../data/augment.js';
import type { Loss } from '../nn/losses.js';
import { type BatchMetric, resolveMetrics } from '../nn/batch-metrics.js';
import { type ResolvedTargets, type Targets, resolveTargets } from './targets.js';
import { type BatchLogs, CALLBACK_NAMES, type EpochLogs, type EvaluateResult, kerasLogs, newHistory, recordEpoch, type EvaluateOptions, FIT_OPTIONS, type FitOptions, type History, NonFiniteError, type PredictOptions, type TrainableModel, checkPredictOptions, monitorField } from './train-options.js';
import { createOptimizer } from '../optim/optimizers.js';
import { Progress } from '../core/progress.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';

export * from './train-options.js';
export { checkLabels, oneHot, toCategorical, type Targets } from './targets.js';

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

/** Right answers in a batch: the loss's own count, or its classes against integer labels. */
function accuracyOf(loss: Loss, logits: Tensor, targets: Int32Array | Float32Array): number {
  if (loss.correct) return loss.correct(logits, targets);
  if (!(targets instanceof Int32Array)) return NaN;
  const predicted = loss.classes(logits);
  let right = 0;
  for (let i = 0; i < targets.length; i++) if (predicted[i] === targets[i]) right++;
  return right;
}

/** The model's outputs from its logits, for metrics: its final activation where it has one, else the loss's probabilities (the values themselves for a regression). */
function outputsOf(model: TrainableModel, loss: Loss, logits: Tensor): Tensor {
  const head = model.outputActivation();
  return head ? head.forward(logits, false) : loss.probabilities(logits);
}

/** Adds each metric's batch mean times the batch size into sums. */
function addMetrics(metrics: readonly BatchMetric[], sums: number[], model: TrainableModel, loss: Loss, logits: Tensor, targets: Int32Array | Float32Array): void {
  if (metrics.length === 0) return;
  const outputs = outputsOf(model, loss, logits);
  const n = logits.shape[0];
  metrics.forEach((m, k) => {
    const v = m.fn(targets, outputs);
    if (typeof v !== 'number') throw new ValueError(`metric '${m.name}' returned ${describe(v)}; a metric returns the batch's mean, a number`);
    sums[k] += v * n;
  });
}

/** Each metric's mean over `seen` samples, by name. */
function metricMeans(metrics: readonly BatchMetric[], sums: number[], seen: number): Record<string, number> {
  const out: Record<string, number> = {};
  metrics.forEach((m, k) => (out[m.name] = sums[k] / Math.max(seen, 1)));
  return out;
}

/** The model's outputs for a loss of outputs (its final activation applied to the logits), else the logits. */
function lossInput(model: TrainableModel, loss: Loss, logits: Tensor, training: boolean): Tensor {
  const head = loss.onOutputs ? model.outputActivation() : null;
  return head ? head.forward(logits, training) : logits;
}

/** Calls onBatch(logits, start) for each batch of x in order (no shuffling, no training); under tta 'flip' the logits are the mean of each image's and its mirror's. */
export function predictBatches(model: TrainableModel, x: Tensor, options: PredictOptions, onBatch: (logits: Tensor, start: number) => void, fn = 'predict'): void {
  const batchSize = checkBatchSize(options.batchSize ?? 256, fn);
  const count = x.shape[0];
  const units = model.outputUnits;
  const flip = options.tta === 'flip';
  if (flip && x.shape.length !== 4) throw new ShapeError(`${fn}: tta 'flip' mirrors images of shape [n, height, width, channels]; x has shape ${formatShape(x.shape)}`);
  const gatherer = new BatchGatherer(x, null, batchSize);
  const indices = new Int32Array(Math.min(batchSize, count));
  const imageSize = x.size / Math.max(count, 1);
  // Scratch for the mirrored batch and the first pass's logits (the model reuses its output buffer).
  const mirrored = flip ? new Float32Array(indices.length * imageSize) : null;
  const firstPass = flip ? new Float32Array(indices.length * units) : null;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const idx = indices.subarray(0, n);
    for (let i = 0; i < n; i++) idx[i] = start + i;
    const batch = gatherer.gather(idx);
    let out = model.forwardInPlace(batch.x, false).reshape([n, units]);
    if (mirrored && firstPass) {
      firstPass.set(out.data.subarray(0, n * units));
      const [, h, w, c] = x.shape;
      mirrorImagesInto(batch.x.data, mirrored, n, h, w, c);
      out = model.forwardInPlace(new Tensor(mirrored.subarray(0, n * imageSize), batch.x.shape), false).reshape([n, units]);
      const d = out.data;
      for (let i = 0; i < n * units; i++) d[i] = 0.5 * (firstPass[i] + d[i]);
    }
    onBatch(out, start);
  }
}

/**
 * Mean loss and accuracy over (x, y), in batches; y holds labels or target
 * rows as in fit. Accuracy is NaN under a regression loss; `metrics` holds
 * the means of the metrics asked for (by compile or the option).
 */
export function evaluate(model: TrainableModel, x: Tensor, y: Targets, options: EvaluateOptions = {}): EvaluateResult {
  checkPredictOptions(options, 'evaluate');
  const t = model.checkInput(x, 'evaluate');
  if (t.shape[0] === 0) throw new ShapeError('evaluate: x has no samples');
  const targets = resolveTargets(model, y, options.loss, t.shape[0], 'evaluate');
  const metrics = resolveMetrics(options.metrics, 'evaluate');
  if (!options.allowNonFinite) checkFiniteInput(t, 'evaluate');
  return evaluateResolved(model, t, targets, options, metrics);
}

/** evaluate on targets already matched with their loss. */
function evaluateResolved(model: TrainableModel, t: Tensor, targets: ResolvedTargets, options: PredictOptions, metrics: readonly BatchMetric[]): EvaluateResult {
  const { loss, labels, values } = targets;
  const units = model.outputUnits;
  let total = 0;
  let right = 0;
  const sums = metrics.map(() => 0);
  const batchLabels = new Int32Array(Math.min(options.batchSize ?? 256, t.shape[0]));
  predictBatches(model, t, { batchSize: options.batchSize, tta: options.tta }, (logits, start) => {
    const n = logits.shape[0];
    let batchTargets: Int32Array | Float32Array;
    if (labels) {
      batchTargets = batchLabels.subarray(0, n);
      for (let i = 0; i < n; i++) batchTargets[i] = labels[start + i];
    } else {
      batchTargets = values!.data.subarray(start * units, (start + n) * units);
    }
    total += loss.compute(lossInput(model, loss, logits, false), batchTargets).loss * n;
    right += accuracyOf(loss, logits, batchTargets);
    addMetrics(metrics, sums, model, loss, logits, batchTargets);
  }, 'evaluate');
  const result: EvaluateResult = { loss: total / t.shape[0], accuracy: right / t.shape[0] };
  if (metrics.length) result.metrics = metricMeans(metrics, sums, t.shape[0]);
  return result;
}

/** The targets of these rows (labels or value rows) with the same loss. */
function takeTargets(t: ResolvedTargets, rows: Int32Array): ResolvedTargets {
  return { loss: t.loss, labels: t.labels ? Int32Array.from(rows, (i) => t.labels![i]) : null, values: t.values ? takeRows(t.values, rows) : null };
}

function resolveValidation(model: TrainableModel, x: Tensor, y: ResolvedTargets, options: FitOptions, seed: number): { x: Tensor; y: ResolvedTargets; val: { x: Tensor; y: ResolvedTargets } | null } {
  const given = (['validation', 'validationSplit', 'validationData'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) throw new ValueError(`fit: give one of validation, validationSplit and validationData, got ${given.join(' and ')}`);
  const validation = options.validation ?? options.validationSplit ?? options.validationData;
  if (options.validationSplit !== undefined && typeof options.validationSplit !== 'number') throw new ValueError(`fit: validationSplit must be a fraction in (0, 1), got ${describe(options.validationSplit)}`);
  if (options.validationData !== undefined && (typeof options.validationData !== 'object' || options.validationData === null)) throw new ValueError(`fit: validationData must be {x, y}, got ${describe(options.validationData)}`);
  if (validation === undefined) return { x, y, val: null };
  const n = x.shape[0];
  // split() of the row numbers says which rows go where, for labels and value rows alike.
  const rowNumbers = Int32Array.from({ length: n }, (_, i) => i);
  const parts = (fractions: number[], splitOptions: { shuffle?: boolean; seed?: number }) => {
    const [train, val] = split(x, rowNumbers, fractions, splitOptions);
    const trainRows = train.y as Int32Array;
    const valRows = val.y as Int32Array;
    return { x: train.x, y: takeTargets(y, trainRows), val: { x: val.x, y: takeTargets(y, valRows) }, empty: trainRows.length === 0 || valRows.length === 0 };
  };
  if (options.validationSplit !== undefined) {
    // Keras's and tfjs's meaning: the last fraction of the samples as given, before any shuffling.
    const f = options.validationSplit;
    if (!(f > 0 && f < 1)) throw new ValueError(`fit: validationSplit must be a fraction in (0, 1), got ${f}`);
    const at = Math.floor(n * (1 - f));
    if (at === 0 || at === n) throw new ValueError(`fit: a validationSplit of ${f} leaves an empty part of ${n} samples`);
    return parts([at / n, 1 - at / n], { shuffle: false });
  }
  if (typeof validation === 'number') {
    if (!(validation > 0 && validation < 1)) throw new ValueError(`fit: validation as a fraction must lie in (0, 1), got ${validation}`);
    const p = parts([1 - validation, validation], { seed: seed ^ 0x5eed });
    if (p.empty) throw new ValueError(`fit: a validation fraction of ${validation} leaves an empty part of ${n} samples`);
    return p;
  }
  if (!validation || typeof validation !== 'object') throw new ValueError(`fit: validation must be {x, y} or a fraction, got ${describe(validation)}`);
  checkOptions(validation, ['x', 'y'], 'fit', 'validation');
  const vx = model.checkInput(validation.x, 'fit (validation)');
  if (vx.shape[0] === 0) throw new ValueError(`fit: validation.x holds no samples (shape ${formatShape(vx.shape)}); give at least one, or leave validation out`);
  checkFiniteInput(vx, 'fit', 'validation.x');
  const vy = resolveTargets(model, validation.y, y.loss, vx.shape[0], 'fit', 'validation.y');
  return { x, y, val: { x: vx, y: vy } };
}

/**
 * Trains the model on (x, y). Everything is checked before the first batch:
 * shapes, label count and range, NaN in the data, the options. Yields to the
 * event loop between batches so a server or a progress display stays live.
 */
export async function fit(model: TrainableModel, xIn: Tensor, yIn: Targets, options: FitOptions = {}): Promise<History> {
  const op = 'fit';
  checkOptions(options, FIT_OPTIONS, op);
  const x0 = model.checkInput(xIn, op);
  if (x0.shape[0] === 0) throw new ShapeError(`${op}: x has no samples (x.shape = ${formatShape(x0.shape)})`);
  const y0 = resolveTargets(model, yIn, options.loss, x0.shape[0], op);
  checkFiniteInput(x0, op);
  const epochs = checkPositiveInt(options.epochs ?? 1, 'epochs', op);
  const batchSize = checkBatchSize(options.batchSize ?? 32, op);
  const seed = options.seed === undefined ? 0 : checkNumber(options.seed, 'seed', op, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const loss = y0.loss;
  const metrics = resolveMetrics(options.metrics, op);
  const optimizer = createOptimizer(options.optimizer, options.learningRate, op);
  model.optimizer = optimizer;
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
  if (options.classWeight !== undefined && !y.labels) throw new ValueError(`${op}: classWeight needs integer class labels; y is a tensor of target rows`);
  const labels = options.classWeight === undefined ? null : y.labels;
  const sampler = labels ? new WeightedSampler(labels, classWeights(options.classWeight, labels, model.outputUnits === 1 ? 2 : model.outputUnits, op)) : null;
  const augment = options.augment === undefined ? null : checkOptions(options.augment, ['shift', 'padMode', 'flip', 'cutout'], op, 'augment');
  if (augment) {
    const reflected = augment.padMode !== undefined && checkOneOf(augment.padMode, ['zero', 'reflect'] as const, 'augment.padMode', op) === 'reflect';
    // A reflection stays inside the image only for shifts smaller than its sides.
    if (augment.shift !== undefined) checkNumber(augment.shift, 'augment.shift', op, { integer: true, min: 0, max: (reflected ? Math.min : Math.max)(x.shape[1], x.shape[2]) - 1 });
    if (augment.flip !== undefined) checkBoolean(augment.flip, 'augment.flip', op);
    if (augment.cutout !== undefined) checkNumber(augment.cutout, 'augment.cutout', op, { integer: true, min: 0, max: Math.max(x.shape[1], x.shape[2]) });
    if (x.rank !== 4) throw new ValueError(`${op}: augment needs images [N, H, W, C], x is ${formatShape(x.shape)}`);
  }
  const augmentRandom = new Random(); // reseeded per batch
  const monitor = early?.monitor !== undefined ? monitorField(early.monitor, `${op}: earlyStopping`) : val ? 'valLoss' : 'loss';
  if (early && monitor.startsWith('val') && !val) throw new ValueError(`${op}: earlyStopping monitors ${early.monitor ?? monitor} but no validation data was given (pass validation or validationSplit)`);

  const history = newHistory();
  const progress = new Progress(verbose);
  const params = model.parameters();
  const count = x.shape[0];
  const batches = Math.ceil(count / batchSize);
  const gatherer = new BatchGatherer(x, y.labels ?? y.values, batchSize);
  const order = new Int32Array(count);
  let best = { value: Infinity, epoch: -1, state: null as Record<string, Tensor> | null };
  let waited = 0;
  let lastYield = performance.now();
  let lastLogs: EpochLogs | undefined;
  model.stopTraining = false;

  // Epochs and batches are counted from 0 in the callbacks and the logs, as Keras and tfjs count them; the progress line and messages count from 1.
  for (const cb of callbacks) await cb.onTrainBegin?.({});
  try {
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      const number = epoch + 1;
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
      for (let i = 0; i < count; i++) order[i] = i;
      // Each epoch's order depends only on (seed, epoch), so a resumed run shuffles as an uninterrupted one.
      if (sampler) sampler.fill(order, new Random(epochSeed(seed, number)));
      else if (options.shuffle !== false) new Random(epochSeed(seed, number)).shuffle(order);
      progress.epochStart(number, epochs, batches);
      const started = performance.now();
      const skip = epoch === initialEpoch ? initialBatch : 0;
      const sums = skip > 0 ? options.initialEpochSums : undefined;
      let lossSum = sums?.lossSum ?? 0;
      let right = sums?.correct ?? 0;
      let seen = sums?.seen ?? 0;
      // A resumed epoch's metrics cover the batches of this run only.
      const metricSums = metrics.map(() => 0);
      let metricSeen = 0;
      for (let b = skip; b < batches; b++) {
        const batch = gatherer.gather(order.subarray(b * batchSize, Math.min((b + 1) * batchSize, count)));
        const n = batch.x.shape[0];
        const targets = batch.values ? batch.values.data : batch.y;
        for (const cb of callbacks) await cb.onBatchBegin?.(b, { batch: b, size: n });
        if (augment) augmentBatch(batch.x.data, n, x.shape[1], x.shape[2], x.shape[3], augment, augmentRandom.reseed(epochSeed(seed, number) ^ Math.imul(b + 1, 0x27d4eb2f)));
        const { loss: value, logits } = model.trainPassInPlace(batch.x, targets, loss);
        if (checkFinite && !Number.isFinite(value)) {
          throw new NonFiniteError(`fit: the loss became ${value} at epoch ${number}, batch ${b + 1} of ${batches}; lower the learning rate (now ${optimizer.currentLearningRate()}) or check the data`);
        }
        right += accuracyOf(loss, logits, targets);
        addMetrics(metrics, metricSums, model, loss, logits, targets);
        metricSeen += n;
        if (checkGradients) {
          const bad = params.find((p) => !allFinite(p.grad.data));
          if (bad) throw new NonFiniteError(`fit: the gradient of ${bad.name} became non-finite at epoch ${number}, batch ${b + 1} of ${batches}; the weights were left as they were before this batch`);
        }
        optimizer.step(params);
        lossSum += value * n;
        seen += n;
        history.iterationLoss.push(value);
        const elapsed = (performance.now() - started) / 1000;
        progress.batch(b + 1, lossSum / seen, right / seen, seen / Math.max(elapsed, 1e-9));
        if (callbacks.length) {
          const accuracy = right / seen;
          const logs: BatchLogs = { batch: b, size: n, epoch, loss: value, accuracy, acc: accuracy };
          for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
        }
        // Let the event loop run (timers, I/O, a progress display) between batches:
        // at least every 10 ms, not after every batch, which costs a few percent of a 2 ms step.
        if (performance.now() - lastYield >= 10) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        // Keras's stop_training takes effect after the batch that set it (TerminateOnNaN, a custom callback).
        if (model.stopTraining) break;
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
      if (metrics.length) logs.metrics = metricMeans(metrics, metricSums, metricSeen);
      if (history.interrupted && history.stoppedAt!.batch < batches) {
        progress.stop();
        break; // mid-epoch: the epoch's statistics are incomplete, so none are recorded
      }
      if (history.interrupted) history.stoppedAt = { epoch: epoch + 1, batch: 0 };
      if (val) {
        const v = evaluateResolved(model, val.x, val.y, {}, metrics);
        logs.valLoss = v.loss;
        logs.valAccuracy = v.accuracy;
        if (v.metrics) logs.valMetrics = v.metrics;
      }
      recordEpoch(history, logs);
      progress.epochEnd({ ...logs, epoch: number, epochs });
      lastLogs = logs;
      let stop = false;
      const shown = kerasLogs(logs);
      for (const cb of callbacks) if ((await cb.onEpochEnd?.(epoch, shown, history)) === 'stop') stop = true;
      if (early) {
        const raw = logs[monitor]!;
        const value = monitor.endsWith('ccuracy') ? -raw : raw;
        if (value < best.value - (early.minDelta ?? 0)) {
          best = { value, epoch, state: early.restoreBestWeights === false ? null : model.stateDict() };
          waited = 0;
        } else if (++waited >= early.patience) {
          history.stoppedEarly = true;
          if (best.state) model.loadStateDict(best.state);
          if (verbose > 0) process.stderr.write(`early stopping: ${monitor} has not improved for ${early.patience} epoch(s); best was epoch ${best.epoch + 1}\n`);
          stop = true;
        }
      }
      if (stop || model.stopTraining || history.interrupted) break;
    }
  } finally {
    progress.stop();
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(lastLogs ? kerasLogs(lastLogs) : {}, history);
  return history;
}
