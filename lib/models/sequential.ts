import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { type Layer, type Parameter, type SampleShape, SymbolicTensor } from '../nn/layers/layer.js';
import { accumulatedParameters } from '../nn/layers/kinds.js';
import { type SequentialConfig, LeakyReLU, layerFromSpec, layerSpec, ReLU, Sigmoid, Softmax, Tanh } from '../nn/layers/index.js';
import { type ExecutionPlan, compilePlan } from './plan/compile.js';
import type { Activation } from '../nn/layers/layer.js';
import { checkBoolean, checkNumber, checkOptions, checkString } from '../core/check.js';
import { Random } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { type Loss, SoftmaxCrossEntropy } from '../nn/losses.js';
import { type LogitGraph, Model } from './model.js';
import { claimLayers } from './claim-layers.js';

/** Options of `sequential()`: input shape, seed and name. */
export interface SequentialOptions {
  /** Per-sample input shape, e.g. [28, 28, 1]; without it the model builds at its first input. */
  inputShape?: readonly number[];
  /** Seeds the initial weights (and dropout). */
  seed?: number;
  name?: string;
}

export type { ModelConfig, SequentialConfig } from '../nn/layers/index.js';
const warnedFold = new Set<string>();

/** The layer Keras's `activation` option on Conv2D and Dense stands for. */
export function activationLayer(activation: Activation): Layer {
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
 * A final Softmax over one output (always 1) is refused; the foldable ones are
 * said once per model name. (A sigmoid over several outputs is multi-label:
 * fit refuses it with a softmax loss, when the loss is known.)
 */
export function checkFoldedActivation(last: Layer, units: number, model: string): void {
  if (last instanceof Softmax && units === 1) throw new ValueError(`${model}: a final softmax over 1 output is always 1; use a sigmoid (or no activation) for a binary model`);
  if (!warnedFold.has(model)) {
    warnedFold.add(model);
    process.emitWarning(`convkit: ${model} ends in ${last.kind}; the loss takes the outputs before it (logits, Keras's from_logits) and applies ${last.kind} itself, so training is unchanged and predict() applies it once`, { code: 'CONVKIT_FOLDED_ACTIVATION' });
  }
}

function checkInputShape(inputShape: unknown, model: string): void {
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${model}: inputShape must be a non-empty list of positive integers, got ${describe(inputShape)}`);
  }
}

/**
 * A stack of layers run in order. forward keeps what backward needs;
 * backward fills every parameter's gradient. Outputs of internal layers
 * live in reused buffers, so a training step of a fixed batch size
 * allocates nothing.
 */
export class Sequential extends Model {
  readonly layers: Layer[] = [];

  constructor(layerList: (Layer | SymbolicTensor)[] = [], options: SequentialOptions = {}) {
    checkOptions(options, ['inputShape', 'seed', 'name'], 'sequential');
    if (!Array.isArray(layerList)) throw new ValueError(`sequential: layers must be an array of layers (empty to add them with model.add), got ${describe(layerList)}`);
    if (options.seed !== undefined) checkNumber(options.seed, 'seed', 'sequential', { integer: true, min: 0, max: 2 ** 32 - 1 });
    if (options.name !== undefined) checkString(options.name, 'name', 'sequential');
    super(options.name ?? 'sequential', options.seed ?? 0);
    if (options.inputShape !== undefined) checkInputShape(options.inputShape, this.name);
    this.givenInputShape = options.inputShape ? [...options.inputShape] : null;
    this.append(layerList, 'sequential');
  }

  /** The inputShape option, kept until there are layers to build (sequential([], {inputShape}) then add). */
  private givenInputShape: SampleShape | null;

  /**
   * Appends a layer (Keras's and tfjs's model.add). A model already built
   * builds the new layer onto its output, drawing its weights where one
   * sequential([...]) of all the layers would, so the same seed gives the
   * same weights either way.
   */
  add(layer: Layer | SymbolicTensor): this {
    this.append([layer], `${this.name}.add`);
    return this;
  }

  private append(given: readonly (Layer | SymbolicTensor)[], fn: string): void {
    // Keras's Sequential([keras.Input(shape), ...]): an input first says the input shape.
    const lead = given[0];
    if (lead instanceof SymbolicTensor) {
      if (lead.layer !== null) throw new ValueError(`${fn}: a sequential model takes input() (Keras's keras.Input) as its first entry, not the output of a layer`);
      if (this.layers.length > 0) throw new ValueError(`${fn}: input() goes first, before any layer; this model has ${this.layers.length} already`);
      if (this.givenInputShape && formatShape(this.givenInputShape) !== formatShape(lead.shape)) throw new ShapeError(`${this.name}: inputShape ${formatShape(this.givenInputShape)} and input({shape: ${formatShape(lead.shape)}}) differ; give one`);
      this.givenInputShape = [...lead.shape];
    }
    const layerList = (lead instanceof SymbolicTensor ? given.slice(1) : given) as Layer[];
    layerList.forEach((layer, i) => {
      if (!layer || typeof layer.forward !== 'function') throw new ValueError(`${fn}: ${fn === 'sequential' ? `layers[${i}]` : 'layer'} is not a layer, got ${describe(layer)}`);
    });
    // Keras's activation option on Conv2D and Dense: the activation becomes the next layer.
    const added = layerList.flatMap((layer) => {
      const activation = (layer as { activation?: Activation | null }).activation;
      return activation && activation !== 'linear' ? [layer, activationLayer(activation)] : [layer];
    });
    if (added.length === 0) return;
    claimLayers(added, this.name, fn, this.layers);
    const first = this.layers.length;
    this.layers.push(...added);
    // A final Softmax (or Sigmoid on one output) is what the loss applies itself: it
    // is folded into it (Keras's from_logits), so training and predict() apply it once.
    const last = this.layers[this.layers.length - 1];
    this.logitLayers = this.layers.length > 1 && (last instanceof Softmax || last instanceof Sigmoid) ? this.layers.length - 1 : this.layers.length;
    if (this.built) {
      let shape = this.layers[first - 1].outputShape;
      for (const layer of added) shape = layer.build(shape, this.buildRandom!);
      this.packAndPlan();
      return;
    }
    const declared = this.layers[0].declaredInputShape;
    if (declared && this.givenInputShape && formatShape(declared) !== formatShape(this.givenInputShape)) {
      throw new ShapeError(`${this.name}: inputShape ${formatShape(this.givenInputShape)} of the model and inputShape ${formatShape(declared)} of its first layer (${this.layers[0].kind} '${this.layers[0].name}') differ; give one`);
    }
    const shape = this.givenInputShape ?? declared;
    if (shape) this.build(shape);
  }

  /**
   * How many layers produce the logits: all of them, or all but a final
   * Softmax / Sigmoid that the loss applies itself. Training, evaluate and
   * predictLogits run these; forward() runs every layer.
   */
  private logitLayers = 0;

  /** The generator build() drew the weights from, continued by add() after it. */
  private buildRandom: Random | null = null;

  /** Creates every layer's parameters for inputs of this per-sample shape. */
  build(inputShape: readonly number[]): this {
    checkInputShape(inputShape, this.name);
    if (this.layers.length === 0) throw new ValueError(`${this.name}: the model has no layers to build; add some with model.add(layer)`);
    const random = new Random(this.seed);
    let shape: SampleShape = inputShape;
    for (const layer of this.layers) shape = layer.build(shape, random);
    this.inputShape = [...inputShape];
    this.buildRandom = random;
    this.packAndPlan();
    return this;
  }

  /** Parameters of custom layers, whose backward may add into the gradient: zeroed before each backward. */
  private accumulated: Parameter[] = [];

  private packAndPlan(): void {
    this.accumulated = accumulatedParameters(this.layers);
    this.packParameters();
    this.plan = compilePlan(this.layers.slice(0, this.logitLayers));
    if (this.logitLayers < this.layers.length) checkFoldedActivation(this.layers[this.layers.length - 1], this.outputUnits, this.name);
  }

  get outputShape(): SampleShape {
    return this.layers[this.layers.length - 1].outputShape;
  }

  logitGraph(): LogitGraph {
    const nodes = this.layers.slice(0, this.logitLayers).map((layer, i) => ({ layer, inputs: [i], output: i + 1 }));
    return { inputs: [{ name: 'input', shape: this.inputShape }], nodes, outputs: [nodes.length] };
  }

  /** How the logit layers run (compiled by build; plan/compile.ts decides what is fused). */
  private plan: ExecutionPlan | null = null;

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

  /** The final Softmax or Sigmoid that the loss applies itself, or null. */
  override outputActivation(): Layer | null {
    return this.logitLayers < this.layers.length ? this.layers[this.layers.length - 1] : null;
  }

  /** Back-propagates dLoss/dOutput through every layer, filling the parameters' gradients. */
  backward(dy: Tensor): void {
    if (!this.lastForwardTrained) throw new ValueError(`${this.name}: backward needs the activations of a forward with training: true, the last forward was for inference`);
    for (const p of this.accumulated) p.grad.data.fill(0);
    const steps = this.plan!.steps;
    // Nothing before the first trainable layer learns: the backward stops there (a model frozen up to its head runs one layer's backward).
    const first = steps.findIndex((s) => s.layers.some((l) => l.trainable && l.parameters().length > 0));
    let d: Tensor | null = dy;
    for (let i = steps.length - 1; i >= first && first >= 0 && d; i--) d = steps[i].backward(d, i > first);
  }

  /** Under a SoftmaxCrossEntropy (not a subclass), a model the plan found a chain in (plan/chain.ts: the zoo's CNNs) trains in one backend call, with the numbers of the steps. */
  protected override fusedTrainPass(x: Tensor, labels: Int32Array, loss: Loss): { loss: number; logits: Tensor } | null {
    const chain = Object.getPrototypeOf(loss) === SoftmaxCrossEntropy.prototype && (loss as SoftmaxCrossEntropy).labelSmoothing === 0 ? this.plan!.chain : null;
    if (!chain) return null;
    this.lastForwardTrained = true;
    return chain.trainPass(x, labels, loss as SoftmaxCrossEntropy);
  }

  /** The stack as a chain of symbolic tensors, made once (again after add): each layer's output, for a new graph on these layers. */
  protected symbolicGraph(): { inputs: readonly SymbolicTensor[]; outputs: readonly SymbolicTensor[] } {
    if (!this.built) throw new ValueError(`${this.name}: the model is not built, so it has no input or output yet; pass inputShape or call build([h, w, c])`);
    if (this.chain?.count !== this.layers.length) {
      const start = new SymbolicTensor([...this.inputShape], null, [], 'input');
      let t = start;
      this.layers.forEach((layer, i) => {
        // The activation option is a layer of its own here already.
        t = new SymbolicTensor([...layer.outputShape], layer, [t], layer.name, false);
        layer.placeAt(t);
        // As in Keras, a Conv2D's or Dense's output is after its activation: the layer append() put after it.
        const before = this.layers[i - 1] as (Layer & { activation?: Activation | null }) | undefined;
        if (before?.activation && before.activation !== 'linear') before.placeAt(t);
      });
      this.chain = { count: this.layers.length, inputs: [start], outputs: [t] };
    }
    return this.chain;
  }

  private chain: { count: number; inputs: SymbolicTensor[]; outputs: SymbolicTensor[] } | null = null;

  /** The architecture as JSON (what `modelFromConfig` rebuilds). */
  config(): SequentialConfig {
    if (!this.built) throw new ValueError(`${this.name}.config(): the model is not built`);
    return { name: this.name, inputShape: [...this.inputShape], seed: this.seed, layers: this.layers.map(layerSpec) };
  }

}

