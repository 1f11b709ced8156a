import { DTypeError, ShapeError, describe, formatShape } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';

/** Checks that value is a float32 Tensor of the given rank; names op and argument on failure. */
export function checkTensor(value: unknown, name: string, op: string, rank?: number): Tensor {
  if (!(value instanceof Tensor)) {
    throw new DTypeError(`${op}: ${name} must be a Tensor, got ${describe(value)}`);
  }
  if (!(value.data instanceof Float32Array)) {
    throw new DTypeError(`${op}: ${name}.data must be a Float32Array, got ${describe(value.data)}`);
  }
  if (rank !== undefined && value.shape.length !== rank) {
    throw new ShapeError(`${op}: ${name} must have rank ${rank}, got rank ${value.shape.length} (${name}.shape = ${formatShape(value.shape)})`);
  }
  return value;
}

/** Checks that two tensors have the same shape. */
export function checkSameShape(a: Tensor, aName: string, b: Tensor, bName: string, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: ${aName}.shape ${formatShape(a.shape)} must equal ${bName}.shape ${formatShape(b.shape)}`);
  }
}

/** Checks a tensor's exact shape. */
export function checkShapeIs(t: Tensor, name: string, expected: readonly number[], op: string, why = ''): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: ${name}.shape must be ${formatShape(expected)}${why ? ` (${why})` : ''}, got ${formatShape(t.shape)}`);
  }
}

/** The last axis as columns and everything before it as rows. */
export function rowsAndCols(t: Tensor): [number, number] {
  const cols = t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1];
  return [cols === 0 ? 0 : t.size / cols, cols];
}
