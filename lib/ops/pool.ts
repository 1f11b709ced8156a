import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { checkShapeIs, checkTensor } from './check.js';
import { type Pool2dOptions, type WindowGeometry, checkPoolOptions, pool2dGeometry } from './geometry.js';

function outShape(g: WindowGeometry): number[] {
  return [g.batch, g.outH, g.outW, g.outC];
}

function forward(x: Tensor, options: Pool2dOptions, op: string, kind: 'max' | 'avg'): Tensor {
  checkTensor(x, 'x', op, 4);
  const g = pool2dGeometry(x.shape, checkPoolOptions(options, op), op);
  const y = new Float32Array(g.batch * g.outH * g.outW * g.outC);
  if (kind === 'max') getBackend().maxPool2d(y, x.data, g);
  else getBackend().avgPool2d(y, x.data, g);
  return new Tensor(y, outShape(g));
}

function backwardGeometry(dy: Tensor, x: Tensor, options: Pool2dOptions, op: string): WindowGeometry {
  checkTensor(dy, 'dy', op, 4);
  checkTensor(x, 'x', op, 4);
  const g = pool2dGeometry(x.shape, checkPoolOptions(options, op), op);
  checkShapeIs(dy, 'dy', outShape(g), op, 'the pooled shape of x');
  return g;
}

/**
 * Max pooling. Windows may overlap (stride < kernel); padding is never chosen.
 *
 * Shape: x [N, H, W, C] → [N, OH, OW, C], OH = floor((H + padTop + padBottom - KH) / strideH) + 1.
 * stride defaults to the kernel.
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return forward(x, options, 'maxPool2d', 'max');
}

/** Routes each dy to the first maximum of its window in row-major order (PyTorch's tie rule). */
export function maxPool2dBackward(dy: Tensor, x: Tensor, options: Pool2dOptions): Tensor {
  const g = backwardGeometry(dy, x, options, 'maxPool2dBackward');
  const dx = new Float32Array(x.size);
  getBackend().maxPool2dBackward(dx, dy.data, x.data, g);
  return new Tensor(dx, x.shape);
}

/** Average pooling; with padding, each window averages only its input cells (Keras, ONNX count_include_pad=0). */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return forward(x, options, 'avgPool2d', 'avg');
}

/** Spreads each dy evenly over its window's input cells. x gives the input shape. */
export function avgPool2dBackward(dy: Tensor, x: Tensor, options: Pool2dOptions): Tensor {
  const g = backwardGeometry(dy, x, options, 'avgPool2dBackward');
  const dx = new Float32Array(x.size);
  getBackend().avgPool2dBackward(dx, dy.data, g);
  return new Tensor(dx, x.shape);
}

/** Mean over height and width: x [N, H, W, C] → [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkTensor(x, 'x', 'globalAvgPool2d', 4);
  const [n, h, w, c] = x.shape;
  return avgPool2d(x, { kernel: [h, w] }).reshape([n, c]);
}

/** Gradient of globalAvgPool2d: dy [N, C] spread over x's [N, H, W, C]. */
export function globalAvgPool2dBackward(dy: Tensor, x: Tensor): Tensor {
  const op = 'globalAvgPool2dBackward';
  checkTensor(dy, 'dy', op, 2);
  checkTensor(x, 'x', op, 4);
  const [n, h, w, c] = x.shape;
  checkShapeIs(dy, 'dy', [n, c], op, 'one value per image and channel of x');
  return avgPool2dBackward(dy.reshape([n, 1, 1, c]), x, { kernel: [h, w] });
}
