// A whole training step of a small CNN (conv, ReLU, max-pool, flatten,
// dense, softmax cross-entropy, SGD with momentum and Adam), written with the
// functional ops, gives the same losses and parameters on both backends.
import { describe, expect, it } from 'vitest';
import { getBackend, setBackend } from '../../lib/backend/select.js';
import { type Tensor, ops } from '../../lib/index.js';
import { skipNative } from '../helpers/backends.js';
import { randomTensor, rng } from '../helpers/random.js';

interface Params {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

function initial(): Params {
  const random = rng(77);
  return {
    w1: randomTensor(random, [3, 3, 2, 6], -0.5, 0.5),
    b1: randomTensor(random, [6], -0.1, 0.1),
    w2: randomTensor(random, [4 * 4 * 6, 3], -0.2, 0.2),
    b2: randomTensor(random, [3], -0.1, 0.1),
  };
}

function train(backend: 'native' | 'reference', optimizer: 'momentum' | 'adam', steps: number) {
  setBackend(backend);
  const random = rng(5);
  const x = randomTensor(random, [5, 8, 8, 2]);
  const labels = [0, 2, 1, 1, 0];
  const p = initial();
  const state = new Map<Tensor, Float32Array[]>();
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const conv = ops.conv2d(x, p.w1, p.b1, { padding: 1 });
    const act = ops.relu(conv);
    const pooled = ops.maxPool2d(act, { kernel: 2 });
    const flat = ops.flatten(pooled);
    const logits = ops.dense(flat, p.w2, p.b2);
    const { loss, dLogits } = ops.softmaxCrossEntropy(logits, labels);
    losses.push(loss);
    const d2 = ops.denseBackward(dLogits, flat, p.w2);
    const dPooled = ops.unflatten(d2.dx, pooled.shape);
    const dAct = ops.maxPool2dBackward(dPooled, act, { kernel: 2 });
    const dConv = ops.reluBackward(dAct, conv);
    const d1 = ops.conv2dBackward(dConv, x, p.w1, { padding: 1 });
    const grads: [Tensor, Tensor][] = [[p.w1, d1.dw], [p.b1, d1.db], [p.w2, d2.dw], [p.b2, d2.db]];
    for (const [param, grad] of grads) {
      if (!state.has(param)) state.set(param, [new Float32Array(param.size), new Float32Array(param.size)]);
      const [m, v] = state.get(param)!;
      if (optimizer === 'momentum') getBackend().sgdStep(param.data, m, grad.data, 0.1, 0.9, 0);
      else getBackend().adamStep(param.data, m, v, grad.data, 0.01, 0.9, 0.999, 1e-8, step, 0);
    }
  }
  return { losses, p };
}

describe.skipIf(skipNative)('a training step on both backends', () => {
  for (const optimizer of ['momentum', 'adam'] as const) {
    it(`gives the same losses and parameters (${optimizer})`, () => {
      const native = train('native', optimizer, 4);
      const reference = train('reference', optimizer, 4);
      for (let i = 0; i < 4; i++) expect(Math.abs(native.losses[i] - reference.losses[i])).toBeLessThan(1e-5 * Math.max(1, reference.losses[i]));
      expect(native.losses[3]).toBeLessThan(native.losses[0]); // it learns
      for (const key of ['w1', 'b1', 'w2', 'b2'] as const) {
        const a = native.p[key].data;
        const b = reference.p[key].data;
        const scale = Math.max(...Array.from(b, Math.abs));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${key}[${i}]`).toBeLessThan(1e-4 * scale);
      }
    });
  }
});

describe.skipIf(skipNative)('a Sequential model on both backends', () => {
  it('gives the same gradients through the fused conv + ReLU + pool blocks', async () => {
    const { zooModel } = await import('../../lib/index.js');
    const grads = (backend: 'native' | 'reference') => {
      setBackend(backend);
      const model = zooModel('mnist-3layer', { seed: 3 });
      const x = randomTensor(rng(4), [6, 28, 28, 1], 0, 1);
      const logits = model.forwardInPlace(x, true);
      const { dLogits } = model.defaultLoss().compute(logits.reshape([6, 10]), Int32Array.from([0, 1, 2, 3, 4, 5]));
      model.backward(dLogits);
      return model.parameters().map((p) => ({ name: p.name, grad: p.grad.data.slice() }));
    };
    const native = grads('native');
    const reference = grads('reference');
    native.forEach((p, i) => {
      const r = reference[i].grad;
      const scale = Math.max(...Array.from(r, Math.abs));
      for (let j = 0; j < r.length; j++) expect(Math.abs(p.grad[j] - r[j]), `${p.name}[${j}]`).toBeLessThanOrEqual(1e-4 * scale);
    });
  });
});
