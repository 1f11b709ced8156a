// What every model has, whatever its layers' wiring: weights and their
// files, summary, the training pass around a loss, fit, evaluate and
// predict. Sequential (a stack) and Functional (a graph) add how their
// layers connect: build, forwardInPlace, backward and config.
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import type { Layer, Parameter, SampleShape, SymbolicTensor } from '../nn/layers/layer.js';
import type { ModelConfig } from '../nn/layers/index.js';
import { checkBoolean } from '../core/check.js';
import { checkTensor } from '../ops/check.js';
import { Tensor } from '../core/tensor.js';
import { type EvaluateOptions, type EvaluateResult, type FitOptions, type History, type PredictOptions, checkFiniteInput, evaluate, fit, checkPredictOptions, predictBatches } from './train.js';
import { type Targets, resolveTargets } from './targets.js';
import type { GraphNode } from './graph-run.js';
import { type Loss, createLoss, type LossSpec } from '../nn/losses.js';
import type { Optimizer } from '../optim/optimizers.js';
import { type CompileOptions, type Compiled, checkCompileOptions, trainingConfig } from './compile.js';
import { saveModel } from './checkpoint-write.js';
import { summaryTable } from './summary.js';
import { loadStateDictInto } from './state-dict.js';
import { inputOfLayer } from './input-of.js';

export type { CompileOptions } from './compile.js';
/** A model's logit layers as a graph (Model.logitGraph): value ids are the inputs first, then each node's output. */
export interface LogitGraph {
  readonly inputs: readonly { name: string; shape: SampleShape }[];
  readonly nodes: readonly GraphNode[];
  readonly outputs: readonly number[];
}

/**
 * A model: layers with weights, trained by fit() under a loss, run by
 * evaluate() and predict(). Outputs of internal layers live in reused
 * buffers, so a training step of a fixed batch size allocates nothing.
 */
export abstract class Model {
  /** Every layer, in the order they run. */
  abstract readonly layers: Layer[];
  readonly name: string;
  readonly seed: number;
  /** The per-sample input shape (of the first input, for a model of several). */
  inputShape: SampleShape = [];
  /** The optimizer compile() set or the current (last) fit steps with, as Keras's model.optimizer. */
  optimizer: Optimizer | null = null;
  /** Set by a callback to stop fit() after the current epoch. */
  stopTraining = false;
  /** Whether the last forward kept what backward needs. */
  protected lastForwardTrained = false;

  constructor(name: string, seed: number) {
    this.name = name;
    this.seed = seed;
  }

  get built(): boolean {
    return this.inputShape.length > 0;
  }

  /** Creates every layer's parameters for inputs of this per-sample shape. */
  abstract build(inputShape: readonly number[]): this;

  /** The per-sample shape of the (first) output's logits. */
  abstract get outputShape(): SampleShape;

  /** Output units per sample (classes, or 1 for a binary model). */
  get outputUnits(): number {
    return this.outputShape.reduce((a, b) => a * b, 1);
  }

  /** Runs the layers up to the logits; the result is valid until the next forward (training code path). */
  abstract forwardInPlace(x: Tensor, training: boolean): Tensor;

  /** Back-propagates dLoss/dLogits, filling every parameter's gradient. */
  abstract backward(dy: Tensor): void;

  /** The output of every layer (a final Softmax or Sigmoid included) for x, as a new tensor. */
  abstract forward(x: Tensor, options?: { training?: boolean }): Tensor;

  /** The architecture as JSON (what `modelFromConfig` rebuilds). */
  abstract config(): ModelConfig;

  /**
   * The layers that make the logits, as a graph: the inputs, each layer with
   * the values it takes (a final Softmax or Sigmoid the loss applies is left
   * out) and the values the outputs are. What exporters walk.
   */
  abstract logitGraph(): LogitGraph;

  /**
   * What `layer` takes (its first input) when x runs through the model for
   * inference: feature maps for class activation maps and probes.
   */
  inputOf(x: Tensor, layer: Layer): Tensor {
    return inputOfLayer(this.name, this.logitGraph(), x, layer);
  }

