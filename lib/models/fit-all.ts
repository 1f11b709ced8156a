// Training a functional model of several inputs or outputs (Keras's
// model.fit(x=[a, b], y=[c, d]) with a loss per output and loss_weights):
// one tensor per input, one target per output (class labels, or a tensor of
// values for a regression head), the weighted sum of the outputs' losses.
import { checkNumber, checkOptions, toInt32Labels } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import type { LabelArray } from '../data/batches.js';
import { takeRows } from '../data/transforms.js';
import { type Loss, type LossName, MeanSquaredError, createLoss } from '../nn/losses.js';
import { type Optimizer, type OptimizerName, createOptimizer } from '../optim/optimizers.js';
import type { Parameter, SampleShape } from '../nn/layers/layer.js';

/** What fitAll needs of a graph model; Functional has it (kept structural so this file does not import functional.ts, which imports it). */
export interface MultiOutputModel {
  readonly name: string;
  readonly outputNames: readonly string[];
  readonly outputShapes: SampleShape[];
  checkInputs(xs: unknown, op: string): Tensor[];
  forwardAllInPlace(xs: readonly Tensor[], training: boolean): Tensor[];
  backwardAll(dLogits: readonly (Tensor | null)[]): unknown;
  parameters(): Parameter[];
}

/** A loss per output: a class loss (targets are labels) or mean squared error (targets are a tensor). */
export type OutputLoss = LossName | 'meanSquaredError';

/** Options of `fitAll`. */
export interface FitAllOptions {
  /** One per output, in the model's output order. */
  loss: readonly OutputLoss[];
  /** Each output's share of the total loss (default 1 each), as Keras's loss_weights. */
  lossWeights?: readonly number[];
  epochs?: number;
  batchSize?: number;
  optimizer?: OptimizerName | Optimizer;
  /** Seeds the shuffling (default 0). */
  seed?: number;
  /** Called after each epoch with the mean total loss and each output's mean loss. */
  onEpochEnd?: (epoch: number, logs: { loss: number; outputLosses: number[] }) => void;
}

/** What `fitAll` returns: per epoch, the mean total loss and each output's mean loss. */
export interface FitAllHistory {
  loss: number[];
  outputLosses: number[][];
}

type Target = { kind: 'labels'; labels: Int32Array; loss: Loss } | { kind: 'values'; values: Tensor; loss: MeanSquaredError };

/** Checks each output's targets against its loss, shape and the sample count. */
function targetsFor(model: MultiOutputModel, ys: unknown, losses: readonly OutputLoss[], samples: number): Target[] {
  const shapes = model.outputShapes;
  if (!Array.isArray(ys) || ys.length !== shapes.length) throw new ValueError(`fitAll: model '${model.name}' has ${shapes.length} output(s) (${model.outputNames.join(', ')}); ys must be a list of one target per output, got ${describe(ys)}`);
  return ys.map((y, k) => {
    const units = shapes[k].reduce((a, b) => a * b, 1);
    if (losses[k] === 'meanSquaredError') {
      const t = y as Tensor;
      if (!(t instanceof Tensor) || t.shape[0] !== samples || t.size !== samples * units) {
        throw new ShapeError(`fitAll: ys[${k}] (output '${model.outputNames[k]}', mean squared error) must be a tensor [${samples}, ${shapes[k].join(', ')}], got ${t instanceof Tensor ? formatShape(t.shape) : describe(t)}`);
      }
      return { kind: 'values', values: t, loss: new MeanSquaredError() };
    }
    const labels = toInt32Labels(y as LabelArray, `ys[${k}]`, 'fitAll');
    if (labels.length !== samples) throw new ShapeError(`fitAll: ys[${k}] (output '${model.outputNames[k]}') has ${labels.length} labels for ${samples} samples`);
    const classes = units === 1 ? 2 : units;
    labels.forEach((v, i) => {
      if (v < 0 || v >= classes) throw new ValueError(`fitAll: ys[${k}][${i}] = ${v} is not a class of output '${model.outputNames[k]}' (0..${classes - 1})`);
    });
    return { kind: 'labels', labels, loss: createLoss(losses[k] as LossName, units, 'fitAll') };
  });
}

