import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import type { Layer, Parameter, SampleShape } from '../nn/layers/layer.js';
import { type ModelConfig, LeakyReLU, layerFromSpec, layerSpec, ReLU, Sigmoid, Softmax, Tanh } from '../nn/layers/index.js';
import { type ExecutionPlan, compilePlan } from './plan/compile.js';
import type { Activation } from '../nn/layers/layer.js';
import { checkBoolean, checkNumber, checkOptions, checkString, toInt32Labels } from '../core/check.js';
import { checkTensor } from '../ops/check.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { type EvaluateOptions, type FitOptions, type History, type PredictOptions, checkFiniteInput, checkLabels, checkPredictOptions, evaluate, fit, predictBatches } from './train.js';
import type { LabelArray } from '../data/batches.js';
import { type Loss, type LossName, SoftmaxCrossEntropy, createLoss } from '../nn/losses.js';
import { saveModel } from './checkpoint-write.js';

/** Options of `sequential()`: input shape, seed and name. */
export interface SequentialOptions {
  /** Per-sample input shape, e.g. [28, 28, 1]; without it the model builds at its first input. */
  inputShape?: readonly number[];
  /** Seeds the initial weights (and dropout). */
  seed?: number;
  name?: string;
}

export type { ModelConfig } from '../nn/layers/index.js';
const warnedFold = new Set<string>();
/** Which model each layer object belongs to. */
const owners = new WeakMap<Layer, string>();

function activationLayer(activation: Activation): Layer {
  switch (activation) {
    case 'relu': return new ReLU();
    case 'sigmoid': return new Sigmoid();
    case 'tanh': return new Tanh();
    case 'softmax': return new Softmax();
    case 'leakyRelu': return new LeakyReLU();
    default: throw new ValueError(`unknown activation ${describe(activation)}`);
  }
}

/**
 * A stack of layers run in order. forward keeps what backward needs;
 * backward fills every parameter's gradient. Outputs of internal layers
 * live in reused buffers, so a training step of a fixed batch size
 * allocates nothing.
 */
export class Sequential {
  readonly layers: Layer[];
  readonly name: string;
  readonly seed: number;
  inputShape: SampleShape = [];
  /** Set by a callback to stop fit() after the current epoch. */
  stopTraining = false;

  constructor(layerList: Layer[], options: SequentialOptions = {}) {
    checkOptions(options, ['inputShape', 'seed', 'name'], 'sequential');
    if (!Array.isArray(layerList) || layerList.length === 0) throw new ValueError(`sequential: layers must be a non-empty array of layers, got ${describe(layerList)}`);
    layerList.forEach((layer, i) => {
      if (!layer || typeof layer.forward !== 'function') throw new ValueError(`sequential: layers[${i}] is not a layer, got ${describe(layer)}`);
    });
    if (options.seed !== undefined) checkNumber(options.seed, 'seed', 'sequential', { integer: true, min: 0, max: 2 ** 32 - 1 });
    if (options.name !== undefined) checkString(options.name, 'name', 'sequential');
    // Keras's activation option on Conv2D and Dense: the activation becomes the next layer.
    const layers = layerList.flatMap((layer) => {
      const activation = (layer as { activation?: Activation | null }).activation;
      return activation && activation !== 'linear' ? [layer, activationLayer(activation)] : [layer];
    });
    // A layer holds its weights and buffers: shared by two models, training one would change the other.
    layerList.forEach((layer, i) => {
      const owner = owners.get(layer);
      if (owner) throw new ValueError(`sequential: layers[${i}] (${layer.kind}${layer.name ? ` '${layer.name}'` : ''}) belongs to model '${owner}' already; make a new layer for each model`);
    });
    const counts = new Map<string, number>();
    const names = new Set<string>();
    layers.forEach((layer) => {
      if (!layer.name) {
        const n = (counts.get(layer.kind) ?? 0) + 1;
        counts.set(layer.kind, n);
        layer.name = `${layer.kind.toLowerCase()}_${n}`;
      }
      if (names.has(layer.name)) throw new ValueError(`sequential: two layers are named '${layer.name}'`);
      names.add(layer.name);
    });
    this.layers = layers;
    this.name = options.name ?? 'sequential';
    this.seed = options.seed ?? 0;
    // A final Softmax (or Sigmoid on one output) is what the loss applies itself: it
    // is folded into it (Keras's from_logits), so training and predict() apply it once.
    const last = layers[layers.length - 1];
    this.logitLayers = layers.length > 1 && (last instanceof Softmax || last instanceof Sigmoid) ? layers.length - 1 : layers.length;
    if (options.inputShape) this.build(options.inputShape);
    for (const layer of layers) owners.set(layer, this.name);
  }