  /** A whole training pass in fewer backend calls, where the model's shape allows (Sequential's chain); null otherwise. */
  protected fusedTrainPass(_x: Tensor, _labels: Int32Array, _loss: Loss): { loss: number; logits: Tensor } | null {
    return null;
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

  /**
   * Moves every parameter (and gradient) into one contiguous array, as views,
   * so an optimizer updates the whole model in one native call (llm.c's
   * params_memory) instead of one per weight and bias.
   */
  protected packParameters(): void {
    // Frozen layers' too, so that the trainable ones of a model frozen up to some layer still lie back to back.
    const params = this.layers.flatMap((l) => l.parameters());
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

  /**
   * A training step's pass without the optimizer: forward (training), the
   * loss, backward, filling every parameter's gradient. Returns the mean
   * loss and the logits [N, units] (valid until the next forward).
   */
  trainPass(x: Tensor, targets: Targets, loss?: LossSpec): { loss: number; logits: Tensor } {
    this.checkInput(x, 'trainPass');
    const n = x.shape[0];
    if (n < 1) throw new ShapeError(`trainPass: x must hold at least 1 sample, got x.shape = ${formatShape(x.shape)}`);
    const spec = loss ?? this.compiled?.loss;
    const resolved = resolveTargets(this, targets, spec, n, 'trainPass', 'targets');
    return this.trainPassInPlace(x, resolved.labels ?? resolved.values!.data, this.lossFor(spec, 'trainPass', resolved.labels ? 'labels' : 'values'));
  }

  /** The loss a name or object stands for, the model's own for undefined; the same object for the same name, so its buffers are reused. */
  protected lossFor(loss: LossSpec | undefined, fn: string, targets: 'labels' | 'values' = 'labels'): Loss {
    if (typeof loss === 'object' && loss !== null) return createLoss(loss, this.outputUnits, fn, targets);
    const key = `${targets}:${loss ?? 'default'}`;
    let l = this.losses.get(key);
    if (!l) this.losses.set(key, (l = createLoss(loss, this.outputUnits, fn, targets)));
    return l;
  }

  private readonly losses = new Map<string, Loss>();

  /** The loss predict reads the logits by (the option's, else compile's): of labels where the name has one, else of values (a regression loss). */
  private predictionLoss(loss: LossSpec | undefined, fn: string): Loss {
    const spec = loss ?? this.compiled?.loss;
    try {
      return this.lossFor(spec, fn, 'labels');
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      return this.lossFor(spec, fn, 'values');
    }
  }

  /** trainPass on arguments already checked (training code path: fit checks its whole data set once). */
  trainPassInPlace(x: Tensor, targets: Int32Array | Float32Array, loss: Loss): { loss: number; logits: Tensor } {
    const fused = targets instanceof Int32Array ? this.fusedTrainPass(x, targets, loss) : null;
    if (fused) return fused;
    const n = x.shape[0];
    const logits = this.forwardInPlace(x, true).reshape([n, this.outputUnits]);
    // A regression loss is of the outputs: through the final activation the loss does not apply itself.
    const head = loss.onOutputs ? this.outputActivation() : null;
    if (head) {
      const { loss: value, dLogits: dOut } = loss.compute(head.forward(logits, true), targets);
      const d = head.backward(dOut, true)!;
      this.backward(d.reshape([n, ...this.outputShape]));
      return { loss: value, logits };
    }
    const { loss: value, dLogits } = loss.compute(logits, targets);
    this.backward(dLogits.reshape([n, ...this.outputShape]));
    return { loss: value, logits };
  }

  /** The final Softmax or Sigmoid that the loss applies itself (the model's logits are before it), or null. */
  outputActivation(): Layer | null {
    return null;
  }

  /** Every trainable weight and bias (of the layers not frozen), in layer order: what fit updates. */
  parameters(): Parameter[] {
    return this.layers.filter((l) => l.trainable).flatMap((l) => l.parameters());
  }

  /**
   * Every weight saved and loaded, Keras's `model.weights`: the layers'
   * weights and biases (frozen or not), then their non-trainable state
   * (BatchNormalization's moving statistics).
   */
  weights(): Parameter[] {
    return [...this.layers.flatMap((l) => l.parameters()), ...this.layers.flatMap((l) => l.stateTensors())];
  }

  /** Keras's and tfjs's `trainableWeights`: what fit updates (the same as parameters()). */
  get trainableWeights(): Parameter[] {
    return this.parameters();
  }

  /** Keras's and tfjs's `nonTrainableWeights`: frozen layers' weights and every layer's moving statistics. */
  get nonTrainableWeights(): Parameter[] {
    const trainable = new Set(this.parameters());
    return this.weights().filter((p) => !trainable.has(p));
  }

  /** The model's inputs and outputs as symbolic tensors (what input() and apply() make). */
  protected abstract symbolicGraph(): { inputs: readonly SymbolicTensor[]; outputs: readonly SymbolicTensor[] };

  /**
   * Keras's `model.input`: the symbolic input (a list for a model of
   * several), and `model.output`: what the model gives. A new functional
   * model built from them, or from a layer's `output`, shares this model's
   * layers and weights (Keras's transfer learning; see `Layer.output`).
   */
  get input(): SymbolicTensor | SymbolicTensor[] {
    const { inputs } = this.symbolicGraph();
    return inputs.length === 1 ? inputs[0] : [...inputs];
  }

  /** Keras's `model.output`: the symbolic output (a list for several); see `input`. */
  get output(): SymbolicTensor | SymbolicTensor[] {
    const { outputs } = this.symbolicGraph();
    return outputs.length === 1 ? outputs[0] : [...outputs];
  }

  /** Keras's `model.trainable`: true while any layer is; setting it freezes or unfreezes every layer. Takes effect at the next fit. */
  get trainable(): boolean {
    return this.layers.some((l) => l.trainable);
  }

  set trainable(value: boolean) {
    checkBoolean(value, 'trainable', this.name);
    for (const l of this.layers) l.trainable = value;
  }

  /**
   * A layer by name, or by its index in `layers` (Keras's `get_layer`,
   * tfjs's `getLayer`); an unknown name is refused with the names there are.
   * @example
   * ```ts
   * net.getLayer('conv2d_1').trainable = false;
   * ```
   */
  getLayer(nameOrIndex?: string | number, index?: number): Layer {
    const at = typeof nameOrIndex === 'number' ? nameOrIndex : nameOrIndex === undefined ? index : undefined;
    if (at !== undefined) {
      if (!Number.isInteger(at) || at < 0 || at >= this.layers.length) throw new ValueError(`${this.name}.getLayer: index must be an integer in [0, ${this.layers.length - 1}], got ${describe(at)}`);
      if (this.built) this.symbolicGraph();
      return this.layers[at];
    }
    if (typeof nameOrIndex !== 'string') throw new ValueError(`${this.name}.getLayer: give a layer name or an index, got ${describe(nameOrIndex)}`);
    if (this.built) this.symbolicGraph(); // so that the layer's output is there to build on
    const layer = this.layers.find((l) => l.name === nameOrIndex);
    if (!layer) throw new ValueError(`${this.name}.getLayer: no layer is named '${nameOrIndex}'; the layers are ${this.layers.map((l) => l.name).join(', ')}`);
    return layer;
  }

  /** The number of trainable values. */
  countParams(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /** The summary's first line: the model and its input(s). */
  protected summaryTitle(): string {
    return `Model: "${this.name}"  input (None, ${this.inputShape.join(', ')})`;
  }

  /** What each layer takes, for the summary's last column (none for a stack). */
  protected connections(): string[] | null {
    return null;
  }

  /** A Keras-like table: layer, output shape, parameter count (and, for a graph, what each layer takes), totals. */
  summary(): string {
    if (!this.built) throw new ValueError(`${this.name}.summary(): the model is not built; pass inputShape or call build([h, w, c])`);
    return summaryTable(this.summaryTitle(), this.layers, this.connections(), this.countParams(), this.weights());
  }

  /** Copies of every parameter by name (`conv2d_1.weight`, ...). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.weights()) out[p.name] = p.value.clone();
    return out;
  }

  /** Copies values into the parameters; every name and shape must match (extra names are refused unless strict is false). */
  loadStateDict(state: Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    loadStateDictInto(this.weights(), state, options);
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
  fit(x: Tensor, y: Targets, options: FitOptions = {}): Promise<History> {
    return fit(this, x, y, this.compiled ? { ...options, optimizer: options.optimizer ?? (options.learningRate === undefined || this.compiled.optimizerName === undefined ? this.compiled.optimizer : this.compiled.optimizerName), loss: options.loss ?? this.compiled.loss, metrics: options.metrics ?? this.compiled.metrics } : options);
  }

  /** What compile() set: fit's and evaluate's optimizer and loss when their options do not name one. */
  private compiled: Compiled | null = null;

  /**
   * Keras's and tfjs's compile: the optimizer (one object, its state kept
   * across fit calls), loss and metrics fit and evaluate use when their own
   * options do not give them. Accuracy is always computed.
   * @example
   * ```ts
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * await model.fit(train.x, train.y, { epochs: 1 });
   * ```
   */
  compile(options: CompileOptions): this {
    this.compiled = checkCompileOptions(options, this.name, this.built, this.outputUnits);
    this.optimizer = this.compiled.optimizer;
    return this;
  }

  /** What compile() set, as the JSON a checkpoint keeps (Keras's training_config), or null. */
  trainingConfig(): Record<string, unknown> | null {
    return this.compiled ? trainingConfig(this.compiled) : null;
  }

  /**
   * Mean loss and accuracy over (x, y), in batches, in inference mode.
   * @example
   * ```ts
   * const { loss, accuracy } = model.evaluate(test.x, test.y);
   * ```
   */
  evaluate(x: Tensor, y: Targets, options: EvaluateOptions = {}): EvaluateResult {
    return evaluate(this, x, y, this.compiled ? { ...options, loss: options?.loss ?? this.compiled.loss, metrics: options?.metrics ?? this.compiled.metrics } : options);
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

  /**
   * The model's outputs: its final Softmax or Sigmoid where it ends in one;
   * else what the loss makes of the logits (softmax over the classes, sigmoid
   * for one output, the values themselves under a regression loss).
   */
  predict(x: Tensor, options: PredictOptions = {}): Tensor {
    const logits = this.logitsFor(x, options, 'predict');
    const rows = logits.reshape([logits.shape[0], this.outputUnits]);
    const head = this.outputActivation();
    if (head) return head.forward(rows, false).clone().reshape(logits.shape);
    return this.predictionLoss(options.loss, 'predict').probabilities(rows).reshape(logits.shape);
  }

  /** The most probable class of each sample (0/1 for a binary model). */
  predictClasses(x: Tensor, options: PredictOptions = {}): Int32Array {
    const logits = this.logitsFor(x, options, 'predictClasses');
    return this.predictionLoss(options.loss, 'predictClasses').classes(logits.reshape([logits.shape[0], this.outputUnits]));
  }
}
