import { getBackend } from '../../backend/select.js';
import { type Initializer, checkInitializer, initialize } from '../initializers.js';
import { checkPositiveInt, eitherOf } from '../../core/check.js';
import { type Padding, type Stride, type WindowGeometry, conv2dGeometry, normalizePadding, normalizePair } from '../../ops/geometry.js';
import type { Random } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { type Activation, Layer, type Parameter, type SampleShape, checkActivation, checkUseBias, layerOptions, parameter, type LayerOptions } from './layer.js';

/** Options of `Conv2D` (Keras's names; PyTorch's `stride` works too). */
export interface Conv2DOptions extends LayerOptions {
  filters: number;
  kernelSize: number | [number, number];
  strides?: Stride;
  /** The same as strides (ops' and PyTorch's name). */
  stride?: Stride;
  padding?: Padding;
  useBias?: boolean;
  /** Default 'he' (N(0, 2/fanIn)); Keras's and tfjs's default is 'glorotUniform', PyTorch's {name: 'kaimingUniform', a: Math.sqrt(5)}. */
  kernelInitializer?: Initializer;
  /**
   * Default zeros (Keras's and tfjs's); drawn with the weight's fans, so
   * {name: 'kaimingUniform', a: Math.sqrt(5)} gives PyTorch's U(±1/√fanIn).
   */
  biasInitializer?: Initializer;
  /** Applied after the convolution, as its own layer that Sequential inserts (the execution plan fuses a ReLU into the kernels). */
  activation?: Activation;
  name?: string;
}

const CONV2D_OPTIONS = ['filters', 'kernelSize', 'strides', 'stride', 'padding', 'useBias', 'kernelInitializer', 'biasInitializer', 'activation', 'name'];

/**
 * 2-D convolution over NHWC inputs with HWIO weights.
 *
 * Shape: [N, H, W, C] → [N, OH, OW, filters], OH = floor((H + padTop + padBottom - KH) / strideH) + 1.
 */
export class Conv2D extends Layer {
  readonly kind = 'Conv2D';
  readonly options: { filters: number; kernelSize: [number, number]; strides: Stride; padding: Padding; useBias: boolean; kernelInitializer: Initializer; biasInitializer?: Initializer };
  /** The activation Sequential inserts after this layer (not part of config(): the inserted layer is). */
  readonly activation: Activation | null;
  weight!: Parameter;
  bias: Parameter | null = null;
  private input: Tensor | null = null;
  private geometry: WindowGeometry | null = null;

  constructor(options: Conv2DOptions) {
    layerOptions(options, CONV2D_OPTIONS, 'Conv2D', true);
    super(options.name, options);
    const [kh, kw] = normalizePair(options.kernelSize, 'kernelSize', 'Conv2D');
    checkPositiveInt(options.filters, 'filters', 'Conv2D');
    const strides = eitherOf<Stride>(options, 'strides', 'stride', 'Conv2D') ?? 1;
    const [sh, sw] = normalizePair(strides, 'strides', 'Conv2D');
    const padding = options.padding ?? 'valid';
    normalizePadding(padding, kh, kw, kh, kw, sh, sw, 'Conv2D'); // checks its form now, not at build
    this.options = {
      filters: options.filters,
      kernelSize: [kh, kw],
      strides,
      padding,
      useBias: checkUseBias(options.useBias, 'Conv2D'),
      kernelInitializer: checkInitializer(options.kernelInitializer ?? 'he', 'Conv2D'),
    };
    if (options.biasInitializer !== undefined) this.options.biasInitializer = checkInitializer(options.biasInitializer, 'Conv2D');
    this.activation = checkActivation(options.activation, 'Conv2D');
  }

  protected setup(inputShape: SampleShape, random: Random): SampleShape {
    this.expectRank(inputShape, 3, '[height, width, channels] images');
    const [kh, kw] = this.options.kernelSize as [number, number];
    const shape = [kh, kw, inputShape[2], this.options.filters];
    this.weight = parameter(`${this.name}.weight`, shape);
    initialize(this.options.kernelInitializer, this.weight.value.data, kh * kw * inputShape[2], kh * kw * this.options.filters, random);
    this.bias = this.options.useBias ? parameter(`${this.name}.bias`, [this.options.filters]) : null;
    if (this.bias && this.options.biasInitializer) initialize(this.options.biasInitializer, this.bias.value.data, kh * kw * inputShape[2], kh * kw * this.options.filters, random);
    const g = this.geometryFor(1, inputShape);
    return [g.outH, g.outW, g.outC];
  }

  /** The convolution's geometry for a batch of this size (cached for the last size). */
  geometryFor(batch: number, inputShape: SampleShape = this.inputShape): WindowGeometry {
    if (this.geometry?.batch === batch) return this.geometry;
    this.geometry = conv2dGeometry([batch, ...inputShape], this.weight.value.shape, { stride: this.options.strides, padding: this.options.padding }, `Conv2D '${this.name}'`);
    return this.geometry;
  }

  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape[0]);
    const y = this.reusable('y', g.batch, this.outputShape);
    getBackend().conv2d(y.data, x.data, this.weight.value.data, this.bias ? this.bias.value.data : null, g);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return this.backwardFrom(dy.data, this.input!, needInputGrad);
  }

  /** The backward for output gradient dy and input x: fills dw and db, returns dx (or null). */
  backwardFrom(dy: Float32Array, x: Tensor, needInputGrad: boolean): Tensor | null {
    const g = this.geometryFor(x.shape[0]);
    const backend = getBackend();
    backend.conv2dBackwardFilter(this.weight.grad.data, this.bias ? this.bias.grad.data : null, dy, x.data, g);
    if (!needInputGrad) return null;
    const dx = this.reusable('dx', g.batch, this.inputShape);
    backend.conv2dBackwardData(dx.data, dy, this.weight.value.data, g);
    return dx;
  }

  override parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}
