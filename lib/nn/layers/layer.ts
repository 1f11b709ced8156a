import { checkOneOf, checkOptions, checkString } from '../../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../../core/errors.js';
import { Random } from '../../core/random.js';
import { Tensor, checkShape } from '../../core/tensor.js';

/** A trainable array and its gradient (same shape), owned by a layer. */
export interface Parameter {
  /** `${layer}.${weight|bias}`, the key in state dicts and checkpoints. */
  name: string;
  value: Tensor;
  grad: Tensor;
}

/** A shape without the batch dimension, e.g. [28, 28, 1] or [576]. */
export type SampleShape = readonly number[];

/**
 * A layer's output in a functional model before any data flows: its
 * per-sample shape and the layer and inputs that make it (Keras's
 * KerasTensor, TensorFlow.js's SymbolicTensor). `input()` makes the first
 * ones, `layer.apply()` the others, `model({inputs, outputs})` runs them.
 */
export class SymbolicTensor {
  constructor(
    /** The shape of one sample, without the batch dimension. */
    readonly shape: SampleShape,
    /** The layer that computes it; null for a model input. */
    readonly layer: Layer | null,
    /** What the layer takes (none for a model input). */
    readonly inputs: readonly SymbolicTensor[],
    /** The input's name, or the layer's. */
    readonly name: string,
    /**
     * Whether the layer's `activation` option is still to be applied to make
     * this value (true for apply()'s outputs); false where the activation is
     * a layer of its own already (a Sequential's symbolic outputs).
     */
    readonly pendingActivation = true,
  ) {}
}

/** Reused output and gradient arrays: a batch of the same size allocates nothing. */
export class Buffers {
  private readonly arrays = new Map<string, Float32Array>();

  /** The array kept under key, made anew only when its length changes. */
  get(key: string, length: number): Float32Array {
    let a = this.arrays.get(key);
    if (!a || a.length !== length) {
      a = new Float32Array(length);
      this.arrays.set(key, a);
    }
    return a;
  }
}

/**
 * A layer of a sequential model: built once for a sample shape, then run
 * forward (keeping what its backward needs) and backward (writing its
 * parameters' gradients and returning the gradient of its input).
 * Outputs live in the layer's reused buffers and stay valid until the next
 * forward of the same layer.
 */
export abstract class Layer {
  abstract readonly kind: string;
  name: string;
  inputShape: SampleShape = [];
  outputShape: SampleShape = [];
  protected readonly buffers = new Buffers();

  /**
   * Whether training updates this layer's weights (Keras's and tfjs's
   * `layer.trainable`). A frozen layer's weights stay as they are (its
   * gradient still flows to the layers before it), and a frozen
   * BatchNormalization runs in inference mode, as in Keras. Takes effect at
   * the next fit.
   */
  trainable = true;

  /**
   * The per-sample input shape given on the layer itself (Keras's and tfjs's
   * `inputShape`, or `batchInputShape` without its batch entry): a
   * Sequential whose first layer has one builds for it.
   */
  readonly declaredInputShape: SampleShape | null;

  /** A custom layer may pass its whole config (its name and inputShape are read from it, other keys left alone) or just a name. */
  constructor(nameOrOptions?: string | LayerOptions, options: LayerOptions = {}) {
    if (nameOrOptions !== null && typeof nameOrOptions === 'object') options = nameOrOptions;
    const name = typeof nameOrOptions === 'string' || nameOrOptions === undefined ? nameOrOptions : options.name;
    if (name !== undefined) checkString(name, 'name', new.target.name);
    this.name = name ?? '';
    this.declaredInputShape = declaredShape(options, new.target.name);
  }

  get built(): boolean {
    return this.outputShape.length > 0;
  }

  /** Sets up parameters for inputs of this sample shape; returns the output sample shape. */
  build(inputShape: SampleShape, random: Random): SampleShape {
    this.inputShape = [...inputShape];
    this.outputShape = [...this.setup(inputShape, random)];
    return this.outputShape;
  }