/**
 * Trains a functional model on one tensor per input and one target per
 * output, minimizing Σ lossWeights[k] · loss_k. Mini-batches are shuffled
 * by the seed each epoch.
 * @example
 * ```ts
 * await net.fitAll([images, extras], [classes, boxes], { loss: ['softmaxCrossEntropy', 'meanSquaredError'], epochs: 5 });
 * ```
 */
export async function fitAll(model: MultiOutputModel, xs: readonly Tensor[], ys: readonly (LabelArray | Tensor)[], options: FitAllOptions): Promise<FitAllHistory> {
  checkOptions(options, ['loss', 'lossWeights', 'epochs', 'batchSize', 'optimizer', 'seed', 'onEpochEnd'], 'fitAll');
  const inputs = model.checkInputs(xs, 'fitAll');
  const samples = inputs[0].shape[0];
  const outputs = model.outputShapes.length;
  if (!Array.isArray(options?.loss) || options.loss.length !== outputs) throw new ValueError(`fitAll: loss must list one loss per output (${outputs}: ${model.outputNames.join(', ')}), got ${describe(options?.loss)}`);
  options.loss.forEach((l, k) => {
    if (!['softmaxCrossEntropy', 'sigmoidBinaryCrossEntropy', 'meanSquaredError'].includes(l)) throw new ValueError(`fitAll: loss[${k}] must be 'softmaxCrossEntropy', 'sigmoidBinaryCrossEntropy' or 'meanSquaredError', got ${describe(l)}`);
  });
  const weights = options.lossWeights ?? new Array<number>(outputs).fill(1);
  if (!Array.isArray(weights) || weights.length !== outputs) throw new ValueError(`fitAll: lossWeights must list one weight per output (${outputs}), got ${describe(options.lossWeights)}`);
  weights.forEach((w, k) => checkNumber(w, `lossWeights[${k}]`, 'fitAll', { min: 0 }));
  const epochs = checkNumber(options.epochs ?? 1, 'epochs', 'fitAll', { integer: true, min: 1 });
  const batchSize = checkNumber(options.batchSize ?? 32, 'batchSize', 'fitAll', { integer: true, min: 1 });
  const seed = checkNumber(options.seed ?? 0, 'seed', 'fitAll', { integer: true, min: 0 });
  const targets = targetsFor(model, ys, options.loss, samples);
  const optimizer = createOptimizer(options.optimizer, undefined, 'fitAll');
  const params = model.parameters();
  const history: FitAllHistory = { loss: [], outputLosses: [] };
  const order = Int32Array.from({ length: samples }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    new Random(seed * 7919 + epoch).shuffle(order);
    const sums = new Array<number>(outputs).fill(0);
    for (let start = 0; start < samples; start += batchSize) {
      const rows = order.subarray(start, Math.min(start + batchSize, samples));
      const logits = model.forwardAllInPlace(inputs.map((x) => takeRows(x, rows)), true);
      const grads = logits.map((z, k) => {
        const t = targets[k];
        const { loss, dLogits } = t.kind === 'values' ? t.loss.compute(z, takeRows(t.values, rows).data) : t.loss.compute(z, Int32Array.from(rows, (i) => t.labels[i]));
        if (!Number.isFinite(loss)) throw new ValueError(`fitAll: the loss of output '${model.outputNames[k]}' became ${loss} at epoch ${epoch + 1}; lower the learning rate or check the data`);
        sums[k] += loss * rows.length;
        if (weights[k] === 0) return null;
        if (weights[k] !== 1) for (let i = 0; i < dLogits.data.length; i++) dLogits.data[i] *= weights[k];
        return dLogits;
      });
      model.backwardAll(grads);
      optimizer.step(params);
    }
    const outputLosses = sums.map((s) => s / samples);
    const loss = outputLosses.reduce((a, l, k) => a + weights[k] * l, 0);
    history.loss.push(loss);
    history.outputLosses.push(outputLosses);
    options.onEpochEnd?.(epoch + 1, { loss, outputLosses });
    await new Promise((r) => setImmediate(r));
  }
  return history;
}
