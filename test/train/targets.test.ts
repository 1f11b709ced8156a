// Targets other than integer labels: one-hot and soft rows, multi-label 0/1
// rows and regression values, each with the loss Keras, tfjs and PyTorch give
// them; the losses held to PyTorch's numbers, and a line-for-line Keras
// script (to_categorical + categorical_crossentropy) training as labels do.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLoss, layers, losses, oneHot, RMSprop, sequential, Tensor, toCategorical, ValueError, ShapeError } from '../../lib/index.js';
import type { Parameter } from '../../lib/nn/layers/layer.js';
import { randomTensor, rng } from '../helpers/random.js';

interface LossGolden { name: string; shape: number[]; input: number[]; targets: number[]; loss: number; grad: number[]; labelSmoothing?: number; delta?: number }
const goldens = JSON.parse(readFileSync(new URL('../fixtures/torch/loss-goldens.json', import.meta.url), 'utf8')) as {
  losses: LossGolden[];
  rmsprop: { options: { alpha: number; momentum?: number; centered?: boolean }; start: number[]; grads: number[][]; after: number[] }[];
};

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, scale = 1) => {
  const tolerance = 1e-5 * Math.max(scale, ...Array.from(expected, Math.abs));
  Array.from(expected).forEach((e, i) => expect(Math.abs(actual[i] - e)).toBeLessThanOrEqual(tolerance));
};

const make = (units: number, activation?: 'softmax' | 'sigmoid') => sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units, activation })], { seed: 3 });
const x = randomTensor(rng(1), [12, 4, 4, 1]);
const labels = Int32Array.from({ length: 12 }, (_, i) => i % 3);

describe('losses of value targets, against PyTorch', () => {
  for (const g of goldens.losses) {
    it(`${g.name}${g.labelSmoothing ? ` (label smoothing ${g.labelSmoothing})` : ''}${g.delta ? ` (delta ${g.delta})` : ''}`, () => {
      const loss = g.name === 'huber' ? losses.huber({ delta: g.delta }) : g.name === 'categoricalCrossentropy' ? losses.categoricalCrossentropy({ labelSmoothing: g.labelSmoothing }) : createLoss(g.name, g.shape[1], 'test', 'values');
      const { loss: value, dLogits } = loss.compute(new Tensor(Float32Array.from(g.input), g.shape), Float32Array.from(g.targets));
      expect(Math.abs(value - g.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(g.loss)));
      close(dLogits.data, g.grad);
    });
  }
});

describe('RMSprop, against torch.optim.RMSprop', () => {
  for (const g of goldens.rmsprop) {
    it(JSON.stringify(g.options), () => {
      const value = new Tensor(Float32Array.from(g.start), [g.start.length]);
      const grad = new Tensor(new Float32Array(g.start.length), [g.start.length]);
      const p: Parameter = { name: 'w', value, grad } as Parameter;
      // torch adds eps after the root, Keras under it: with torch's eps 0, a tiny one here is the same step.
      const opt = new RMSprop({ learningRate: 0.01, rho: g.options.alpha, momentum: g.options.momentum ?? 0, centered: g.options.centered ?? false, epsilon: 1e-30 });
      for (const step of g.grads) {
        grad.data.set(step);
        opt.step([p]);
      }
      close(value.data, g.after);
    });
  }

  it('saves and restores its slots through config and state', () => {
    const opt = new RMSprop({ momentum: 0.5, centered: true });
    expect(opt.config()).toMatchObject({ kind: 'rmsprop', rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true });
    expect(() => new RMSprop({ rho: 1 })).toThrow(/rho and momentum must be below 1/);
    expect(() => new RMSprop({ centered: 'yes' as never })).toThrow(/centered must be true or false/);
  });
});

