// Layers of several inputs (a functional model's joins) and the identity
// shortcut of a residual block. Add runs on the backend (a residual net adds
// every block's activations); the others move memory or multiply, in plain
// loops over the flat arrays.
import { getBackend } from '../../backend/select.js';
import { checkNumber } from '../../core/check.js';
import { ShapeError, ValueError, formatShape } from '../../core/errors.js';
import type { Random } from '../../core/random.js';
import { Tensor } from '../../core/tensor.js';
import { Layer, type SampleShape, layerOptions, type LayerOptions } from './layer.js';

const sameShape = (a: SampleShape, b: SampleShape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A layer of two or more inputs. It runs in a functional model only, which
 * calls forwardInputs and backwardInputs; forward and backward of one
 * tensor refuse.
 */
export abstract class MergeLayer extends Layer {
  inputShapes: SampleShape[] = [];
  protected inputs: readonly Tensor[] = [];

  constructor(options: LayerOptions, known: readonly string[], kind: string) {
    layerOptions(options, known, kind);
    super(options.name, options);
  }

  protected get who(): string {
    return `${this.kind}${this.name ? ` '${this.name}'` : ''}`;
  }

  override buildInputs(inputShapes: readonly SampleShape[], _random: Random): SampleShape {
    if (inputShapes.length < 2) throw new ValueError(`${this.who}: takes a list of at least 2 inputs, got ${inputShapes.length}`);
    this.inputShapes = inputShapes.map((s) => [...s]);
    this.inputShape = [...inputShapes[0]];
    this.outputShape = [...this.mergedShape(inputShapes)];
    return this.outputShape;
  }

  protected setup(): SampleShape {
    throw new ValueError(`${this.who}: takes a list of inputs; use it in a functional model (layer.apply([a, b]))`);
  }

  /** The output's sample shape for these inputs; throws a ShapeError naming the layer and the shapes. */
  protected abstract mergedShape(inputShapes: readonly SampleShape[]): SampleShape;

  /** The merged output of one batch (in the layer's buffer until its next forward). */
  abstract forwardInputs(xs: readonly Tensor[], training: boolean): Tensor;

  /** The gradient of each input whose `need` is true (null for the others). */
  abstract backwardInputs(dy: Tensor, need: readonly boolean[]): (Tensor | null)[];

  forward(): Tensor {
    throw new ValueError(`${this.who}: takes a list of inputs; use it in a functional model (layer.apply([a, b]))`);
  }

  backward(): Tensor | null {
    throw new ValueError(`${this.who}: takes a list of inputs; use it in a functional model`);
  }

  config(): Record<string, unknown> {
    return {};
  }
}

abstract class ElementwiseMerge extends MergeLayer {
  protected mergedShape(inputShapes: readonly SampleShape[]): SampleShape {
    const first = inputShapes[0];
    inputShapes.forEach((s, i) => {
      if (!sameShape(s, first)) throw new ShapeError(`${this.who}: every input must have the shape of the first, ${formatShape(first)}; input ${i} has ${formatShape(s)}`);
    });
    return first;
  }
}

/**
 * The sum of its inputs, all of one shape: the join of a residual block.
 * @example
 * ```ts
 * const y = layers.add().apply([shortcut, residual]);
 * ```
 */
export class Add extends ElementwiseMerge {
  readonly kind = 'Add';

  constructor(options: LayerOptions = {}) {
    super(options, ['name'], 'Add');
  }

  forwardInputs(xs: readonly Tensor[]): Tensor {
    const y = this.reusable('y', xs[0].shape[0], this.outputShape);
    const b = getBackend();
    b.add(y.data, xs[0].data, xs[1].data);
    for (let k = 2; k < xs.length; k++) b.add(y.data, y.data, xs[k].data);
    return y;
  }

  /** Every input's gradient is dy itself (the same tensor; nothing is copied). */
  backwardInputs(dy: Tensor, need: readonly boolean[]): (Tensor | null)[] {
    return need.map((n) => (n ? dy : null));
  }
}

/**
 * The elementwise product of its inputs, all of one shape (gates, attention
 * masks).
 * @example
 * ```ts
 * const y = layers.multiply().apply([features, gate]);
 * ```
 */
export class Multiply extends ElementwiseMerge {
  readonly kind = 'Multiply';

  constructor(options: LayerOptions = {}) {
    super(options, ['name'], 'Multiply');
  }

  forwardInputs(xs: readonly Tensor[], training: boolean): Tensor {
    const y = this.reusable('y', xs[0].shape[0], this.outputShape);
    const out = y.data;
    out.set(xs[0].data);
    for (let k = 1; k < xs.length; k++) {
      const x = xs[k].data;
      for (let i = 0; i < out.length; i++) out[i] *= x[i];
    }
    if (training) this.inputs = xs;
    return y;
  }

  /** dx_k = dy · the product of the other inputs (recomputed, not divided out: an input may hold zeros). */
  backwardInputs(dy: Tensor, need: readonly boolean[]): (Tensor | null)[] {
    const xs = this.inputs;
    return need.map((n, k) => {
      if (!n) return null;
      const dx = this.reusable(`dx${k}`, dy.shape[0], this.inputShapes[k]);
      const d = dx.data;
      d.set(dy.data);
      xs.forEach((x, j) => {
        if (j === k) return;
        const v = x.data;
        for (let i = 0; i < d.length; i++) d[i] *= v[i];
      });
      return dx;
    });
  }
}

/**
 * Its inputs side by side along the last axis (the channels of NHWC images,
 * the features of vectors); every other dimension must agree.
 * @example
 * ```ts
 * const y = layers.concatenate().apply([branch1, branch2]);
 * ```
 */
export class Concatenate extends MergeLayer {
  readonly kind = 'Concatenate';
  readonly axis: number;

  constructor(options: { axis?: number; name?: string } = {}) {
    super(options, ['axis', 'name'], 'Concatenate');
    this.axis = checkNumber(options.axis ?? -1, 'axis', 'Concatenate', { integer: true });
  }

  protected mergedShape(inputShapes: readonly SampleShape[]): SampleShape {
    const first = inputShapes[0];
    // Keras counts the batch axis: axis 3 of an NHWC image is the channels, as -1 is.
    if (this.axis !== -1 && this.axis !== first.length) throw new ValueError(`${this.who}: joins along the last axis only (axis -1 or ${first.length} for inputs ${formatShape(first)}), got axis ${this.axis}`);
    const lead = first.slice(0, -1);
    inputShapes.forEach((s, i) => {
      if (s.length !== first.length || !sameShape(s.slice(0, -1), lead)) {
        throw new ShapeError(`${this.who}: inputs must agree in every dimension but the last; input 0 has ${formatShape(first)}, input ${i} has ${formatShape(s)}`);
      }
    });
    return [...lead, inputShapes.reduce((n, s) => n + s[s.length - 1], 0)];
  }

  forwardInputs(xs: readonly Tensor[]): Tensor {
    const y = this.reusable('y', xs[0].shape[0], this.outputShape);
    const total = this.outputShape[this.outputShape.length - 1];
    const rows = y.size / total;
    let offset = 0;
    for (const x of xs) {
      const c = x.shape[x.rank - 1];
      const src = x.data;
      for (let r = 0; r < rows; r++) y.data.set(src.subarray(r * c, r * c + c), r * total + offset);
      offset += c;
    }
    return y;
  }

  backwardInputs(dy: Tensor, need: readonly boolean[]): (Tensor | null)[] {
    const total = this.outputShape[this.outputShape.length - 1];
    const rows = dy.size / total;
    let offset = 0;
    return need.map((n, k) => {
      const shape = this.inputShapes[k];
      const c = shape[shape.length - 1];
      const start = offset;
      offset += c;
      if (!n) return null;
      const dx = this.reusable(`dx${k}`, dy.shape[0], shape);
      for (let r = 0; r < rows; r++) dx.data.set(dy.data.subarray(r * total + start, r * total + start + c), r * c);
      return dx;
    });
  }

  override config(): Record<string, unknown> {
    return { axis: this.axis };
  }
}

/** Options of `Shortcut`. */
export interface ShortcutOptions extends LayerOptions {
  /** Output channels: at least the input's; the extra ones are zeros. */
  filters: number;
  /** Keep every `strides`-th row and column (default 1). */
  strides?: number;
  name?: string;
}

/**
 * The parameter-free shortcut of a residual block that changes shape (He et
 * al. 2016's option A, the one of their CIFAR-10 ResNets): every
 * `strides`-th pixel of an NHWC input, its channels padded with zeros to
 * `filters`, half before and half after (as the PyTorch CIFAR ResNets pad).
 * For a projection shortcut use a 1×1 Conv2D with strides instead.
 *
 * Shape: [H, W, C] → [ceil(H / s), ceil(W / s), filters].
 *
 * @example
 * ```ts
 * const skip = layers.shortcut({ filters: 32, strides: 2 }).apply(x);
 * ```
 */
export class Shortcut extends Layer {
  readonly kind = 'Shortcut';
  readonly filters: number;
  readonly strides: number;

  constructor(options: ShortcutOptions) {
    layerOptions(options, ['filters', 'strides', 'name'], 'Shortcut', true);
    super(options.name, options);
    this.filters = checkNumber(options.filters, 'filters', 'Shortcut', { integer: true, min: 1 });
    this.strides = checkNumber(options.strides ?? 1, 'strides', 'Shortcut', { integer: true, min: 1 });
  }

  protected setup(inputShape: SampleShape): SampleShape {
    this.expectRank(inputShape, 3, 'images [height, width, channels]');
    const [h, w, c] = inputShape;
    if (this.filters < c) throw new ShapeError(`Shortcut '${this.name}': filters (${this.filters}) must be at least the input's channels, got input shape ${formatShape(inputShape)}`);
    return [Math.ceil(h / this.strides), Math.ceil(w / this.strides), this.filters];
  }

  /** Visits each (input offset, output offset) pair of a channel run: forward copies one way, backward the other. */
  private copy(to: Float32Array, from: Float32Array, batch: number, toInput: boolean): void {
    const [h, w, c] = this.inputShape;
    const [oh, ow, f] = this.outputShape;
    const before = Math.floor((f - c) / 2);
    const s = this.strides;
    for (let n = 0; n < batch; n++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const src = ((n * h + i * s) * w + j * s) * c;
          const dst = ((n * oh + i) * ow + j) * f + before;
          if (toInput) to.set(from.subarray(dst, dst + c), src);
          else to.set(from.subarray(src, src + c), dst);
        }
      }
    }
  }

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    if (this.filters !== this.inputShape[2]) y.data.fill(0);
    this.copy(y.data, x.data, x.shape[0], false);
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    if (this.strides > 1) dx.data.fill(0);
    this.copy(dx.data, dy.data, dy.shape[0], true);
    return dx;
  }

  config(): Record<string, unknown> {
    return { filters: this.filters, strides: this.strides };
  }
}