  protected abstract setup(inputShape: SampleShape, random: Random): SampleShape;

  /**
   * Builds for the shapes of all its inputs (one, except for the merge
   * layers, which take several); returns the output sample shape.
   */
  buildInputs(inputShapes: readonly SampleShape[], random: Random): SampleShape {
    if (inputShapes.length !== 1) throw new ValueError(`${this.kind}${this.name ? ` '${this.name}'` : ''}: takes one input, got ${inputShapes.length}`);
    return this.build(inputShapes[0], random);
  }

  /** Whether apply() has put this layer in a graph (a layer runs at one place only). */
  private applied = false;

  /**
   * Calls the layer on symbolic inputs, building it for their shapes (an
   * error names the layer and the shapes); returns its symbolic output.
   * A layer is applied once: its buffers hold one place's activations.
   * @example
   * ```ts
   * const x = input({ shape: [32, 32, 3] });
   * const y = layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(x);
   * ```
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor {
    const list = Array.isArray(inputs) ? (inputs as readonly SymbolicTensor[]) : [inputs as SymbolicTensor];
    const who = `${this.kind}${this.name ? ` '${this.name}'` : ''}`;
    if (list.length === 0) throw new ValueError(`${who}.apply: needs at least one input, got none`);
    list.forEach((t, i) => {
      if (!(t instanceof SymbolicTensor)) throw new ValueError(`${who}.apply: input${list.length > 1 ? `s[${i}]` : ''} must be a symbolic tensor (from input() or another layer's apply()), got ${describe(t)}`);
    });
    if (this.applied) throw new ValueError(`${who}.apply: this layer is in a graph already; shared layers are not supported, make a new layer`);
    // Built here for the shapes (so a mismatch is caught where it is written); the model builds it again from its seed.
    let shape: SampleShape;
    try {
      shape = this.buildInputs(list.map((t) => t.shape), new Random(0));
    } catch (error) {
      // Say where each input comes from: the layer's own message has the shapes only.
      if (!(error instanceof ShapeError)) throw error;
      const from = list.map((t) => `${t.layer ? `${t.layer.kind} '${t.name}'` : `input '${t.name || '(unnamed)'}'`} ${formatShape(t.shape)}`);
      throw new ShapeError(`${error.message} (applied to ${from.join(', ')})`);
    }
    this.applied = true;
    this.symbolic = new SymbolicTensor(shape, this, list, this.name || this.kind.toLowerCase());
    return this.symbolic;
  }

  /** What apply() returned, or the place a Sequential gave the layer (symbolicGraph). */
  protected symbolic: SymbolicTensor | null = null;

  /**
   * The layer's symbolic output in its model's graph (Keras's and tfjs's
   * `layer.output`): a trained model's features, to put a new head on in a
   * new functional model, whose layers then share these weights, as in
   * Keras. A Sequential's layers have one once `model.output` or
   * `model.input` has been read (or the layer was got by getLayer).
   * @example
   * ```ts
   * const features = base.getLayer('flatten').output;
   * const net = model({ inputs: base.input, outputs: layers.dense({ units: 5 }).apply(features) });
   * ```
   */
  get output(): SymbolicTensor {
    if (!this.symbolic) throw new ValueError(`${this.kind}${this.name ? ` '${this.name}'` : ''}.output: the layer is in no graph yet (apply it to an input(), or take it from a model with getLayer)`);
    return this.symbolic;
  }

  /** Places the layer in a graph without building it again (a Sequential's symbolic graph). */
  placeAt(output: SymbolicTensor): void {
    this.symbolic = output;
    this.applied = true;
  }

  /** Runs the layer on a batch; training keeps what backward needs (and turns dropout on). The output lives in the layer's buffers until its next forward. */
  abstract forward(x: Tensor, training: boolean): Tensor;

  /** needInputGrad is false for the first layer, whose input gradient nobody reads. */
  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  /** The layer's trainable weights and biases, each with its gradient (none for a layer without weights). */
  parameters(): Parameter[] {
    return [];
  }

