// The worked examples of the from-scratch CNN course, on every backend.
import { expect, it } from 'vitest';
import { fromNested, ops, tensor } from '../../lib/index.js';
import { describeEachBackend } from '../helpers/backends.js';

/** A 2-D grid as a [1, h, w, 1] NHWC tensor. */
const image = (rows: number[][]) => fromNested(rows).reshape([1, rows.length, rows[0].length, 1]);
const grid = (t: { toArray(): unknown }) => (t.toArray() as number[][][][])[0].map((row) => row.map((px) => px[0]));

describeEachBackend('course examples', () => {
  const binary = image([
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
  ]);
  const kernel = fromNested([
    [1, 0, 1],
    [0, 1, 0],
    [1, 0, 1],
  ]).reshape([3, 3, 1, 1]);

  it('convolves the 5x5 binary image with the X kernel at stride 1', () => {
    expect(grid(ops.conv2d(binary, kernel))).toEqual([
      [4, 3, 4],
      [2, 4, 3],
      [2, 3, 4],
    ]);
  });

  it('convolves it at stride 2', () => {
    expect(grid(ops.conv2d(binary, kernel, null, { stride: 2 }))).toEqual([
      [4, 4],
      [2, 4],
    ]);
  });

  it('pools the first 4x4 example 2x2/2', () => {
    const x = image([
      [4, 9, 2, 5],
      [5, 6, 2, 4],
      [2, 4, 5, 4],
      [5, 6, 8, 4],
    ]);
    expect(grid(ops.maxPool2d(x, { kernel: 2, stride: 2 }))).toEqual([
      [9, 5],
      [6, 8],
    ]);
    expect(grid(ops.avgPool2d(x, { kernel: 2, stride: 2 }))).toEqual([
      [6, 3.25],
      [4.25, 5.25],
    ]);
  });

  it('pools the second 4x4 example 2x2/2', () => {
    const x = image([
      [2, 3, 1, 9],
      [4, 7, 3, 5],
      [8, 2, 2, 2],
      [1, 3, 4, 5],
    ]);
    expect(grid(ops.maxPool2d(x, { kernel: 2 }))).toEqual([
      [7, 9],
      [8, 5],
    ]);
    // The issue lists 3.25 for the bottom-left window; its cells 8, 2, 1, 3 average to 3.5.
    expect(grid(ops.avgPool2d(x, { kernel: 2 }))).toEqual([
      [4, 4.5],
      [3.5, 3.25],
    ]);
  });

  it('routes the max-pool gradient to the arg-max, ties to the first in row-major order', () => {
    const x = image([
      [1, 3, 2, 2],
      [3, 0, 2, 2],
      [0, 0, 5, 1],
      [0, 0, 1, 5],
    ]);
    const dy = image([
      [10, 20],
      [30, 40],
    ]);
    expect(grid(ops.maxPool2dBackward(dy, x, { kernel: 2 }))).toEqual([
      [0, 10, 20, 0],
      [0, 0, 0, 0],
      [30, 0, 40, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('spreads the average-pool gradient evenly over each window', () => {
    const x = image([
      [1, 2],
      [3, 4],
    ]);
    expect(grid(ops.avgPool2dBackward(image([[8]]), x, { kernel: 2 }))).toEqual([
      [2, 2],
      [2, 2],
    ]);
  });

  it('zero-pads height and width and crops back', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const padded = ops.zeroPad(x, 1);
    expect(padded.shape).toEqual([1, 4, 4, 1]);
    expect(grid(padded)).toEqual([
      [0, 0, 0, 0],
      [0, 1, 2, 0],
      [0, 3, 4, 0],
      [0, 0, 0, 0],
    ]);
    expect(ops.zeroPadBackward(padded, 1).data).toEqual(x.data);
    expect(ops.zeroPad(x, [0, 1, 2, 0]).shape).toEqual([1, 3, 4, 1]);
  });

  it('computes one convolution step as the sum of slice * w plus b', () => {
    const slice = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const w = tensor([1, 0, -1, 0, 0.5, 0, 0, 2], [2, 2, 2]);
    expect(ops.convSingleStep(slice, w, 0.5)).toBeCloseTo(1 - 3 + 2.5 + 16 + 0.5, 5);
    expect(ops.convSingleStep(slice, w, tensor([1], [1, 1, 1]))).toBeCloseTo(17.5, 5);
  });

  it('flattens NHWC in (h, w, c) order and unflattens back', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    const flat = ops.flatten(x);
    expect(flat.shape).toEqual([2, 4]);
    expect(Array.from(flat.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ops.unflatten(flat, [2, 2, 1, 2]).shape).toEqual([2, 2, 1, 2]);
  });

  it('keeps softmax cross-entropy finite for logits of +-1000', () => {
    const logits = tensor([1000, -1000, 0, -1000, 1000, 0], [2, 3]);
    const { loss, dLogits, probs } = ops.softmaxCrossEntropy(logits, [0, 0]);
    // row 0 is confidently right (loss 0), row 1 confidently wrong (loss 2000)
    expect(loss).toBeCloseTo(1000, 3);
    expect(Array.from(probs.data).every(Number.isFinite)).toBe(true);
    expect(Array.from(dLogits.data)).toEqual([0, 0, 0, -0.5, 0.5, 0]);
  });

  it('keeps sigmoid binary cross-entropy finite for logits of +-1000', () => {
    const { loss, dLogits } = ops.sigmoidBinaryCrossEntropy(tensor([1000, -1000, 1000], [3, 1]), [1, 0, 0]);
    expect(loss).toBeCloseTo(1000 / 3, 3);
    expect(Array.from(dLogits.data).map((v) => Math.round(v * 3 * 1e6) / 1e6)).toEqual([0, 0, 1]);
  });

  it('computes global average pooling per channel', () => {
    const x = tensor([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const y = ops.globalAvgPool2d(x);
    expect(y.shape).toEqual([1, 2]);
    expect(Array.from(y.data)).toEqual([2.5, 25]);
    expect(Array.from(ops.globalAvgPool2dBackward(tensor([4, 8], [1, 2]), x).data)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('applies the activations element-wise', () => {
    const x = tensor([-2, 0, 3], [3]);
    expect(Array.from(ops.relu(x).data)).toEqual([0, 0, 3]);
    expect(Array.from(ops.leakyRelu(x, 0.5).data)).toEqual([-1, 0, 3]);
    expect(ops.sigmoid(tensor([0], [1])).data[0]).toBe(0.5);
    expect(ops.tanh(tensor([0], [1])).data[0]).toBe(0);
    const s = ops.softmax(tensor([1, 1, 1, 1], [2, 2]));
    expect(Array.from(s.data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});
