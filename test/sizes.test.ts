// #35 class 5: sizes are checked against the limits before anything is
// allocated, and a size past what the kernels can index is a LimitError
// naming the argument, never a RangeError of the engine or a wrong class.
import { describe, expect, it } from 'vitest';
import { data, layers, LimitError, ops, sequential, tensor } from '../lib/index.js';

const x = tensor(new Float32Array(2 * 8 * 8 * 3), [2, 8, 8, 3]);
const w = tensor(new Float32Array(3 * 3 * 3 * 4), [3, 3, 3, 4]);

describe('sizes past the limits', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a stride past int32', () => ops.conv2d(x, w, null, { stride: 2 ** 31 }), /conv2d: stride = 2147483648 is more than the 2147483647/],
    ['a padding past int32', () => ops.conv2d(x, w, null, { padding: [2 ** 31, 0] }), /conv2d: padding\[0\] = 2147483648 is more than/],
    ['a kernel past int32 in a layer', () => layers.conv2d({ filters: 1, kernelSize: [2 ** 32, 1] }), /kernelSize\[0\] = 4294967296 is more than/],
    ['a huge padding of a convolution', () => ops.conv2d(x, w, null, { padding: 1e9 }), /conv2d: the output \[2, 2000000006, 2000000006, 4\] needs/],
    ['a pool whose output passes the limit', () => ops.avgPool2d(x, { poolSize: 50001, padding: 50000, stride: 1 }), /avgPool2d: the output \[2, 50008, 50008, 3\] needs 15004800384 elements/],
    ['a resize target past the limit', () => data.resize(x, 1e6, 1e6), /resize: the images resized to 1000000×1000000/],
    ['a layer whose weights pass the limit', () => sequential([layers.conv2d({ filters: 1e9, kernelSize: 3, inputShape: [8, 8, 3] })]), /needs 27000000000 elements/],
  ];
  it.each(cases)('%s', (_what, call, message) => {
    expect(call).toThrow(LimitError);
    expect(call).toThrow(message);
  });
});
