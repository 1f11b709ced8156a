// BatchNormalization: the reference's gradients by finite differences in
// float64, the native kernels against the reference on random shapes, and
// the layer's training/inference modes, moving statistics and checkpoints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormInferForward, batchNormTrainForward } from '../../lib/backend/reference-norm.js';
import { nativeBackend } from '../../lib/backend/select.js';
import { layers, loadModel, Random, sequential, Tensor } from '../../lib/index.js';
import { skipNative } from '../helpers/backends.js';
import { expectGradientsClose, numericalGradient } from '../helpers/gradcheck.js';
import { rng, uniform } from '../helpers/random.js';

const f64 = (random: () => number, n: number, lo = -1, hi = 1) => Float64Array.from(uniform(random, n, lo, hi));

describe('batch normalization, reference, float64', () => {
  it.each([[6, 3], [10, 1], [4, 5]])('has the gradients of its training forward (rows %i, channels %i)', (rows, channels) => {
    const random = rng(rows * 31 + channels);
    const x = f64(random, rows * channels, -2, 2);
    const gamma = f64(random, channels, 0.5, 1.5);
    const beta = f64(random, channels);
    const weights = f64(random, rows * channels); // loss = Σ y · weights
    const y = new Float64Array(rows * channels);
    const stats = () => ({ mean: new Float64Array(channels), variance: new Float64Array(channels), invStd: new Float64Array(channels) });
    const loss = () => {
      const s = stats();
      batchNormTrainForward(y as never, s.mean as never, s.variance as never, s.invStd as never, x as never, gamma as never, beta as never, rows, channels, 1e-3);
      return y.reduce((a, v, i) => a + v * weights[i], 0);
    };
    const s = stats();
    batchNormTrainForward(y as never, s.mean as never, s.variance as never, s.invStd as never, x as never, gamma as never, beta as never, rows, channels, 1e-3);
    const dx = new Float64Array(rows * channels);
    const dgamma = new Float64Array(channels);
    const dbeta = new Float64Array(channels);
    batchNormBackward(dx as never, dgamma as never, dbeta as never, weights as never, x as never, s.mean as never, s.invStd as never, gamma as never, rows, channels);
    expectGradientsClose(dx, numericalGradient(loss, x), 'dx');
    expectGradientsClose(dgamma, numericalGradient(loss, gamma), 'dgamma');
    expectGradientsClose(dbeta, numericalGradient(loss, beta), 'dbeta');
  });

  it('normalizes each channel to mean 0 and variance var / (var + eps)', () => {
    const random = rng(7);
    const [rows, channels] = [50, 4];
    const x = f64(random, rows * channels, 3, 9);
    const y = new Float64Array(rows * channels);
    const ones = new Float64Array(channels).fill(1);
    const s = { mean: new Float64Array(channels), variance: new Float64Array(channels), invStd: new Float64Array(channels) };
    batchNormTrainForward(y as never, s.mean as never, s.variance as never, s.invStd as never, x as never, ones as never, new Float64Array(channels) as never, rows, channels, 1e-5);
    for (let c = 0; c < channels; c++) {
      let m = 0;
      let v = 0;
      for (let r = 0; r < rows; r++) m += y[r * channels + c] / rows;
      for (let r = 0; r < rows; r++) v += (y[r * channels + c] - m) ** 2 / rows;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(v).toBeCloseTo(s.variance[c] / (s.variance[c] + 1e-5), 10);
    }
  });
});

describe.skipIf(skipNative)('batch normalization, native against reference', () => {
  it.each([[1, 1], [7, 3], [64, 16], [200, 33], [2048, 64]])('agrees on rows %i, channels %i (train, inference, backward)', (rows, channels) => {
    const native = nativeBackend();
    const random = rng(rows + channels);
    const n = rows * channels;
    const x = uniform(random, n, -3, 5);
    const gamma = uniform(random, channels, 0.5, 2);
    const beta = uniform(random, channels);
    const dy = uniform(random, n);
    const run = (b: 'native' | 'reference') => {
      const out = { y: new Float32Array(n), mean: new Float32Array(channels), variance: new Float32Array(channels), invStd: new Float32Array(channels), yi: new Float32Array(n), dx: new Float32Array(n), dg: new Float32Array(channels), db: new Float32Array(channels) };
      const k = b === 'native' ? native : { batchNormTrainForward, batchNormInferForward, batchNormBackward };
      k.batchNormTrainForward(out.y, out.mean, out.variance, out.invStd, x, gamma, beta, rows, channels, 1e-3);
      k.batchNormInferForward(out.yi, x, out.mean, out.variance, gamma, beta, rows, channels, 1e-3);
      k.batchNormBackward(out.dx, out.dg, out.db, dy, x, out.mean, out.invStd, gamma, rows, channels);
      return out;
    };
    const [a, b] = [run('native'), run('reference')];
    const maxAbs = (v: Float32Array) => v.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
    // What a rounding of x, the mean or invStd turns into at the output: |x - mean| · invStd · gamma.
    const amplitude = (maxAbs(x) + maxAbs(b.mean)) * maxAbs(b.invStd) * maxAbs(gamma);
    for (const key of Object.keys(a) as (keyof typeof a)[]) {
      const scale = Math.max(1, maxAbs(b[key]), amplitude);
      // float32 sums of up to rows terms: a few ulps of the magnitude per term.
      const tolerance = 2e-6 * scale * Math.max(1, Math.sqrt(rows));
      a[key].forEach((v, i) => expect(Math.abs(v - b[key][i]), `${key}[${i}]`).toBeLessThanOrEqual(tolerance));
    }
  });

  it('refuses buffers that do not match rows x channels', () => {
    const native = nativeBackend();
    const f = (k: number) => new Float32Array(k);
    expect(() => native.batchNormTrainForward(f(6), f(3), f(3), f(3), f(5), f(3), f(3), 2, 3, 1e-3)).toThrow(/x has 5 elements, expected 6/);
    expect(() => native.batchNormBackward(null, f(2), f(3), f(6), f(6), f(3), f(3), f(3), 2, 3)).toThrow(/dgamma has 2 elements, expected 3/);
    expect(() => native.batchNormInferForward(f(6), f(6), f(3), f(3), f(3), f(3), 2, 3, 0)).toThrow(/epsilon must be > 0/);
  });
});

