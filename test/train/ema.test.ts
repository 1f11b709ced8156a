// weightAverage: an exponential moving average of the weights after every
// step, swapped into the model when fit ends (Keras's use_ema, torch's
// AveragedModel with an EMA), held to the same average computed in float64.
import { describe, expect, it } from 'vitest';
import { layers, sequential, SGD, Tensor, ValueError, weightAverage } from '../../lib/index.js';
import { rng } from '../helpers/random.js';

function problem(n: number, seed: number) {
  const random = rng(seed);
  const x = new Tensor(Float32Array.from({ length: n * 5 * 5 }, () => random() * 2 - 1), [n, 5, 5, 1]);
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { x, y };
}

const net = () => sequential([layers.conv2d({ filters: 3, kernelSize: 3 }), layers.relu(), layers.flatten(), layers.dense({ units: 3 })], { inputShape: [5, 5, 1], seed: 4 });

describe('weightAverage', () => {
  it('leaves the model holding the EMA of its weights after every step', async () => {
    const { x, y } = problem(40, 1);
    const model = net();
    const snapshots: Float64Array[][] = [];
    const recorder = { onBatchEnd: () => void snapshots.push(model.parameters().map((p) => Float64Array.from(p.value.data))) };
    const momentum = 0.8;
    const ema = weightAverage(model, { momentum });
    await model.fit(x, y, { epochs: 3, batchSize: 8, optimizer: new SGD({ learningRate: 0.1 }), verbose: 0, callbacks: [recorder, ema] });
    expect(ema.steps).toBe(15);
    const want = snapshots[0].map((w) => Float64Array.from(w));
    for (const snap of snapshots.slice(1)) want.forEach((a, k) => a.forEach((v, i) => (a[i] = momentum * v + (1 - momentum) * snap[k][i])));
    const last = snapshots[snapshots.length - 1];
    model.parameters().forEach((p, k) => {
      const scale = want[k].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      p.value.data.forEach((v, i) => expect(Math.abs(v - want[k][i])).toBeLessThanOrEqual(1e-5 * scale + 1e-7));
    });
    // The average is not the last step's weights.
    expect(model.parameters().some((p, k) => p.value.data.some((v, i) => Math.abs(v - last[k][i]) > 1e-4))).toBe(true);
  });

  it('with overwriteAtEnd false leaves the last weights until apply()', async () => {
    const { x, y } = problem(16, 2);
    const model = net();
    const ema = weightAverage(model, { momentum: 0.5, overwriteAtEnd: false });
    expect(() => ema.apply()).toThrow(/nothing averaged yet/);
    await model.fit(x, y, { epochs: 2, batchSize: 4, optimizer: new SGD({ learningRate: 0.2 }), verbose: 0, callbacks: [ema] });
    const trained = model.parameters().map((p) => Float32Array.from(p.value.data));
    ema.apply();
    expect(model.parameters().some((p, k) => p.value.data.some((v, i) => v !== trained[k][i]))).toBe(true);
  });

  it('refuses a momentum outside [0, 1) and unknown options', () => {
    const model = net();
    expect(() => weightAverage(model, { momentum: 1 })).toThrow(ValueError);
    expect(() => weightAverage(model, { momentum: 1 })).toThrow(/momentum must be in \[0, 1\), got 1/);
    // @ts-expect-error not an option
    expect(() => weightAverage(model, { decay: 0.9 })).toThrow(/decay/);
  });
});
