import { checkNumber, checkOptions, checkString } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { Random } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { type Activation, type Layer, type SampleShape, SymbolicTensor } from '../nn/layers/layer.js';
import { type FunctionalConfig, Sigmoid, Softmax, layerFromSpec, layerSpec } from '../nn/layers/index.js';
import { MergeLayer } from '../nn/layers/merge.js';
import { type Loss, SoftmaxCrossEntropy } from '../nn/losses.js';
import { type GraphNode, GraphRun } from './graph-run.js';
import { type FitAllHistory, type FitAllOptions, fitAll } from './fit-all.js';
import type { LabelArray } from '../data/batches.js';
import { type LogitGraph, Model } from './model.js';
import { claimLayers, ownerOf } from './claim-layers.js';
import { activationLayer, checkFoldedActivation } from './sequential.js';

/** Options of `input()`. */
export interface InputOptions {
  /** The shape of one sample, without the batch dimension: [32, 32, 3] for RGB images. */
  shape: readonly number[];
  name?: string;
}

/**
 * A model input: the start of a functional model (Keras's `keras.Input`,
 * TensorFlow.js's `tf.input`).
 * @example
 * ```ts
 * const x = input({ shape: [32, 32, 3], name: 'image' });
 * ```
 */
export function input(options: InputOptions): SymbolicTensor {
  checkOptions(options, ['shape', 'name'], 'input');
  const shape = options?.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`input: shape must be a non-empty list of positive integers (one sample, no batch dimension), got ${describe(shape)}`);
  }
  if (options.name !== undefined) checkString(options.name, 'name', 'input');
  return new SymbolicTensor([...shape], null, [], options.name ?? '');
}

/** Options of `model()`: its inputs and outputs, a seed and a name. */
export interface FunctionalOptions {
  /** What `input()` returned: one, or a list for a model of several inputs. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** What the last layers' `apply()` returned: one, or a list for several outputs. */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Seeds the initial weights (and dropout). */
  seed?: number;
  name?: string;
}

const asList = (v: SymbolicTensor | readonly SymbolicTensor[]) => (Array.isArray(v) ? (v as readonly SymbolicTensor[]) : [v as SymbolicTensor]);

/**
 * A model whose layers form a graph (Keras's functional API): inputs,
 * layers applied to what other layers made, joins (Add, Concatenate,
 * Multiply), one or several outputs. Built when made, from its seed: the
 * shapes were checked as the layers were applied.
 *
 * A model of one input and one output trains, evaluates, predicts, saves
 * and exports as a Sequential does; one of several runs through `forwardAll`
 * and `fitAll`.
 *
 * @example
 * ```ts
 * const x = input({ shape: [28, 28, 1] });
 * const a = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
 * const b = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(a);
 * const y = layers.dense({ units: 10 }).apply(layers.flatten().apply(layers.relu().apply(layers.add().apply([a, b]))));
 * const net = model({ inputs: x, outputs: y });
 * ```
 */
export class Functional extends Model {
  readonly layers: Layer[];
  /** The inputs' names and per-sample shapes, in order. */
  readonly inputs: readonly { name: string; shape: SampleShape }[];
  /** The names of the layers whose outputs the model gives, in order. */
  readonly outputNames: readonly string[];
  /** Each layer's place: the values it takes. */
  private readonly nodes: readonly GraphNode[];
  /** Each output's logits (before a final Softmax or Sigmoid the loss applies itself) and that activation. */
  private readonly heads: readonly { logits: number; value: number; fold: Layer | null }[];
  private readonly valueShapes: SampleShape[];
  private readonly run: GraphRun;