describe('fit and evaluate with value targets', () => {
  it('one-hot rows under categoricalCrossentropy train exactly as labels under sparseCategoricalCrossentropy', async () => {
    const a = make(3, 'softmax').compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const b = make(3, 'softmax').compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const ha = await a.fit(x, toCategorical(labels, 3), { epochs: 3, batchSize: 4, verbose: 0 });
    const hb = await b.fit(x, labels, { epochs: 3, batchSize: 4, verbose: 0 });
    ha.loss.forEach((l, i) => expect(Math.abs(l - hb.loss[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, l)));
    expect(ha.accuracy).toEqual(hb.accuracy);
    const ea = a.evaluate(x, oneHot(labels, 3));
    const eb = b.evaluate(x, labels);
    expect(Math.abs(ea.loss - eb.loss)).toBeLessThanOrEqual(1e-5);
    expect(ea.accuracy).toBe(eb.accuracy);
  });

  it('refuses the other kind of target by name, saying which loss or shape to use', async () => {
    const m = make(3, 'softmax');
    await expect(m.fit(x, labels, { loss: 'categoricalCrossentropy', verbose: 0 })).rejects.toThrow(/loss 'categoricalCrossentropy' takes one-hot rows .* use 'sparseCategoricalCrossentropy' for labels/);
    await expect(m.fit(x, oneHot(labels, 3), { loss: 'sparseCategoricalCrossentropy', verbose: 0 })).rejects.toThrow(/takes integer class labels, and y is a tensor of rows/);
    await expect(m.fit(x, oneHot(labels, 4), { verbose: 0 })).rejects.toThrow(ShapeError);
    await expect(m.fit(x, labels, { loss: 'mse', verbose: 0 })).rejects.toThrow(/is a regression loss: y must be a tensor of target values/);
    const bad = oneHot(labels, 3);
    bad.data[4] = NaN;
    await expect(m.fit(x, bad, { verbose: 0 })).rejects.toThrow(/y holds NaN at sample 1; targets must be finite/);
    await expect(m.fit(x, oneHot(labels, 3), { classWeight: 'balanced', verbose: 0 })).rejects.toThrow(/classWeight needs integer class labels/);
    expect(() => oneHot([0, 3], 3)).toThrow(/labels\[1\] = 3 is not a class in \[0, 2\]/);
    expect(() => oneHot([0], 0)).toThrow(ValueError);
  });

  it('a tensor of one integer per sample is taken as labels (tfjs tensor1d)', async () => {
    const m = make(3);
    const h = await m.fit(x, new Tensor(Float32Array.from(labels), [12]), { epochs: 1, verbose: 0, loss: 'sparseCategoricalCrossentropy' });
    expect(Number.isFinite(h.loss[0])).toBe(true);
    await expect(m.fit(x, new Tensor(new Float32Array(12).fill(0.5), [12]), { verbose: 0 })).rejects.toThrow(/is not an integer class label/);
  });

  it('multi-label: sigmoid over several outputs with binaryCrossentropy, binary accuracy', async () => {
    const truth = new Tensor(Float32Array.from({ length: 36 }, (_, i) => (((i * 7) % 5) < 2 ? 1 : 0)), [12, 3]);
    const m = make(3, 'sigmoid').compile({ optimizer: new RMSprop({ learningRate: 0.01 }), loss: 'binaryCrossentropy' });
    const h = await m.fit(x, truth, { epochs: 30, batchSize: 12, verbose: 0 });
    expect(h.loss[29]).toBeLessThan(h.loss[0]);
    expect(h.accuracy[29]).toBeGreaterThan(0.5);
    const p = m.predict(x);
    expect(p.shape).toEqual([12, 3]);
    expect(Array.from(p.data).every((v) => v > 0 && v < 1)).toBe(true);
    // A softmax loss does not go with a final sigmoid over several outputs.
    await expect(make(3, 'sigmoid').fit(x, labels, { verbose: 0 })).rejects.toThrow(/ends in a sigmoid over 3 outputs, which does not go with softmaxCrossEntropy/);
  });

  it('regression: MSE of the outputs through a final sigmoid, with mae as a metric; predict gives the values', async () => {
    const target = new Tensor(Float32Array.from({ length: 24 }, (_, i) => 0.2 + 0.6 * ((i * 5) % 7) / 7), [12, 2]);
    const m = make(2, 'sigmoid').compile({ optimizer: new RMSprop({ learningRate: 0.01 }), loss: 'meanSquaredError', metrics: ['mae'] });
    const h = await m.fit(x, target, { epochs: 40, batchSize: 12, verbose: 0, validationData: { x, y: target } });
    expect(h.loss[39]).toBeLessThan(h.loss[0]);
    expect(Number.isNaN(h.accuracy[0])).toBe(true);
    expect(h.history!.mae).toHaveLength(40);
    expect(h.history!.val_mae).toHaveLength(40);
    const out = m.predict(x);
    let mse = 0;
    for (let i = 0; i < out.size; i++) mse += (out.data[i] - target.data[i]) ** 2 / out.size;
    const e = m.evaluate(x, target);
    expect(Math.abs(e.loss - mse)).toBeLessThanOrEqual(1e-6);
    expect(Number.isNaN(e.accuracy)).toBe(true);
    expect(e.metrics!.mae).toBeGreaterThan(0);
    expect(() => m.predictClasses(x)).toThrow(/is a regression loss; its model predicts values/);
  });

  it('the regression gradient goes through the final activation: a finite-difference check of trainPass', () => {
    const m = make(2, 'sigmoid');
    const target = new Tensor(Float32Array.from([0.1, 0.9, 0.4, 0.6]), [2, 2]);
    const xs = randomTensor(rng(4), [2, 4, 4, 1]);
    m.trainPass(xs, target, 'huber');
    const w = m.parameters()[0];
    const analytic = w.grad.data[5];
    const h = 1e-2;
    const at = (delta: number) => {
      w.value.data[5] += delta;
      const v = m.trainPass(xs, target, 'huber').loss;
      w.value.data[5] -= delta;
      return v;
    };
    const numeric = (at(h) - at(-h)) / (2 * h);
    expect(Math.abs(numeric - analytic)).toBeLessThanOrEqual(1e-3 * Math.max(1e-3, Math.abs(analytic)) + 1e-6);
  });

  it('fromLogits is checked against what the model ends in', async () => {
    await expect(make(3, 'softmax').fit(x, oneHot(labels, 3), { loss: losses.categoricalCrossentropy({ fromLogits: true }), verbose: 0 })).rejects.toThrow(/says fromLogits: true, but the model ends in Softmax/);
    await expect(make(3).fit(x, labels, { loss: losses.sparseCategoricalCrossentropy({ fromLogits: false }), verbose: 0 })).rejects.toThrow(/says fromLogits: false \(probabilities\), but the model ends in logits/);
    const h = await make(3).fit(x, labels, { loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), verbose: 0 });
    expect(Number.isFinite(h.loss[0])).toBe(true);
    expect(() => losses.binaryCrossentropy({ fromLogits: 1 as never })).toThrow(/fromLogits must be/);
  });
});
