import { ShapeError, formatShape } from '../core/errors.js';
import { Tensor, checkShape } from '../core/tensor.js';
import { checkTensor } from './check.js';

/** [N, d1, d2, ...] → [N, d1·d2·...], keeping row-major (h, w, c) order. A view, not a copy. */
export function flatten(x: Tensor): Tensor {
  checkTensor(x, 'x', 'flatten');
  if (x.shape.length < 1) throw new ShapeError(`flatten: x must have a batch dimension, got x.shape = ${formatShape(x.shape)}`);
  const n = x.shape[0];
  return x.reshape([n, n === 0 ? 0 : x.size / n]);
}

/** The inverse of flatten (and its backward): dy [N, F] → shape, where shape is [N, ...] with product F. */
export function unflatten(dy: Tensor, shape: readonly number[]): Tensor {
  checkTensor(dy, 'dy', 'unflatten');
  checkShape(shape, 'unflatten: shape');
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== dy.size || shape[0] !== dy.shape[0]) {
    throw new ShapeError(`unflatten: cannot give dy.shape ${formatShape(dy.shape)} the shape ${formatShape(shape)}`);
  }
  return dy.reshape(shape);
}