  /**
   * How many layers produce the logits: all of them, or all but a final
   * Softmax / Sigmoid that the loss applies itself. Training, evaluate and
   * predictLogits run these; forward() runs every layer.
   */
  private readonly logitLayers: number;

  get built(): boolean {
    return this.inputShape.length > 0;
  }

  /** Creates every layer's parameters for inputs of this per-sample shape. */
  build(inputShape: readonly number[]): this {
    if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`${this.name}: inputShape must be a non-empty list of positive integers, got ${describe(inputShape)}`);
    }
    const random = new Random(this.seed);
    let shape: SampleShape = inputShape;
    for (const layer of this.layers) shape = layer.build(shape, random);
    this.inputShape = [...inputShape];
    this.packParameters();
    this.plan = compilePlan(this.layers.slice(0, this.logitLayers));
    if (this.logitLayers < this.layers.length) this.checkFoldedActivation();
    return this;
  }

  /** A final softmax over one output (always 1) or a sigmoid over many (not what BCE takes) is refused; the foldable ones are said once. */
  private checkFoldedActivation(): void {
    const last = this.layers[this.layers.length - 1];
    const units = this.outputUnits;
    if (last instanceof Softmax && units === 1) throw new ValueError(`${this.name}: a final softmax over 1 output is always 1; use a sigmoid (or no activation) for a binary model`);
    if (last instanceof Sigmoid && units > 1) throw new ValueError(`${this.name}: a final sigmoid over ${units} outputs does not go with softmax cross-entropy; remove it (the loss applies softmax) or use 1 output`);
    const loss = last instanceof Softmax ? 'softmax cross-entropy' : 'sigmoid binary cross-entropy';
    if (!warnedFold.has(this.name)) {
      warnedFold.add(this.name);
      process.emitWarning(`convkit: ${this.name} ends in ${last.kind}; ${loss} takes the outputs before it (from logits), so training is unchanged and predict() applies ${last.kind} once`, { code: 'CONVKIT_FOLDED_ACTIVATION' });
    }
  }

  /**
   * Moves every parameter (and gradient) into one contiguous array, as views,
   * so an optimizer updates the whole model in one native call (llm.c's
   * params_memory) instead of one per weight and bias.
   */
  private packParameters(): void {
    const params = this.parameters();
    const total = params.reduce((n, p) => n + p.value.size, 0);
    const values = new Float32Array(total);
    const grads = new Float32Array(total);
    let offset = 0;
    for (const p of params) {
      const size = p.value.size;
      values.set(p.value.data, offset);
      p.value = new Tensor(values.subarray(offset, offset + size), p.value.shape);
      p.grad = new Tensor(grads.subarray(offset, offset + size), p.grad.shape);
      offset += size;
    }
  }

  get outputShape(): SampleShape {
    return this.layers[this.layers.length - 1].outputShape;
  }

  /** Output units per sample (classes, or 1 for a binary model). */
  get outputUnits(): number {
    return this.outputShape.reduce((a, b) => a * b, 1);
  }

  /** Checks x against the model's input shape (building the model at its first input). */
  checkInput(x: unknown, op: string): Tensor {
    const t = checkTensor(x, 'x', op);
    if (!this.built) {
      if (t.rank < 2) throw new ShapeError(`${op}: x must be [samples, ...sample shape], got x.shape = ${formatShape(t.shape)}`);
      this.build(t.shape.slice(1));
    }
    const want = [t.shape[0], ...this.inputShape];
    if (t.rank !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${op}: x.shape must be [samples, ${this.inputShape.join(', ')}] for model '${this.name}', got ${formatShape(t.shape)}`);
    }
    return t;
  }

  /** How the logit layers run (compiled by build; plan/compile.ts decides what is fused). */
  private plan: ExecutionPlan | null = null;
  /** Whether the last forward kept what backward needs. */
  private lastForwardTrained = false;

  /**
   * Runs the layers up to the logits; the result is valid until the next
   * forward (training code path). Inference of a blocks → Flatten → Dense
   * model runs as one backend call (the plan's chain).
   */
  forwardInPlace(x: Tensor, training: boolean): Tensor {
    const plan = this.plan!;
    this.lastForwardTrained = training;
    if (!training && plan.chain && x.shape[0] > 0) return plan.chain.forward(x);
    let y = x;
    for (const step of plan.steps) y = step.forward(y, training);
    return y;
  }

  /** The output of every layer (a final Softmax or Sigmoid included) for x, as a new tensor. */
  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    checkOptions(options, ['training'], 'forward');
    const t = this.checkInput(x, 'forward');
    const training = options.training === undefined ? false : checkBoolean(options.training, 'training', 'forward');
    if (this.logitLayers === this.layers.length) return this.forwardInPlace(t, training).clone();
    return this.layers[this.layers.length - 1].forward(this.forwardInPlace(t, training), training).clone();
  }

  /** Back-propagates dLoss/dOutput through every layer, filling the parameters' gradients. */
  backward(dy: Tensor): void {
    if (!this.lastForwardTrained) throw new ValueError(`${this.name}: backward needs the activations of a forward with training: true, the last forward was for inference`);
    const steps = this.plan!.steps;
    let d: Tensor | null = dy;
    for (let i = steps.length - 1; i >= 0 && d; i--) d = steps[i].backward(d, i > 0);
  }

  /**
   * A training step's pass without the optimizer: forward (training), the
   * loss, backward, filling every parameter's gradient. Returns the mean
   * loss and the logits [N, units] (valid until the next forward). Under
   * a SoftmaxCrossEntropy (not a subclass), a model the plan found a chain
   * in (plan/chain.ts: the zoo's CNNs) runs as one backend call; others run
   * step by step. Both write the same numbers.
   */
  trainPass(x: Tensor, labels: LabelArray, loss?: Loss | LossName): { loss: number; logits: Tensor } {
    this.checkInput(x, 'trainPass');
    const n = x.shape[0];
    if (n < 1) throw new ShapeError(`trainPass: x must hold at least 1 sample, got x.shape = ${formatShape(x.shape)}`);
    const y = toInt32Labels(labels, 'labels', 'trainPass');
    checkLabels(y, n, this.outputUnits === 1 ? 2 : this.outputUnits, 'trainPass', 'labels');
    return this.trainPassInPlace(x, y, this.lossFor(loss, 'trainPass'));
  }

  /** The loss a name or object stands for, the model's own for undefined; the same object for the same name, so its buffers are reused. */
  private lossFor(loss: Loss | LossName | undefined, fn: string): Loss {
    if (typeof loss === 'object' && loss !== null) return createLoss(loss, this.outputUnits, fn);
    const key = loss ?? 'default';
    let l = this.losses.get(key);
    if (!l) this.losses.set(key, (l = createLoss(loss, this.outputUnits, fn)));
    return l;
  }

  private readonly losses = new Map<string, Loss>();

  /** trainPass on arguments already checked (training code path: fit checks its whole data set once). */
  trainPassInPlace(x: Tensor, labels: Int32Array, loss: Loss): { loss: number; logits: Tensor } {
    const n = x.shape[0];
    // Exactly convkit's softmax cross-entropy: a subclass may compute another loss.
    const chain = Object.getPrototypeOf(loss) === SoftmaxCrossEntropy.prototype ? this.plan!.chain : null;
    if (chain) {
      this.lastForwardTrained = true;
      return chain.trainPass(x, labels, loss as SoftmaxCrossEntropy);
    }
    const logits = this.forwardInPlace(x, true).reshape([n, this.outputUnits]);
    const { loss: value, dLogits } = loss.compute(logits, labels);
    this.backward(dLogits.reshape([n, ...this.outputShape]));
    return { loss: value, logits };
  }

  /** Every trainable weight and bias, in layer order. */
  parameters(): Parameter[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  /** Every weight saved and loaded: the trainable parameters, then the layers' non-trainable state (BatchNormalization's moving statistics), Keras's `model.weights`. */
  weights(): Parameter[] {
    return [...this.parameters(), ...this.layers.flatMap((l) => l.stateTensors())];
  }

  /** The number of trainable values. */
  countParams(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /** A Keras-like table: layer, output shape, parameter count, totals. */
  summary(): string {
    if (!this.built) throw new ValueError(`${this.name}.summary(): the model is not built; pass inputShape or call build([h, w, c])`);
    const size = (ps: Parameter[]) => ps.reduce((n, p) => n + p.value.size, 0);
    // Keras's count: a layer's trainable and non-trainable weights together.
    const rows = this.layers.map((l) => [`${l.name} (${l.kind})`, `(None, ${l.outputShape.join(', ')})`, size([...l.parameters(), ...l.stateTensors()]).toLocaleString('en-US')]);
    const head = ['Layer (type)', 'Output Shape', 'Param #'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
    const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('').trimEnd();
    const trainable = this.countParams();
    const total = size(this.weights());
    const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
    return [
      `Model: "${this.name}"  input (None, ${this.inputShape.join(', ')})`,
      rule('_'),
      line(head),
      rule('='),
      ...rows.map(line),
      rule('='),
      `Total params: ${total.toLocaleString('en-US')} (${(total * 4 / 1024).toFixed(2)} KB)`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`,
    ].join('\n');
  }

  /** Copies of every parameter by name (`conv2d_1.weight`, ...). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.weights()) out[p.name] = p.value.clone();
    return out;
  }

  /** Copies values into the parameters; every name and shape must match. */
  loadStateDict(state: Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    checkOptions(options, ['strict'], 'loadStateDict');
    if (options.strict !== undefined) checkBoolean(options.strict, 'strict', 'loadStateDict');
    if (!state || typeof state !== 'object') throw new ValueError(`loadStateDict: state must be an object of tensors, got ${describe(state)}`);
    const params = this.weights();
    for (const p of params) {
      const t = state[p.name];
      if (!t) throw new ShapeError(`loadStateDict: '${p.name}' is missing (have: ${Object.keys(state).join(', ') || 'nothing'})`);
      checkTensor(t, p.name, 'loadStateDict');
      if (t.shape.length !== p.value.shape.length || t.shape.some((d, i) => d !== p.value.shape[i])) {
        throw new ShapeError(`loadStateDict: '${p.name}' has shape ${formatShape(t.shape)} but the model expects ${formatShape(p.value.shape)}`);
      }
    }
    if (options.strict !== false) {
      const known = new Set(params.map((p) => p.name));
      const extra = Object.keys(state).filter((k) => !known.has(k));
      if (extra.length) throw new ShapeError(`loadStateDict: unexpected keys ${extra.join(', ')}`);
    }
    for (const p of params) p.value.data.set(state[p.name].data);
  }

  /** The architecture as JSON (what `modelFromConfig` rebuilds). */
  config(): ModelConfig {
    if (!this.built) throw new ValueError(`${this.name}.config(): the model is not built`);
    return { name: this.name, inputShape: [...this.inputShape], seed: this.seed, layers: this.layers.map(layerSpec) };
  }

  /** Saves weights and architecture as safetensors (a file, or model.safetensors in a folder). */
  save(path: string): string {
    return saveModel(this, path);
  }

  /** The loss fit() uses by default: softmax cross-entropy, or sigmoid BCE for one output. */
  defaultLoss(): Loss {
    return createLoss(undefined, this.outputUnits);
  }

  /**
   * Trains on (x, y) for some epochs; resolves to the history of loss and metrics per epoch.
   * @example
   * ```ts
   * const history = await model.fit(train.x, train.y, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
   * ```
   */
  fit(x: Tensor, y: LabelArray, options: FitOptions = {}): Promise<History> {
    return fit(this, x, y, options);
  }

  /**
   * Mean loss and accuracy over (x, y), in batches, in inference mode.
   * @example
   * ```ts
   * const { loss, accuracy } = model.evaluate(test.x, test.y);
   * ```
   */
  evaluate(x: Tensor, y: LabelArray, options: EvaluateOptions = {}): { loss: number; accuracy: number } {
    return evaluate(this, x, y, options);
  }

  /** Raw outputs (logits: before a final Softmax or Sigmoid), batched. */
  predictLogits(x: Tensor, options: PredictOptions = {}): Tensor {
    return this.logitsFor(x, options, 'predictLogits');
  }

  private logitsFor(x: Tensor, options: PredictOptions, fn: string): Tensor {
    checkPredictOptions(options, fn);
    const t = this.checkInput(x, fn);
    if (!options.allowNonFinite) checkFiniteInput(t, fn);
    const units = this.outputUnits;
    const out = new Float32Array(t.shape[0] * units);
    predictBatches(this, t, options, (logits, start) => out.set(logits.data, start * units), fn);
    return new Tensor(out, [t.shape[0], ...this.outputShape]);
  }

  /** Probabilities: softmax over the classes, or sigmoid for one output (applied once, whether or not the model ends in that layer). */
  predict(x: Tensor, options: PredictOptions = {}): Tensor {
    const logits = this.logitsFor(x, options, 'predict');
    return this.lossFor(options.loss, 'predict').probabilities(logits.reshape([logits.shape[0], this.outputUnits])).reshape(logits.shape);
  }

  /** The most probable class of each sample (0/1 for a binary model). */
  predictClasses(x: Tensor, options: PredictOptions = {}): Int32Array {
    const logits = this.logitsFor(x, options, 'predictClasses');
    return this.lossFor(options.loss, 'predictClasses').classes(logits.reshape([logits.shape[0], this.outputUnits]));
  }
}

/** sequential([layers...], {inputShape, seed, name}) */
export function sequential(layers: Layer[], options: SequentialOptions = {}): Sequential {
  return new Sequential(layers, options);
}

/** Rebuilds a model from its config() (weights are initialised from its seed; load a state dict after). */
export function modelFromConfig(config: ModelConfig): Sequential {
  if (!config || !Array.isArray(config.layers)) throw new ValueError(`modelFromConfig: config must have a layers array, got ${describe(config)}`);
  return new Sequential(config.layers.map(layerFromSpec), { inputShape: config.inputShape, seed: config.seed, name: config.name });
}
