import { DTypeError, ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { checkShapeIs, checkTensor } from './check.js';
import { type Conv2dOptions, type Padding, checkConvOptions, conv2dGeometry, normalizePadding } from './geometry.js';

function checkConvArgs(x: unknown, w: unknown, op: string): [Tensor, Tensor] {
  return [checkTensor(x, 'x', op, 4), checkTensor(w, 'w', op, 4)];
}

/**
 * 2-D convolution (cross-correlation, as every framework computes it).
 *
 * Shape: x [N, H, W, C], w [KH, KW, C, O], b [O] or null → y [N, OH, OW, O]
 * with OH = floor((H + padTop + padBottom - KH) / strideH) + 1, likewise OW.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkConvArgs(x, w, op);
  const g = conv2dGeometry(x.shape, w.shape, checkConvOptions(options, op), op);
  if (b !== null && b !== undefined) {
    checkTensor(b, 'b', op);
    checkShapeIs(b, 'b', [g.outC], op, `one bias per output channel of w.shape = ${formatShape(w.shape)}`);
  }
  const y = new Float32Array(g.batch * g.outH * g.outW * g.outC);
  getBackend().conv2d(y, x.data, w.data, b ? b.data : null, g);
  return new Tensor(y, [g.batch, g.outH, g.outW, g.outC]);
}

/**
 * Gradients of conv2d: same arguments as the forward, with dy first.
 * Returns dx [N, H, W, C], dw [KH, KW, C, O] and db [O].
 */
export function conv2dBackward(dy: Tensor, x: Tensor, w: Tensor, options: Conv2dOptions = {}): { dx: Tensor; dw: Tensor; db: Tensor } {
  const op = 'conv2dBackward';
  checkTensor(dy, 'dy', op, 4);
  checkConvArgs(x, w, op);
  const g = conv2dGeometry(x.shape, w.shape, checkConvOptions(options, op), op);
  checkShapeIs(dy, 'dy', [g.batch, g.outH, g.outW, g.outC], op, 'the shape conv2d gives for x and w');
  const backend = getBackend();
  const dx = new Float32Array(x.size);
  const dw = new Float32Array(w.size);
  const db = new Float32Array(g.outC);
  backend.conv2dBackwardData(dx, dy.data, w.data, g);
  backend.conv2dBackwardFilter(dw, db, dy.data, x.data, g);
  return { dx: new Tensor(dx, x.shape), dw: new Tensor(dw, w.shape), db: new Tensor(db, [g.outC]) };
}

/**
 * The course's conv_single_step: the sum of slice ⊙ w plus the bias, for one
 * window and one filter. slice and w have the same shape (e.g. [KH, KW, C]).
 */
export function convSingleStep(slice: Tensor, w: Tensor, b: Tensor | number = 0): number {
  const op = 'convSingleStep';
  checkTensor(slice, 'slice', op);
  checkTensor(w, 'w', op);
  if (slice.shape.length !== w.shape.length || slice.shape.some((d, i) => d !== w.shape[i])) {
    throw new ShapeError(`${op}: slice.shape ${formatShape(slice.shape)} must equal w.shape ${formatShape(w.shape)}`);
  }
  let bias: number;
  if (typeof b === 'number') bias = b;
  else if (b instanceof Tensor) {
    if (b.size !== 1) throw new ShapeError(`${op}: b must hold one value, got b.shape = ${formatShape(b.shape)}`);
    bias = b.data[0];
  } else throw new DTypeError(`${op}: b must be a number or a one-element Tensor, got ${describe(b)}`);
  let sum = 0;
  for (let i = 0; i < slice.size; i++) sum += slice.data[i] * w.data[i];
  return Math.fround(sum + bias);
}

function resolvePads(x: Tensor, pad: Padding, op: string) {
  if (pad === 'same' || pad === 'valid') throw new ValueError(`${op}: pad must be a number, [ph, pw] or [top, bottom, left, right], got ${describe(pad)}`);
  return normalizePadding(pad, x.shape[1], x.shape[2], 1, 1, 1, 1, op);
}

/** Pads the height and width of an NHWC tensor with zeros (the course's zero_pad). */
export function zeroPad(x: Tensor, pad: Padding): Tensor {
  const op = 'zeroPad';
  checkTensor(x, 'x', op, 4);
  const p = resolvePads(x, pad, op);
  const [n, h, w, c] = x.shape;
  const outH = h + p.top + p.bottom;
  const outW = w + p.left + p.right;
  const y = new Float32Array(n * outH * outW * c);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < h; r++) {
      const src = ((i * h + r) * w) * c;
      const dst = ((i * outH + r + p.top) * outW + p.left) * c;
      y.set(x.data.subarray(src, src + w * c), dst);
    }
  return new Tensor(y, [n, outH, outW, c]);
}

/** The gradient of zeroPad: dy cropped back to the unpadded size. */
export function zeroPadBackward(dy: Tensor, pad: Padding): Tensor {
  const op = 'zeroPadBackward';
  checkTensor(dy, 'dy', op, 4);
  const p = resolvePads(dy, pad, op);
  const [n, outH, outW, c] = dy.shape;
  const h = outH - p.top - p.bottom;
  const w = outW - p.left - p.right;
  if (h < 0 || w < 0) throw new ShapeError(`${op}: dy.shape ${formatShape(dy.shape)} is smaller than the padding ${describe(pad)}`);
  const dx = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < h; r++) {
      const src = ((i * outH + r + p.top) * outW + p.left) * c;
      dx.set(dy.data.subarray(src, src + w * c), ((i * h + r) * w) * c);
    }
  return new Tensor(dx, [n, h, w, c]);
}