  constructor(options: FunctionalOptions) {
    checkOptions(options, ['inputs', 'outputs', 'seed', 'name'], 'model');
    if (options.seed !== undefined) checkNumber(options.seed, 'seed', 'model', { integer: true, min: 0, max: 2 ** 32 - 1 });
    if (options.name !== undefined) checkString(options.name, 'name', 'model');
    const inputs = asList(options.inputs);
    const outputs = asList(options.outputs);
    for (const [what, list] of [['inputs', inputs], ['outputs', outputs]] as const) {
      if (list.length === 0) throw new ValueError(`model: ${what} must be a symbolic tensor or a non-empty list of them, got ${describe(list)}`);
      list.forEach((t, i) => {
        if (!(t instanceof SymbolicTensor)) throw new ValueError(`model: ${what}${list.length > 1 ? `[${i}]` : ''} must be a symbolic tensor (from input() or a layer's apply()), got ${describe(t)}`);
      });
    }
    inputs.forEach((t, i) => {
      if (t.layer) throw new ValueError(`model: inputs[${i}] is the output of ${t.layer.kind} '${t.name}', not an input(); a model starts at input()`);
    });
    if (new Set(inputs).size !== inputs.length) throw new ValueError('model: the same input is listed twice in inputs');
    super(options.name ?? 'model', options.seed ?? 0);

    // Every layer the outputs depend on, each after what it takes (depth first, in the order written).
    const order: SymbolicTensor[] = [];
    const seen = new Set<SymbolicTensor>();
    const visit = (t: SymbolicTensor) => {
      if (seen.has(t)) return;
      seen.add(t);
      if (!t.layer) {
        if (!inputs.includes(t)) throw new ValueError(`model: an output depends on input '${t.name || '(unnamed)'}' ${formatShape(t.shape)}, which is not in inputs`);
        return;
      }
      for (const s of t.inputs) visit(s);
      order.push(t);
    };
    outputs.forEach(visit);
    const used = inputs.findIndex((t) => !seen.has(t));
    if (used >= 0) throw new ValueError(`model: inputs[${used}] ('${inputs[used].name || '(unnamed)'}') is not used by any output`);

    // Keras's activation option on Conv2D and Dense: the activation becomes a layer after it.
    const valueOf = new Map<SymbolicTensor, number>();
    inputs.forEach((t, i) => valueOf.set(t, i));
    const nodes: GraphNode[] = [];
    let next = inputs.length;
    for (const t of order) {
      const layer = t.layer!;
      nodes.push({ layer, inputs: t.inputs.map((s) => valueOf.get(s)!), output: next++ });
      const activation = (layer as { activation?: Activation | null }).activation;
      if (activation && activation !== 'linear' && t.pendingActivation) nodes.push({ layer: activationLayer(activation), inputs: [next - 1], output: next++ });
      valueOf.set(t, next - 1);
    }
    this.nodes = nodes;
    this.layers = nodes.map((n) => n.layer);
    // Another model's layers, reached through their outputs (a trained body under a new head): shared, as in Keras, with their weights.
    const shared = new Set(this.layers.filter((l) => ownerOf(l) !== undefined));
    claimLayers(this.layers, this.name, 'model', [], shared);
    this.symbolicInputs = inputs;
    this.symbolicOutputs = outputs;
    this.inputs = inputs.map((t, i) => ({ name: t.name || `input_${i + 1}`, shape: [...t.shape] }));

    // Built again from the model's seed, in order, so that the weights depend on the seed alone.
    const random = new Random(this.seed);
    this.valueShapes = [...this.inputs.map((i) => i.shape)];
    for (const node of nodes) {
      const shapes = node.inputs.map((v) => this.valueShapes[v]);
      if (shared.has(node.layer)) {
        if (formatShape(node.layer.inputShape) !== formatShape(shapes[0])) throw new ShapeError(`model: the shared layer '${node.layer.name}' was built for ${formatShape(node.layer.inputShape)}, here it takes ${formatShape(shapes[0])}`);
        this.valueShapes[node.output] = node.layer.outputShape;
      } else this.valueShapes[node.output] = node.layer.buildInputs(shapes, random);
    }
    this.inputShape = this.inputs[0].shape;
    this.packParameters();

    // A final Softmax (or Sigmoid on one output) that nothing else takes is what the loss applies itself (from logits).
    const takers = new Map<number, number>();
    for (const n of nodes) for (const v of n.inputs) takers.set(v, (takers.get(v) ?? 0) + 1);
    const producer = new Map(nodes.map((n) => [n.output, n] as const));
    this.heads = outputs.map((t) => {
      const value = valueOf.get(t)!;
      const node = producer.get(value);
      const fold = node && (node.layer instanceof Softmax || node.layer instanceof Sigmoid) && !takers.has(value) && !(producer.get(node.inputs[0]) === undefined) ? node.layer : null;
      return { value, logits: fold ? node!.inputs[0] : value, fold };
    });
    this.outputNames = this.heads.map((h) => producer.get(h.value)?.layer.name ?? '');
    const folded = new Set(this.heads.map((h) => h.fold));
    this.run = new GraphRun(nodes.filter((n) => !folded.has(n.layer)), inputs.length, this.heads.map((h) => h.logits), this.valueShapes);
    this.heads.forEach((h) => h.fold && checkFoldedActivation(h.fold, this.valueShapes[h.logits].reduce((a, b) => a * b, 1), this.name));
  }

  private readonly symbolicInputs: readonly SymbolicTensor[];
  private readonly symbolicOutputs: readonly SymbolicTensor[];

  protected symbolicGraph(): { inputs: readonly SymbolicTensor[]; outputs: readonly SymbolicTensor[] } {
    return { inputs: this.symbolicInputs, outputs: this.symbolicOutputs };
  }