/**
 * sequential([layers...], {inputShape, seed, name}) as Keras writes it,
 * sequential({layers, inputShape, seed, name}) as tfjs does, or sequential()
 * and then model.add(layer).
 */
export function sequential(layers?: (Layer | SymbolicTensor)[], options?: SequentialOptions): Sequential;
export function sequential(options: SequentialOptions & { layers?: (Layer | SymbolicTensor)[] }): Sequential;
export function sequential(layers: (Layer | SymbolicTensor)[] | (SequentialOptions & { layers?: (Layer | SymbolicTensor)[] }) = [], options: SequentialOptions = {}): Sequential {
  if (layers !== null && typeof layers === 'object' && !Array.isArray(layers)) {
    const { layers: list = [], ...rest } = layers as SequentialOptions & { layers?: (Layer | SymbolicTensor)[] };
    if (arguments.length > 1) throw new ValueError('sequential: give the options once: sequential({layers, ...options}) or sequential(layers, options)');
    return new Sequential(list, rest);
  }
  return new Sequential(layers, options);
}

/** Rebuilds a Sequential from its config() (weights are initialised from its seed; load a state dict after). */
export function sequentialFromConfig(config: SequentialConfig): Sequential {
  if (!config || !Array.isArray(config.layers)) throw new ValueError(`modelFromConfig: config must have a layers array, got ${describe(config)}`);
  return new Sequential(config.layers.map(layerFromSpec), { inputShape: config.inputShape, seed: config.seed, name: config.name });
}
