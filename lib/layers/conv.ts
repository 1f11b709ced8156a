import type { ConvChainBlock, ConvChainForwardBlock } from '../backend/backend.js';
import { getBackend } from '../backend/select.js';
import { ValueError } from '../errors.js';
import { type Initializer, checkInitializer, initialize } from '../initializers.js';
import { checkPositiveInt, eitherOf } from '../check.js';
import { type Padding, type Stride, type WindowGeometry, conv2dGeometry, normalizePadding, normalizePair } from '../ops/geometry.js';
import type { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import { type Activation, Layer, type Parameter, type SampleShape, checkActivation, checkUseBias, layerOptions, parameter } from './layer.js';
import type { MaxPool2D } from './pool.js';

export interface Conv2DOptions {
  filters: number;
  kernelSize: number | [number, number];
  strides?: Stride;
  /** The same as strides (ops' and PyTorch's name). */
  stride?: Stride;
  padding?: Padding;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  /** Applied after the convolution, as its own layer that Sequential inserts (a ReLU is fused into the kernels). */
  activation?: Activation;
  name?: string;
}

const CONV2D_OPTIONS = ['filters', 'kernelSize', 'strides', 'stride', 'padding', 'useBias', 'kernelInitializer', 'activation', 'name'];

/**
 * 2-D convolution over NHWC inputs with HWIO weights.
 *
 * Shape: [N, H, W, C] → [N, OH, OW, filters], OH = floor((H + padTop + padBottom - KH) / strideH) + 1.
 */
export class Conv2D extends Layer {
  readonly kind = 'Conv2D';
  readonly options: { filters: number; kernelSize: [number, number]; strides: Stride; padding: Padding; useBias: boolean; kernelInitializer: Initializer };
  /** The activation Sequential inserts after this layer (not part of config(): the inserted layer is). */
  readonly activation: Activation | null;
  weight!: Parameter;
  bias: Parameter | null = null;
  private input: Tensor | null = null;
  private geometry: WindowGeometry | null = null;
  /** Set by Sequential when a ReLU follows: the convolution applies it in its epilogue. */
  fusedRelu = false;

  constructor(options: Conv2DOptions) {
    layerOptions(options, CONV2D_OPTIONS, 'Conv2D', true);
    super(options.name);
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
    this.activation = checkActivation(options.activation, 'Conv2D');
  }

  protected setup(inputShape: SampleShape, random: Random): SampleShape {
    this.expectRank(inputShape, 3, '[height, width, channels] images');
    const [kh, kw] = this.options.kernelSize as [number, number];
    const shape = [kh, kw, inputShape[2], this.options.filters];
    this.weight = parameter(`${this.name}.weight`, shape);
    initialize(this.options.kernelInitializer, this.weight.value.data, kh * kw * inputShape[2], kh * kw * this.options.filters, random);
    this.bias = this.options.useBias ? parameter(`${this.name}.bias`, [this.options.filters]) : null;
    const g = this.geometryFor(1, inputShape);
    return [g.outH, g.outW, g.outC];
  }

  private geometryFor(batch: number, inputShape: SampleShape = this.inputShape): WindowGeometry {
    if (this.geometry?.batch === batch) return this.geometry;
    this.geometry = conv2dGeometry([batch, ...inputShape], this.weight.value.shape, { stride: this.options.strides, padding: this.options.padding }, `Conv2D '${this.name}'`);
    return this.geometry;
  }

  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape[0]);
    const y = this.output('y', g.batch, this.outputShape);
    getBackend().conv2d(x.data, this.weight.value.data, this.bias ? this.bias.value.data : null, y.data, g, this.fusedRelu);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.input!;
    const g = this.geometryFor(x.shape[0]);
    const backend = getBackend();
    backend.conv2dBackwardFilter(dy.data, x.data, this.weight.grad.data, this.bias ? this.bias.grad.data : null, g);
    if (!needInputGrad) return null;
    const dx = this.output('dx', g.batch, this.inputShape);
    backend.conv2dBackwardData(dy.data, this.weight.value.data, dx.data, g);
    return dx;
  }

  /**
   * The forward of this layer, the ReLU after it and the MaxPool2D after
   * that, in one native call. In training, when the pool's windows tile,
   * only the pooled output and the cell each maximum came from (a byte per
   * output) are kept for the backward, not the convolution's output; with
   * other windows the pool keeps that output as its input. Inference keeps nothing.
   */
  forwardThroughReluPool(x: Tensor, pool: MaxPool2D, training: boolean): Tensor {
    const g = this.geometryFor(x.shape[0]);
    const pooled = pool.outputFor(g.batch);
    const cells = training && pool.tiles ? this.cellsFor(pooled.size) : null;
    const y = training && !cells ? this.output('y', g.batch, this.outputShape) : null;
    getBackend().conv2dReluPool(
      x.data, this.weight.value.data, this.bias ? this.bias.value.data : null, y ? y.data : null, pooled.data, cells, g, pool.geometryFor(g.batch),
    );
    this.input = x;
    pool.input = y;
    this.pooled = cells ? pooled : null;
    return pooled;
  }

  /**
   * The backward of this layer, the ReLU after it and the MaxPool2D after
   * that (Sequential fuses them when the pool's windows tile): one native
   * call from the pool's output gradient to this layer's input gradient.
   */
  backwardThroughReluPool(dPooled: Tensor, pool: MaxPool2D, needInputGrad: boolean): Tensor | null {
    const x = this.input!;
    if (!this.pooled || !this.cells) {
      throw new ValueError(`${this.name}: backward needs the activations of a forward with training: true, the last forward was for inference`);
    }
    const g = this.geometryFor(x.shape[0]);
    const dx = needInputGrad ? this.output('dx', g.batch, this.inputShape) : null;
    getBackend().conv2dReluPoolBackward(
      dPooled.data, x.data, this.weight.value.data, this.pooled.data, this.cells, dx ? dx.data : null,
      this.weight.grad.data, this.bias ? this.bias.grad.data : null, g, pool.geometryFor(g.batch),
    );
    return dx;
  }

  /**
   * This layer's block of a whole training pass (Sequential.trainPass), for
   * input x and the tiling MaxPool2D after its ReLU: the buffers the pass
   * writes, with this layer's saved state set as forwardThroughReluPool sets
   * it, so that backward and the layer's outputs read what the pass wrote.
   */
  chainBlock(x: Tensor, pool: MaxPool2D, needInputGrad: boolean): ConvChainBlock {
    const block = this.chainForwardBlock(x, pool);
    this.pooled = pool.outputFor(block.g.batch);
    // Not {...block}: spreading made this the costliest line of a training step's JavaScript.
    return {
      w: block.w, b: block.b, pooled: block.pooled, g: block.g, pg: block.pg,
      cells: this.cellsFor(block.pooled.length),
      dx: needInputGrad ? this.output('dx', block.g.batch, this.inputShape).data : null,
      dw: this.weight.grad.data, db: this.bias ? this.bias.grad.data : null,
    };
  }

  /**
   * This layer's block of an inference pass (Sequential.forwardInPlace), its
   * saved state set as an inference forwardThroughReluPool sets it (no
   * pooled output and cells for a backward).
   */
  chainForwardBlock(x: Tensor, pool: MaxPool2D): ConvChainForwardBlock {
    const g = this.geometryFor(x.shape[0]);
    const pooled = pool.outputFor(g.batch);
    this.input = x;
    pool.input = null;
    this.pooled = null;
    return { w: this.weight.value.data, b: this.bias ? this.bias.value.data : null, pooled: pooled.data, g, pg: pool.geometryFor(g.batch) };
  }

  /** The pool's output and cells of the last training forward through ReLU and pool. */
  private pooled: Tensor | null = null;
  private cells: Uint8Array | null = null;

  private cellsFor(size: number): Uint8Array {
    if (this.cells?.length !== size) this.cells = new Uint8Array(size);
    return this.cells;
  }

  override parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}