  /** Always: a functional model is built when it is made. */
  build(inputShape: readonly number[]): this {
    const same = inputShape.length === this.inputShape.length && inputShape.every((d, i) => d === this.inputShape[i]);
    if (!same) throw new ShapeError(`${this.name}: built for inputs ${formatShape(this.inputShape)}, got build(${formatShape(inputShape)}); a functional model's shapes come from input()`);
    return this;
  }

  /** The per-sample shape of the first output's logits. */
  get outputShape(): SampleShape {
    return this.valueShapes[this.heads[0].logits];
  }

  /** The per-sample shape of every output's logits. */
  get outputShapes(): SampleShape[] {
    return this.heads.map((h) => this.valueShapes[h.logits]);
  }

  /** fit, evaluate and predict take one tensor: the model must have one input and one output. */
  private checkSingle(op: string): void {
    if (this.inputs.length !== 1 || this.heads.length !== 1) {
      throw new ValueError(`${op}: model '${this.name}' has ${this.inputs.length} input(s) and ${this.heads.length} output(s); use forwardAll and fitAll for a model of several`);
    }
  }

  override checkInput(x: unknown, op: string): Tensor {
    this.checkSingle(op);
    return super.checkInput(x, op);
  }

  forwardInPlace(x: Tensor, training: boolean): Tensor {
    this.lastForwardTrained = training;
    const plan = this.run.singleChain;
    if (!training && plan?.chain && x.shape[0] > 0) return plan.chain.forward(x);
    return this.run.forward([x], training)[0];
  }

  /** The logits of every output for inputs already checked, in reused buffers (training code path). */
  forwardAllInPlace(xs: readonly Tensor[], training: boolean): Tensor[] {
    this.lastForwardTrained = training;
    return this.run.forward(xs, training);
  }

  backward(dy: Tensor): void {
    this.backwardAll([dy]);
  }

  /**
   * dLoss/dLogits of each output (null for one that adds nothing to the
   * loss) back to every parameter's gradient. With inputGradients, returns
   * dLoss/dInput of each input too (saliency maps, adversarial examples);
   * otherwise an empty list.
   */
  backwardAll(dLogits: readonly (Tensor | null)[], inputGradients = false): (Tensor | null)[] {
    if (!this.lastForwardTrained) throw new ValueError(`${this.name}: backward needs the activations of a forward with training: true, the last forward was for inference`);
    if (!Array.isArray(dLogits) || dLogits.length !== this.heads.length) throw new ValueError(`backwardAll: model '${this.name}' has ${this.heads.length} output(s); give one gradient (or null) per output, got ${describe(dLogits)}`);
    return this.run.backward(dLogits, inputGradients);
  }

