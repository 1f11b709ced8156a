import { ValueError, describe } from '../core/errors.js';
import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { checkSameShape, checkTensor, rowsAndCols } from './check.js';

type Unary = (y: Float32Array, x: Float32Array) => void;
type Binary = (dx: Float32Array, dy: Float32Array, saved: Float32Array) => void;

function unary(x: Tensor, op: string, kernel: (backend: ReturnType<typeof getBackend>) => Unary): Tensor {
  checkTensor(x, 'x', op);
  const y = new Float32Array(x.size);
  kernel(getBackend())(y, x.data);
  return new Tensor(y, x.shape);
}

function binary(dy: Tensor, saved: Tensor, savedName: string, op: string, kernel: (backend: ReturnType<typeof getBackend>) => Binary): Tensor {
  checkTensor(dy, 'dy', op);
  checkTensor(saved, savedName, op);
  checkSameShape(dy, 'dy', saved, savedName, op);
  const dx = new Float32Array(dy.size);
  kernel(getBackend())(dx, dy.data, saved.data);
  return new Tensor(dx, dy.shape);
}

function checkAlpha(alpha: unknown, op: string): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ValueError(`${op}: alpha must be a finite number, got ${describe(alpha)}`);
  return alpha;
}

/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary(x, 'relu', (b) => b.relu.bind(b));
/** dy where x > 0, else 0 (takes the forward's input) */
export const reluBackward = (dy: Tensor, x: Tensor): Tensor => binary(dy, x, 'x', 'reluBackward', (b) => b.reluBackward.bind(b));

/** x where x > 0, else alpha·x */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  const a = checkAlpha(alpha, 'leakyRelu');
  return unary(x, 'leakyRelu', (b) => (ys, xs) => b.leakyRelu(ys, xs, a));
}
/**
 * dx = dy where x > 0, else alpha * dy.
 * @example
 * ```ts
 * const dx = ops.leakyReluBackward(dy, x, 0.01);
 * ```
 */
export function leakyReluBackward(dy: Tensor, x: Tensor, alpha = 0.01): Tensor {
  const a = checkAlpha(alpha, 'leakyReluBackward');
  return binary(dy, x, 'x', 'leakyReluBackward', (b) => (dx, d, s) => b.leakyReluBackward(dx, d, s, a));
}

/** 1 / (1 + e^-x) */
export const sigmoid = (x: Tensor): Tensor => unary(x, 'sigmoid', (b) => b.sigmoid.bind(b));
/** Takes y = sigmoid(x), the forward's output: dx = dy·y·(1 - y). */
export const sigmoidBackward = (dy: Tensor, y: Tensor): Tensor => binary(dy, y, 'y', 'sigmoidBackward', (b) => b.sigmoidBackward.bind(b));

/**
 * tanh, element-wise, as a new tensor.
 * @example
 * ```ts
 * const y = ops.tanh(x);
 * ```
 */
export const tanh = (x: Tensor): Tensor => unary(x, 'tanh', (b) => b.tanh.bind(b));
/** Takes y = tanh(x), the forward's output: dx = dy·(1 - y²). */
export const tanhBackward = (dy: Tensor, y: Tensor): Tensor => binary(dy, y, 'y', 'tanhBackward', (b) => b.tanhBackward.bind(b));

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  checkTensor(x, 'x', 'softmax');
  const [rows, cols] = rowsAndCols(x);
  const y = new Float32Array(x.size);
  getBackend().softmax(y, x.data, rows, cols);
  return new Tensor(y, x.shape);
}

/** Takes y = softmax(x): dx = y ⊙ (dy - Σ dy ⊙ y) per row. */
export function softmaxBackward(dy: Tensor, y: Tensor): Tensor {
  const op = 'softmaxBackward';
  checkTensor(dy, 'dy', op);
  checkTensor(y, 'y', op);
  checkSameShape(dy, 'dy', y, 'y', op);
  const [rows, cols] = rowsAndCols(y);
  const dx = new Float32Array(y.size);
  getBackend().softmaxBackward(dx, dy.data, y.data, rows, cols);
  return new Tensor(dx, y.shape);
}