  /**
   * Weights that are saved and loaded but not trained (Keras's
   * non-trainable weights): BatchNormalization's moving statistics.
   */
  stateTensors(): Parameter[] {
    return [];
  }

  /** The options that rebuild this layer (JSON), without its name. */
  abstract config(): Record<string, unknown>;

  /** Parameter count. */
  countParams(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  protected expectRank(inputShape: SampleShape, rank: number, what: string): void {
    if (inputShape.length !== rank) {
      throw new ShapeError(`${this.kind} '${this.name}': expects ${what}, got input shape ${formatShape(inputShape)}`);
    }
  }

  /** A [batch, ...shape] tensor in the layer's buffer `key`, reused by the next call of the same size. */
  protected reusable(key: string, batch: number, shape: SampleShape): Tensor {
    const size = shape.reduce((a, b) => a * b, batch);
    return new Tensor(this.buffers.get(key, size), [batch, ...shape]);
  }
}

/** A weight or bias tensor with a zero gradient of the same shape. */
export function parameter(name: string, shape: number[]): Parameter {
  checkString(name, 'name', 'parameter');
  const size = checkShape(shape, 'parameter: shape');
  return { name, value: new Tensor(new Float32Array(size), shape), grad: new Tensor(new Float32Array(size), shape) };
}

/** The activations a Conv2D or Dense layer can apply after itself (Keras's `activation`). */
export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'softmax', 'leakyRelu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** What every layer's options take besides its own: a name, and for the first layer of a Sequential its input shape (Keras's and tfjs's habit). */
export interface LayerOptions {
  name?: string;
  /** One sample's shape, e.g. [28, 28, 1]. */
  inputShape?: readonly number[];
  /** The shape with a leading batch entry (null or a number), as Keras and tfjs write it. */
  batchInputShape?: readonly (number | null)[];
}

/** A layer's options object checked against the options it knows (the layer constructors' first line); every layer also takes inputShape and batchInputShape. */
export function layerOptions<T extends object>(options: T | undefined, known: readonly string[], kind: string, required = false): T {
  if (required && options === undefined) throw new ValueError(`${kind}: options are required (${known.filter((k) => k !== 'name').join(', ')}), got undefined`);
  return checkOptions(options, [...known, 'inputShape', 'batchInputShape'], kind);
}

function declaredShape(options: LayerOptions, kind: string): SampleShape | null {
  const { inputShape, batchInputShape } = options as { inputShape?: unknown; batchInputShape?: unknown };
  if (inputShape !== undefined && batchInputShape !== undefined) throw new ValueError(`${kind}: give inputShape or batchInputShape, not both`);
  const isDims = (v: unknown, from: number): v is number[] => Array.isArray(v) && v.length > from && v.slice(from).every((d) => Number.isInteger(d) && d >= 1);
  if (inputShape !== undefined) {
    if (!isDims(inputShape, 0)) throw new ValueError(`${kind}: inputShape must be a non-empty list of positive integers (one sample's shape, e.g. [28, 28, 1]), got ${describe(inputShape)}`);
    return [...inputShape];
  }
  if (batchInputShape !== undefined) {
    if (!isDims(batchInputShape, 1) || !(batchInputShape[0] === null || (Number.isInteger(batchInputShape[0]) && (batchInputShape[0] as number) >= 1))) {
      throw new ValueError(`${kind}: batchInputShape must be [batch or null, ...one sample's shape], e.g. [null, 28, 28, 1], got ${describe(batchInputShape)}`);
    }
    return batchInputShape.slice(1);
  }
  return null;
}

export function checkActivation(value: unknown, kind: string): Activation | null {
  if (value === undefined || value === null) return null;
  return checkOneOf(value, ACTIVATIONS, 'activation', kind);
}

/** useBias: a boolean (a string such as 'no' is refused, not taken as true). */
export function checkUseBias(value: unknown, kind: string): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new ValueError(`${kind}: useBias must be true or false, got ${describe(value)}`);
  return value;
}