  protected override fusedTrainPass(x: Tensor, labels: Int32Array, loss: Loss): { loss: number; logits: Tensor } | null {
    const chain = Object.getPrototypeOf(loss) === SoftmaxCrossEntropy.prototype && (loss as SoftmaxCrossEntropy).labelSmoothing === 0 ? this.run.singleChain?.chain : null;
    if (!chain) return null;
    this.lastForwardTrained = true;
    return chain.trainPass(x, labels, loss as SoftmaxCrossEntropy);
  }

  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    return this.forwardAll([x], options)[0];
  }

  /** The first output's final Softmax or Sigmoid that the loss applies itself, or null. */
  override outputActivation(): Layer | null {
    return this.heads[0]?.fold ?? null;
  }

  /**
   * Every output (a final Softmax or Sigmoid applied) for one tensor per
   * input, as new tensors.
   * @example
   * ```ts
   * const [classes, box] = net.forwardAll([images, extras]);
   * ```
   */
  forwardAll(xs: readonly Tensor[], options: { training?: boolean } = {}): Tensor[] {
    checkOptions(options, ['training'], 'forwardAll');
    const checked = this.checkInputs(xs, 'forwardAll');
    const logits = this.forwardAllInPlace(checked, options.training === true);
    return logits.map((t, k) => {
      const fold = this.heads[k].fold;
      return (fold ? fold.forward(t, false) : t).clone();
    });
  }

  /**
   * Trains on one tensor per input and one target per output, with a loss
   * per output (Keras's fit with a list of losses and loss_weights).
   * @example
   * ```ts
   * await net.fitAll([images, extras], [labels, values], { loss: ['softmaxCrossEntropy', 'meanSquaredError'], lossWeights: [1, 0.5], epochs: 5 });
   * ```
   */
  fitAll(xs: readonly Tensor[], ys: readonly (LabelArray | Tensor)[], options: FitAllOptions): Promise<FitAllHistory> {
    return fitAll(this, xs, ys, options);
  }

  /** Checks one tensor per input, each [samples, ...that input's shape], all of one sample count. */
  checkInputs(xs: unknown, op: string): Tensor[] {
    if (!Array.isArray(xs) || xs.length !== this.inputs.length) throw new ValueError(`${op}: model '${this.name}' takes a list of ${this.inputs.length} tensor(s) (${this.inputs.map((i) => i.name).join(', ')}), got ${describe(xs)}`);
    return xs.map((x, i) => {
      const t = x as Tensor;
      const want = this.inputs[i].shape;
      if (!t || !Array.isArray(t.shape) || t.rank !== want.length + 1 || want.some((d, j) => d !== t.shape[j + 1])) {
        throw new ShapeError(`${op}: input '${this.inputs[i].name}' must be [samples, ${want.join(', ')}], got ${t && Array.isArray(t.shape) ? formatShape(t.shape) : describe(t)}`);
      }
      if (t.shape[0] !== (xs[0] as Tensor).shape[0]) throw new ShapeError(`${op}: every input must hold the same number of samples; '${this.inputs[0].name}' has ${(xs[0] as Tensor).shape[0]}, '${this.inputs[i].name}' has ${t.shape[0]}`);
      return t;
    });
  }

  protected override summaryTitle(): string {
    return `Model: "${this.name}"  inputs ${this.inputs.map((i) => `${i.name} (None, ${i.shape.join(', ')})`).join(', ')}  outputs ${this.outputNames.join(', ')}`;
  }

  protected override connections(): string[] {
    return this.nodes.map((n) => n.inputs.map((v) => this.nameOf(v)).join(', '));
  }

  /** An input's or a layer's name for a value id. */
  private nameOf(v: number): string {
    return v < this.inputs.length ? this.inputs[v].name : this.nodes.find((n) => n.output === v)!.layer.name;
  }

  config(): FunctionalConfig {
    return {
      name: this.name,
      seed: this.seed,
      inputs: this.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
      layers: this.nodes.map((n) => ({ ...layerSpec(n.layer), inbound: n.inputs.map((v) => this.nameOf(v)) })),
      outputs: [...this.outputNames],
    };
  }

  logitGraph(): LogitGraph {
    const folded = new Set(this.heads.map((h) => h.fold));
    return { inputs: this.inputs, nodes: this.nodes.filter((n) => !folded.has(n.layer)), outputs: this.heads.map((h) => h.logits) };
  }

  /** Whether a layer of the model joins several inputs (a graph that is no stack). */
  get hasMerges(): boolean {
    return this.layers.some((l) => l instanceof MergeLayer);
  }
}

/**
 * A functional model from its inputs and outputs (Keras's
 * `keras.Model(inputs, outputs)`, TensorFlow.js's `tf.model({inputs, outputs})`).
 * @example
 * ```ts
 * const net = model({ inputs: x, outputs: y, seed: 1 });
 * ```
 */
export function model(options: FunctionalOptions): Functional {
  return new Functional(options);
}

/** Rebuilds a functional model from its config() (weights from its seed; load a state dict after). */
export function functionalFromConfig(config: FunctionalConfig): Functional {
  const fn = 'modelFromConfig';
  if (!Array.isArray(config.inputs) || !Array.isArray(config.layers) || !Array.isArray(config.outputs)) {
    throw new ValueError(`${fn}: a functional config must have inputs, layers and outputs arrays, got ${describe(config)}`);
  }
  const made = new Map<string, SymbolicTensor>();
  const inputs = config.inputs.map((i, k) => {
    const t = input({ shape: i?.shape, name: i?.name });
    if (made.has(t.name)) throw new ValueError(`${fn}: inputs[${k}] repeats the name '${t.name}'`);
    made.set(t.name, t);
    return t;
  });
  config.layers.forEach((spec, k) => {
    const { inbound, ...layer } = spec ?? ({} as never);
    if (!Array.isArray(inbound) || inbound.length === 0) throw new ValueError(`${fn}: layers[${k}] ('${spec?.name}') needs an inbound list of the names it takes, got ${describe(inbound)}`);
    const from = inbound.map((name) => {
      const t = made.get(name);
      if (!t) throw new ValueError(`${fn}: layers[${k}] ('${spec.name}') takes '${name}', which no input or earlier layer is`);
      return t;
    });
    const l = layerFromSpec(layer);
    made.set(String(spec.name), l instanceof MergeLayer ? l.apply(from) : l.apply(from.length === 1 ? from[0] : from));
  });
  const outputs = config.outputs.map((name) => {
    const t = made.get(name);
    if (!t) throw new ValueError(`${fn}: output '${name}' is no layer of the config`);
    return t;
  });
  return new Functional({ inputs, outputs, seed: config.seed, name: config.name });
}
