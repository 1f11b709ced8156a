// Every op refuses a wrong rank, a wrong shape, a non-tensor or non-float32
// argument and mismatched channels with a ShapeError / DTypeError / ValueError
// that names the op and the argument.
import { expect, it } from 'vitest';
import { DTypeError, ShapeError, Tensor, ValueError, ops, zeros } from '../../lib/index.js';
import { describeEachBackend } from '../helpers/backends.js';

type Case = [label: string, call: () => unknown, error: typeof ShapeError, message: RegExp];

const x4 = zeros([2, 5, 5, 3]);
const w4 = zeros([3, 3, 3, 4]);
const x2 = zeros([2, 6]);
const w2 = zeros([6, 3]);
const fakeTensor = { data: new Float64Array(150), shape: [2, 5, 5, 3] };
const f32 = new Float32Array(150);

const cases: Case[] = [
  // conv2d
  ['conv2d rank of x', () => ops.conv2d(zeros([5, 5, 3]), w4), ShapeError, /conv2d: x must have rank 4, got rank 3/],
  ['conv2d rank of w', () => ops.conv2d(x4, zeros([3, 3, 3])), ShapeError, /conv2d: w must have rank 4/],
  ['conv2d channels', () => ops.conv2d(zeros([2, 5, 5, 1]), w4), ShapeError, /conv2d: x has 1 channels but w expects 3 \(x.shape = \[2, 5, 5, 1\], w.shape = \[3, 3, 3, 4\]\)/],
  ['conv2d bias shape', () => ops.conv2d(x4, w4, zeros([3])), ShapeError, /conv2d: b.shape must be \[4\]/],
  ['conv2d non-tensor x', () => ops.conv2d(fakeTensor as unknown as Tensor, w4), DTypeError, /conv2d: x must be a Tensor, got an object/],
  ['conv2d Float32Array x', () => ops.conv2d(f32 as unknown as Tensor, w4), DTypeError, /conv2d: x must be a Tensor, got Float32Array\(150\)/],
  ['conv2d window too big', () => ops.conv2d(zeros([1, 2, 2, 3]), w4), ShapeError, /conv2d: the height window 3 is larger than the padded input 2/],
  ['conv2d stride 0', () => ops.conv2d(x4, w4, null, { stride: 0 }), ValueError, /conv2d: stride must be a positive integer, got 0/],
  ['conv2d bad padding', () => ops.conv2d(x4, w4, null, { padding: 'full' as never }), ValueError, /conv2d: padding must be/],
  ['conv2d negative padding', () => ops.conv2d(x4, w4, null, { padding: [1, -1] }), ValueError, /conv2d: padding\[1\] must be a non-negative integer/],
  // conv2dBackward
  ['conv2dBackward dy shape', () => ops.conv2dBackward(zeros([2, 5, 5, 4]), x4, w4), ShapeError, /conv2dBackward: dy.shape must be \[2, 3, 3, 4\]/],
  ['conv2dBackward dy rank', () => ops.conv2dBackward(zeros([2, 3, 3]), x4, w4), ShapeError, /conv2dBackward: dy must have rank 4/],
  ['conv2dBackward channels', () => ops.conv2dBackward(zeros([2, 3, 3, 4]), zeros([2, 5, 5, 2]), w4), ShapeError, /x has 2 channels but w expects 3/],
  ['conv2dBackward non-tensor w', () => ops.conv2dBackward(zeros([2, 3, 3, 4]), x4, [1, 2] as unknown as Tensor), DTypeError, /conv2dBackward: w must be a Tensor/],
  // convSingleStep, zeroPad
  ['convSingleStep shapes', () => ops.convSingleStep(zeros([3, 3, 2]), zeros([3, 3, 1])), ShapeError, /convSingleStep: slice.shape \[3, 3, 2\] must equal w.shape \[3, 3, 1\]/],
  ['convSingleStep bias', () => ops.convSingleStep(zeros([3, 3, 1]), zeros([3, 3, 1]), zeros([2])), ShapeError, /convSingleStep: b must hold one value/],
  ['zeroPad rank', () => ops.zeroPad(zeros([5, 5]), 1), ShapeError, /zeroPad: x must have rank 4/],
  ['zeroPad same', () => ops.zeroPad(x4, 'same'), ValueError, /zeroPad: pad must be a number/],
  // pooling
  ['maxPool2d rank', () => ops.maxPool2d(zeros([5, 5, 3]), { kernel: 2 }), ShapeError, /maxPool2d: x must have rank 4/],
  ['maxPool2d kernel', () => ops.maxPool2d(x4, { kernel: 0 }), ValueError, /maxPool2d: kernel must be a positive integer/],
  ['maxPool2d padding >= kernel', () => ops.maxPool2d(x4, { kernel: 2, padding: 2 }), ValueError, /maxPool2d: padding must be smaller than the kernel/],
  ['maxPool2d non-tensor', () => ops.maxPool2d(fakeTensor as unknown as Tensor, { kernel: 2 }), DTypeError, /maxPool2d: x must be a Tensor/],
  ['maxPool2d no options', () => ops.maxPool2d(x4, undefined as never), ValueError, /maxPool2d: options must be an object/],
  ['maxPool2dBackward dy shape', () => ops.maxPool2dBackward(zeros([2, 3, 3, 3]), x4, { kernel: 2 }), ShapeError, /maxPool2dBackward: dy.shape must be \[2, 2, 2, 3\]/],
  ['maxPool2dBackward channels', () => ops.maxPool2dBackward(zeros([2, 2, 2, 4]), x4, { kernel: 2 }), ShapeError, /maxPool2dBackward: dy.shape must be \[2, 2, 2, 3\]/],
  ['avgPool2d rank', () => ops.avgPool2d(zeros([5, 5]), { kernel: 2 }), ShapeError, /avgPool2d: x must have rank 4/],
  ['avgPool2dBackward dy rank', () => ops.avgPool2dBackward(zeros([2, 2, 2]), x4, { kernel: 2 }), ShapeError, /avgPool2dBackward: dy must have rank 4/],
  ['globalAvgPool2d rank', () => ops.globalAvgPool2d(x2), ShapeError, /globalAvgPool2d: x must have rank 4/],
  ['globalAvgPool2dBackward channels', () => ops.globalAvgPool2dBackward(zeros([2, 4]), x4), ShapeError, /globalAvgPool2dBackward: dy.shape must be \[2, 3\]/],
  // dense
  ['dense rank', () => ops.dense(x4, w2), ShapeError, /dense: x must have rank 2, got rank 4/],
  ['dense features', () => ops.dense(zeros([2, 5]), w2), ShapeError, /dense: x has 5 features but w expects 6/],
  ['dense bias', () => ops.dense(x2, w2, zeros([6])), ShapeError, /dense: b.shape must be \[3\]/],
  ['dense non-tensor', () => ops.dense(new Float32Array(12) as unknown as Tensor, w2), DTypeError, /dense: x must be a Tensor, got Float32Array\(12\)/],
  ['denseBackward dy', () => ops.denseBackward(zeros([2, 4]), x2, w2), ShapeError, /denseBackward: dy.shape must be \[2, 3\]/],
  ['denseBackward features', () => ops.denseBackward(zeros([2, 3]), zeros([2, 7]), w2), ShapeError, /denseBackward: x has 7 features but w expects 6/],
  // shape
  ['unflatten', () => ops.unflatten(x2, [2, 2, 2, 2]), ShapeError, /unflatten: cannot give dy.shape \[2, 6\] the shape \[2, 2, 2, 2\]/],
  ['flatten non-tensor', () => ops.flatten([1, 2] as unknown as Tensor), DTypeError, /flatten: x must be a Tensor/],
  // activations
  ['relu non-tensor', () => ops.relu(f32 as unknown as Tensor), DTypeError, /relu: x must be a Tensor/],
  ['reluBackward shapes', () => ops.reluBackward(zeros([2, 3]), zeros([3, 2])), ShapeError, /reluBackward: dy.shape \[2, 3\] must equal x.shape \[3, 2\]/],
  ['leakyRelu alpha', () => ops.leakyRelu(x2, Number.NaN), ValueError, /leakyRelu: alpha must be a finite number/],
  ['leakyReluBackward shapes', () => ops.leakyReluBackward(zeros([2]), zeros([3])), ShapeError, /leakyReluBackward: dy.shape \[2\] must equal x.shape \[3\]/],
  ['sigmoidBackward shapes', () => ops.sigmoidBackward(zeros([2]), zeros([3])), ShapeError, /sigmoidBackward: dy.shape \[2\] must equal y.shape \[3\]/],
  ['tanhBackward non-tensor', () => ops.tanhBackward(zeros([2]), null as never), DTypeError, /tanhBackward: y must be a Tensor, got null/],
  ['softmax non-tensor', () => ops.softmax(undefined as never), DTypeError, /softmax: x must be a Tensor, got undefined/],
  ['softmaxBackward shapes', () => ops.softmaxBackward(zeros([2, 3]), zeros([2, 4])), ShapeError, /softmaxBackward: dy.shape \[2, 3\] must equal y.shape \[2, 4\]/],
  // losses
  ['softmaxCrossEntropy rank', () => ops.softmaxCrossEntropy(zeros([6]), [1]), ShapeError, /softmaxCrossEntropy: logits must have rank 2/],
  ['softmaxCrossEntropy label count', () => ops.softmaxCrossEntropy(x2, [1]), ShapeError, /softmaxCrossEntropy: labels has 1 entries but logits has 2 rows/],
  ['softmaxCrossEntropy label range', () => ops.softmaxCrossEntropy(x2, [1, 6]), ValueError, /softmaxCrossEntropy: labels\[1\] = 6 is outside the 6 classes/],
  ['softmaxCrossEntropy float labels', () => ops.softmaxCrossEntropy(x2, [1, 0.5]), DTypeError, /softmaxCrossEntropy: labels\[1\] must be an integer class index, got 0.5/],
  ['softmaxCrossEntropy Float32Array labels', () => ops.softmaxCrossEntropy(x2, new Float32Array(2) as never), DTypeError, /labels must be an Int32Array, Uint8Array or array of integers, got Float32Array\(2\)/],
  ['sigmoidBinaryCrossEntropy shapes', () => ops.sigmoidBinaryCrossEntropy(zeros([3, 1]), zeros([3])), ShapeError, /sigmoidBinaryCrossEntropy: targets.shape \[3\] must equal logits.shape \[3, 1\]/],
  ['sigmoidBinaryCrossEntropy range', () => ops.sigmoidBinaryCrossEntropy(zeros([2, 1]), [0, 2]), ValueError, /targets\[1\] = 2 must lie in \[0, 1\]/],
];

describeEachBackend('argument validation', () => {
  it.each(cases)('%s', (_label, call, error, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'expected an error').toBeInstanceOf(error);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).name).toBe(error.name);
  });

  it('a valid call works after each refusal', () => {
    expect(ops.conv2d(x4, w4).shape).toEqual([2, 3, 3, 4]);
  });
});
