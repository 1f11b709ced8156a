// NaN goes through every op as it does in PyTorch (issue 35, class 4): ReLU
// and max pooling let it through, wherever they run (the elementwise kernel,
// a convolution's or a GEMM's fused ReLU, Winograd, the fused conv-ReLU-pool
// blocks, the reference backend), so a diverging run cannot look healthy.
import { expect, it } from 'vitest';
import { layers, ops, sequential, Tensor, zooModel } from '../../lib/index.js';
import { describeEachBackend } from '../helpers/backends.js';

/** An input of ones with one NaN at (row, col), channel 0. */
function withNaN(shape: [number, number, number, number], row: number, col: number): Tensor {
  const t = new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
  t.data[(row * shape[2] + col) * shape[3]] = NaN;
  return t;
}

describeEachBackend('NaN propagation', () => {
  it('relu(NaN) is NaN and relu(±Inf) is Inf / 0', () => {
    const y = ops.relu(new Tensor(new Float32Array([NaN, -1, 2, Infinity, -Infinity]), [5]));
    expect(Array.from(y.data)).toEqual([NaN, 0, 2, Infinity, 0]);
  });

  it('every other op lets NaN through: activations, softmax, average pools, dense, convolution, the losses', () => {
    const nanAt0 = (shape: number[]) => {
      const t = new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)), shape);
      t.data[0] = NaN;
      return t;
    };
    const x = nanAt0([2, 4, 4, 3]);
    const rowNaN = (t: Tensor, rows: number) => Number.isNaN(t.data[0]) && Array.from(t.data.subarray(t.size / rows)).every(Number.isFinite);
    for (const [name, y] of [
      ['leakyRelu', ops.leakyRelu(x)], ['sigmoid', ops.sigmoid(x)], ['tanh', ops.tanh(x)],
      ['avgPool2d', ops.avgPool2d(x, { poolSize: 2 })], ['globalAvgPool2d', ops.globalAvgPool2d(x)],
      ['conv2d', ops.conv2d(x, new Tensor(new Float32Array(3 * 3 * 3 * 5).fill(0.1), [3, 3, 3, 5]), null, { padding: 'same' })],
    ] as const) expect(Number.isNaN(y.data[0]), name).toBe(true);
    const z = nanAt0([2, 6]);
    expect(rowNaN(ops.softmax(z), 2), 'softmax: the NaN row is NaN, the other finite').toBe(true);
    expect(rowNaN(ops.dense(z, new Tensor(new Float32Array(18).fill(0.2), [6, 3])), 2), 'dense').toBe(true);
    expect(Number.isNaN(ops.softmaxCrossEntropy(z, [1, 2]).loss), 'softmax cross-entropy').toBe(true);
    expect(Number.isNaN(ops.sigmoidBinaryCrossEntropy(nanAt0([2, 1]), [1, 0]).loss), 'binary cross-entropy').toBe(true);
  });

  it('max pooling keeps a NaN wherever it lies in the window', () => {
    const m = sequential([layers.maxPool2d({ poolSize: 2, inputShape: [2, 2, 1] })]);
    for (let at = 0; at < 4; at++) {
      const x = new Tensor(new Float32Array([1, 2, 3, 4]), [1, 2, 2, 1]);
      x.data[at] = NaN;
      expect(Number.isNaN(m.predictLogits(x, { allowNonFinite: true }).data[0]), `NaN at cell ${at}`).toBe(true);
    }
  });

  // Each model's convolutions run a different kernel: fused conv-ReLU-pool blocks (mnist-3layer),
  // 3×3 convolutions of many channels (Winograd or GEMM, BatchNorm: resnet-20), 5×5 ones and a GEMM head with ReLU (cnn-14).
  for (const [name, shape] of [['mnist-3layer', [2, 28, 28, 1]], ['mnist-2layer', [2, 28, 28, 1]], ['resnet-20', [2, 32, 32, 3]], ['cnn-14', [2, 14, 14, 1]]] as const) {
    it(`${name}: one NaN pixel makes every logit of its image NaN, and only of its image`, () => {
      const model = zooModel(name, { seed: 1 });
      const x = withNaN([...shape] as [number, number, number, number], shape[1] >> 1, shape[2] >> 1);
      const out = model.predictLogits(x, { allowNonFinite: true });
      const k = out.size / 2;
      expect(Array.from(out.data.subarray(0, k)).every(Number.isNaN)).toBe(true);
      expect(Array.from(out.data.subarray(k)).every(Number.isFinite)).toBe(true);
    });
  }
});