describe('the BatchNormalization layer', () => {
  const model = () => sequential([
    layers.conv2d({ filters: 4, kernelSize: 3, useBias: false }), layers.batchNormalization({ momentum: 0.9 }), layers.relu(),
    layers.flatten(), layers.dense({ units: 3 }),
  ], { inputShape: [6, 6, 2], seed: 3 });

  it('updates the moving statistics in training and uses them in inference', () => {
    const m = model();
    const bn = m.layers[1] as InstanceType<typeof layers.BatchNormalization>;
    const random = rng(1);
    const x = new Tensor(uniform(random, 5 * 72, 0, 4), [5, 6, 6, 2]);
    const before = m.predict(x).data.slice();
    m.trainPass(x, [0, 1, 2, 0, 1]);
    expect(bn.runningMean.value.data.some((v) => v !== 0)).toBe(true);
    expect(bn.runningVar.value.data.every((v) => v > 0)).toBe(true);
    const after = m.predict(x).data;
    expect(Array.from(after).some((v, i) => v !== before[i])).toBe(true);
    expect(m.summary()).toMatch(/Non-trainable params: 8\b/);
  });

  it('back-propagates through its inference form (the moving statistics) as finite differences do', () => {
    const bn = layers.batchNormalization({ epsilon: 1e-3 });
    bn.build([3, 2, 4], new Random(1));
    const random = rng(8);
    bn.gamma.value.data.set(uniform(random, 4, 0.5, 2));
    bn.beta.value.data.set(uniform(random, 4));
    bn.runningMean.value.data.set(uniform(random, 4));
    bn.runningVar.value.data.set(uniform(random, 4, 0.2, 3));
    const x = new Tensor(uniform(random, 2 * 24, -2, 2), [2, 3, 2, 4]);
    const r = uniform(random, 2 * 24);
    const loss = () => bn.forward(x, false).data.reduce((a, v, i) => a + v * r[i], 0);
    bn.forward(x, false);
    const dx = Float32Array.from(bn.backward(new Tensor(r, x.shape), true)!.data);
    const [dgamma, dbeta] = [Float32Array.from(bn.gamma.grad.data), Float32Array.from(bn.beta.grad.data)];
    // The inference form is affine in x, gamma and beta: central differences are exact up to float32 rounding.
    for (const [param, grad, what] of [[x.data, dx, 'dx'], [bn.gamma.value.data, dgamma, 'dgamma'], [bn.beta.value.data, dbeta, 'dbeta']] as const) {
      for (let i = 0; i < param.length; i++) {
        const saved = param[i];
        param[i] = saved + 0.25;
        const plus = loss();
        param[i] = saved - 0.25;
        const minus = loss();
        param[i] = saved;
        expect(grad[i], `${what}[${i}]`).toBeCloseTo((plus - minus) / 0.5, 4);
      }
    }
  });

  it('moves its statistics by momentum toward the batch mean and unbiased variance (as PyTorch does)', () => {
    const bn = layers.batchNormalization({ momentum: 0.9 });
    bn.build([2], new Random(0));
    const x = new Tensor(Float32Array.from([1, 10, 2, 20, 4, 40, 5, 50]), [4, 2]);
    bn.forward(x, true);
    // channel 0: mean 3, unbiased variance 10/3; channel 1: mean 30, unbiased variance 1000/3.
    expect(bn.runningMean.value.data[0]).toBeCloseTo(0.1 * 3, 6);
    expect(bn.runningMean.value.data[1]).toBeCloseTo(0.1 * 30, 5);
    expect(bn.runningVar.value.data[0]).toBeCloseTo(0.9 + 0.1 * (10 / 3), 6);
    expect(bn.runningVar.value.data[1]).toBeCloseTo(0.9 + 0.1 * (1000 / 3), 4);
    // Inference uses them: (x - mean) / sqrt(var + eps).
    const y = bn.forward(x, false).data;
    expect(y[0]).toBeCloseTo((1 - 0.3) / Math.sqrt(0.9 + 1 / 3 + 1e-3), 5);
  });

  it('saves its moving statistics in checkpoints: a reloaded model predicts the same', () => {
    const m = model();
    const random = rng(2);
    const x = new Tensor(uniform(random, 4 * 72, 0, 4), [4, 6, 6, 2]);
    for (let i = 0; i < 3; i++) m.trainPass(x, [0, 1, 2, 0]);
    const dir = mkdtempSync(join(tmpdir(), 'bn-'));
    m.save(dir);
    const again = loadModel(dir);
    expect(Array.from(again.predict(x).data)).toEqual(Array.from(m.predict(x).data));
    expect(Object.keys(m.stateDict())).toContain('batchnormalization_1.running_var');
  });

  it('names the bad option', () => {
    expect(() => layers.batchNormalization({ momentum: 2 })).toThrow(/momentum/);
    expect(() => layers.batchNormalization({ epsilon: 0 })).toThrow(/epsilon/);
    expect(() => layers.batchNormalization({ axis: 1 } as never)).toThrow(/axis/);
  });
});
