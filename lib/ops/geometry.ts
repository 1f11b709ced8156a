import { checkNonNegativeInt, checkOptions, checkPositiveInt, eitherOf } from '../core/check.js';
import { LimitError, ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { MAX_ELEMENTS, checkAllocation } from '../core/limits.js';

export { GEOMETRY_FIELDS, MAX_TILED_POOL_WINDOW, type WindowGeometry, poolWindowsTile } from '../backend/geometry.js';
import type { WindowGeometry } from '../backend/geometry.js';

/** One stride for both axes, or `[sh, sw]`. */
export type Stride = number | readonly [number, number];
/** A number (all sides), `[ph, pw]`, `[top, bottom, left, right]`, or Keras's `'same'` / `'valid'`. */
export type Padding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | 'same'
  | 'valid';

export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** A number or [h, w] pair of positive integers, as [h, w]. */
/**
 * A window's size, stride or padding: an integer that the kernels' int32
 * arithmetic can hold (a stride of 2^31 would wrap there), else a
 * LimitError naming it.
 */
function windowInt(value: unknown, name: string, op: string, min: 0 | 1): number {
  const v = min === 1 ? checkPositiveInt(value, name, op) : checkNonNegativeInt(value, name, op);
  if (v > MAX_ELEMENTS) throw new LimitError(`${op}: ${name} = ${v} is more than the ${MAX_ELEMENTS} a window size, stride or padding may be`);
  return v;
}

export function normalizePair(value: unknown, name: string, op: string): [number, number] {
  if (typeof value === 'number') {
    const v = windowInt(value, name, op, 1);
    return [v, v];
  }
  if (Array.isArray(value) && value.length === 2) {
    return [windowInt(value[0], `${name}[0]`, op, 1), windowInt(value[1], `${name}[1]`, op, 1)];
  }
  throw new ValueError(`${op}: ${name} must be a positive integer or [h, w], got ${describe(value)}`);
}

/**
 * Resolves padding to four sides. 'same' follows TensorFlow: the output has
 * ceil(n / stride) rows and the odd padding row goes at the bottom/right.
 */
export function normalizePadding(
  padding: unknown,
  inH: number,
  inW: number,
  kH: number,
  kW: number,
  strideH: number,
  strideW: number,
  op: string,
): Pads {
  if (padding === 'valid') return { top: 0, bottom: 0, left: 0, right: 0 };
  if (padding === 'same') {
    const total = (n: number, k: number, s: number) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    const th = total(inH, kH, strideH);
    const tw = total(inW, kW, strideW);
    return { top: Math.floor(th / 2), bottom: th - Math.floor(th / 2), left: Math.floor(tw / 2), right: tw - Math.floor(tw / 2) };
  }
  if (typeof padding === 'number') {
    const p = windowInt(padding, 'padding', op, 0);
    return { top: p, bottom: p, left: p, right: p };
  }
  if (Array.isArray(padding) && padding.length === 2) {
    const ph = windowInt(padding[0], 'padding[0]', op, 0);
    const pw = windowInt(padding[1], 'padding[1]', op, 0);
    return { top: ph, bottom: ph, left: pw, right: pw };
  }
  if (Array.isArray(padding) && padding.length === 4) {
    const [top, bottom, left, right] = padding.map((p, i) => windowInt(p, `padding[${i}]`, op, 0));
    return { top, bottom, left, right };
  }
  throw new ValueError(
    `${op}: padding must be a number, [ph, pw], [top, bottom, left, right], 'same' or 'valid', got ${describe(padding)}`,
  );
}

/** floor((n + padBefore + padAfter - k) / s) + 1, refusing a window that does not fit. */
export function outputSize(n: number, k: number, s: number, before: number, after: number, what: string, op: string): number {
  const span = n + before + after - k;
  if (span < 0) {
    throw new ShapeError(`${op}: the ${what} window ${k} is larger than the padded input ${n + before + after} (input ${n}, padding ${before}+${after})`);
  }
  return Math.floor(span / s) + 1;
}

/** Stride and padding of `ops.conv2d` and its backward. */
export interface Conv2dOptions {
  stride?: Stride;
  /** The same option under Keras's name. */
  strides?: Stride;
  padding?: Padding;
}

/** A shape argument of four non-negative integers ([N, H, W, C] or [KH, KW, C, O]). */
function checkRank4(shape: unknown, name: string, op: string): void {
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: ${name} must be 4 non-negative integers, got ${describe(shape)}`);
  }
}

/** The public convolution ops' options check (the geometry helpers also serve internal callers). */
export const checkConvOptions = (options: Conv2dOptions | undefined, op: string): Conv2dOptions => checkOptions(options ?? {}, ['stride', 'strides', 'padding'], op);
/** The public pooling ops' options check. */
export function checkPoolOptions(options: Pool2dOptions | undefined, op: string): Pool2dOptions {
  if (options === undefined) throw new ValueError(`${op}: options must be an object with a kernel, got undefined`);
  return checkOptions(options, ['kernel', 'poolSize', 'stride', 'strides', 'padding'], op);
}

/** Geometry of conv2d for x [N, H, W, C] and w [kH, kW, C, O]. */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], options: Conv2dOptions, op = 'conv2d'): WindowGeometry {
  checkRank4(xShape, 'xShape', op);
  checkRank4(wShape, 'wShape', op);
  if (!options || typeof options !== 'object') throw new ValueError(`${op}: options must be an object, got ${describe(options)}`);
  const [batch, inH, inW, inC] = xShape;
  const [kH, kW, wC, outC] = wShape;
  if (wC !== inC) {
    throw new ShapeError(`${op}: x has ${inC} channels but w expects ${wC} (x.shape = ${formatShape(xShape)}, w.shape = ${formatShape(wShape)})`);
  }
  const [strideH, strideW] = normalizePair(eitherOf(options, 'stride', 'strides', op) ?? 1, 'stride', op);
  const pads = normalizePadding(options.padding ?? 0, inH, inW, kH, kW, strideH, strideW, op);
  const outH = outputSize(inH, kH, strideH, pads.top, pads.bottom, 'height', op);
  const outW = outputSize(inW, kW, strideW, pads.left, pads.right, 'width', op);
  checkAllocation(batch * outH * outW * outC, 4, `${op}: the output [${batch}, ${outH}, ${outW}, ${outC}]`);
  checkAllocation(outH * outW * kH * kW * inC, 4, `${op}: the im2col matrix of one image`);
  return { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padTop: pads.top, padBottom: pads.bottom, padLeft: pads.left, padRight: pads.right };
}

/** Window, stride and padding of the pooling ops. */
export interface Pool2dOptions {
  kernel?: number | readonly [number, number];
  /** The same as kernel, under Keras's name. */
  poolSize?: number | readonly [number, number];
  stride?: Stride;
  /** The same as stride, under Keras's name. */
  strides?: Stride;
  padding?: Padding;
}

/** Geometry of a pooling window over x [N, H, W, C]. Padding must be smaller than the window. */
export function pool2dGeometry(xShape: readonly number[], options: Pool2dOptions, op: string): WindowGeometry {
  checkRank4(xShape, 'xShape', op);
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`${op}: options must be an object with a kernel, got ${describe(options)}`);
  }
  const [batch, inH, inW, inC] = xShape;
  const [kH, kW] = normalizePair(eitherOf(options, 'kernel', 'poolSize', op), 'kernel', op);
  const [strideH, strideW] = normalizePair(eitherOf(options, 'stride', 'strides', op) ?? [kH, kW], 'stride', op);
  const pads = normalizePadding(options.padding ?? 0, inH, inW, kH, kW, strideH, strideW, op);
  if (pads.top >= kH || pads.bottom >= kH || pads.left >= kW || pads.right >= kW) {
    throw new ValueError(`${op}: padding must be smaller than the kernel ${kH}x${kW} so every window sees the input, got [${pads.top}, ${pads.bottom}, ${pads.left}, ${pads.right}]`);
  }
  const outH = outputSize(inH, kH, strideH, pads.top, pads.bottom, 'height', op);
  const outW = outputSize(inW, kW, strideW, pads.left, pads.right, 'width', op);
  checkAllocation(batch * outH * outW * inC, 4, `${op}: the output [${batch}, ${outH}, ${outW}, ${inC}]`);
  return { batch, inH, inW, inC, outH, outW, outC: inC, kH, kW, strideH, strideW, padTop: pads.top, padBottom: pads.bottom, padLeft: pads.left, padRight: pads.right };
}

export function inputSize(g: WindowGeometry): number {
  return g.batch * g.inH * g.inW * g.inC;
}

export function outputElements(g: WindowGeometry): number {
  return g.batch * g.outH * g.outW * g.outC;
}
