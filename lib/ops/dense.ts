import { ShapeError, formatShape } from '../core/errors.js';
import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { checkAllocation } from '../core/limits.js';
import { checkShapeIs, checkTensor } from './check.js';

/**
 * Fully connected layer: y = x · w + b.
 *
 * Shape: x [N, in], w [in, out], b [out] or null → y [N, out].
 */
export function dense(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const op = 'dense';
  checkTensor(x, 'x', op, 2);
  checkTensor(w, 'w', op, 2);
  const [rows, inF] = x.shape;
  const [wIn, outF] = w.shape;
  if (wIn !== inF) {
    throw new ShapeError(`${op}: x has ${inF} features but w expects ${wIn} (x.shape = ${formatShape(x.shape)}, w.shape = ${formatShape(w.shape)})`);
  }
  if (b !== null && b !== undefined) {
    checkTensor(b, 'b', op);
    checkShapeIs(b, 'b', [outF], op, `one bias per output of w.shape = ${formatShape(w.shape)}`);
  }
  checkAllocation(rows * outF, 4, `dense: the output [${rows}, ${outF}]`);
  const y = new Float32Array(rows * outF);
  getBackend().dense(y, x.data, w.data, b ? b.data : null, rows, inF, outF);
  return new Tensor(y, [rows, outF]);
}

/** Gradients of dense: dx [N, in], dw [in, out], db [out]. */
export function denseBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  const op = 'denseBackward';
  checkTensor(dy, 'dy', op, 2);
  checkTensor(x, 'x', op, 2);
  checkTensor(w, 'w', op, 2);
  const [rows, inF] = x.shape;
  const [wIn, outF] = w.shape;
  if (wIn !== inF) {
    throw new ShapeError(`${op}: x has ${inF} features but w expects ${wIn} (x.shape = ${formatShape(x.shape)}, w.shape = ${formatShape(w.shape)})`);
  }
  checkShapeIs(dy, 'dy', [rows, outF], op, 'the shape dense gives for x and w');
  const dx = new Float32Array(rows * inF);
  const dw = new Float32Array(inF * outF);
  const db = new Float32Array(outF);
  getBackend().denseBackward(dx, dw, db, dy.data, x.data, w.data, rows, inF, outF);
  return { dx: new Tensor(dx, x.shape), dw: new Tensor(dw, w.shape), db: new Tensor(db, [outF]) };
}
