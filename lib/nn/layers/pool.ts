import { getBackend } from '../../backend/select.js';
import { eitherOf } from '../../core/check.js';
import { type Padding, type Stride, type WindowGeometry, normalizePadding, normalizePair, pool2dGeometry } from '../../ops/geometry.js';
import type { Tensor } from '../../core/tensor.js';
import { Layer, type SampleShape, layerOptions, type LayerOptions } from './layer.js';

/** Options of `MaxPool2D` and `AvgPool2D` (Keras's names; PyTorch's `kernelSize`/`stride` work too). */
export interface Pool2DOptions extends LayerOptions {
  poolSize?: number | [number, number];
  strides?: Stride;
  /** The same as strides (ops' and PyTorch's name). */
  stride?: Stride;
  padding?: Padding;
  name?: string;
}

const POOL2D_OPTIONS = ['poolSize', 'strides', 'stride', 'padding', 'name'];

abstract class Pool2D extends Layer {
  readonly options: { poolSize: [number, number]; strides: Stride; padding: Padding };
  /** The input saved by the last forward. */
  protected input: Tensor | null = null;
  private geometry: WindowGeometry | null = null;

  constructor(options: Pool2DOptions = {}) {
    layerOptions(options, POOL2D_OPTIONS, new.target.name);
    super(options.name, options);
    const kind = new.target.name;
    const poolSize = normalizePair(options.poolSize ?? 2, 'poolSize', kind);
    const strides = eitherOf<Stride>(options, 'strides', 'stride', kind) ?? poolSize;
    const [sh, sw] = normalizePair(strides, 'strides', kind);
    const padding = options.padding ?? 0;
    normalizePadding(padding, poolSize[0], poolSize[1], poolSize[0], poolSize[1], sh, sw, kind);
    this.options = { poolSize, strides, padding };
  }

  protected setup(inputShape: SampleShape): SampleShape {
    this.expectRank(inputShape, 3, '[height, width, channels] images');
    const g = this.geometryFor(1, inputShape);
    return [g.outH, g.outW, g.outC];
  }

  /** The pooling geometry for a batch of this size. */
  geometryFor(batch: number, inputShape: SampleShape = this.inputShape): WindowGeometry {
    if (this.geometry?.batch === batch) return this.geometry;
    this.geometry = pool2dGeometry([batch, ...inputShape], { kernel: this.options.poolSize, stride: this.options.strides, padding: this.options.padding }, `${this.kind} '${this.name}'`);
    return this.geometry;
  }

  /** y = the pooling of x (one backend call). */
  protected abstract pool(x: Float32Array, y: Float32Array, g: WindowGeometry): void;

  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape[0]);
    const y = this.reusable('y', g.batch, this.outputShape);
    this.pool(x.data, y.data, g);
    this.input = x;
    return y;
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}

/** Max pooling; the gradient goes to each window's first maximum. Shape: [N, H, W, C] → [N, OH, OW, C]. */
export class MaxPool2D extends Pool2D {
  readonly kind = 'MaxPool2D';
  protected pool(x: Float32Array, y: Float32Array, g: WindowGeometry): void {
    getBackend().maxPool2d(y, x, g);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const x = this.input!;
    const g = this.geometryFor(x.shape[0]);
    const dx = this.reusable('dx', g.batch, this.inputShape);
    getBackend().maxPool2dBackward(dx.data, dy.data, x.data, g);
    return dx;
  }
}

/** Average pooling (padding not counted). Shape: [N, H, W, C] → [N, OH, OW, C]. */
export class AvgPool2D extends Pool2D {
  readonly kind = 'AvgPool2D';

  protected pool(x: Float32Array, y: Float32Array, g: WindowGeometry): void {
    getBackend().avgPool2d(y, x, g);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const g = this.geometryFor(dy.shape[0]);
    const dx = this.reusable('dx', g.batch, this.inputShape);
    getBackend().avgPool2dBackward(dx.data, dy.data, g);
    return dx;
  }
}

/** Mean over height and width. Shape: [N, H, W, C] → [N, C]. */
export class GlobalAvgPool2D extends Layer {
  readonly kind = 'GlobalAvgPool2D';
  private geometry: WindowGeometry | null = null;

  constructor(options: LayerOptions = {}) {
    layerOptions(options, ['name'], 'GlobalAvgPool2D');
    super(options.name, options);
  }

  protected setup(inputShape: SampleShape): SampleShape {
    this.expectRank(inputShape, 3, '[height, width, channels] images');
    return [inputShape[2]];
  }

  private geometryFor(batch: number): WindowGeometry {
    if (this.geometry?.batch === batch) return this.geometry;
    const [h, w] = this.inputShape;
    this.geometry = pool2dGeometry([batch, ...this.inputShape], { kernel: [h, w] }, `GlobalAvgPool2D '${this.name}'`);
    return this.geometry;
  }

  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x.shape[0]);
    const y = this.reusable('y', g.batch, this.outputShape);
    getBackend().avgPool2d(y.data, x.data, g);
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const g = this.geometryFor(dy.shape[0]);
    const dx = this.reusable('dx', g.batch, this.inputShape);
    getBackend().avgPool2dBackward(dx.data, dy.data, g);
    return dx;
  }

  config(): Record<string, unknown> {
    return {};
  }
}
