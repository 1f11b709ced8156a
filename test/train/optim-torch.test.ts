// The optimizers and schedules of today's recipes, held to PyTorch's numbers
// (scripts/make-optim-goldens.py): 20 steps from the same weights and
// gradients, the rate of 20 steps under each schedule, and label smoothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdamW, Adagrad, layers, losses, optimizerFromConfig, reduceLROnPlateau, SGD, sequential, Tensor, ValueError } from '../../lib/index.js';
import type { Parameter } from '../../lib/nn/layers/layer.js';
import { scheduleFromSpec } from '../../lib/optim/schedules.js';
import { randomTensor, rng } from '../helpers/random.js';

const g = JSON.parse(readFileSync(new URL('../fixtures/torch/optim-goldens.json', import.meta.url), 'utf8')) as {
  start: number[];
  grads: number[][];
  optimizers: { name: string; convkit: Record<string, unknown>; after: number[] }[];
  schedules: { name: string; convkit: Record<string, unknown>; rates: number[] }[];
  plateau: { metrics: number[]; options: { factor: number; patience: number; minDelta: number; cooldown: number; minLr: number }; rates: number[] };
  labelSmoothing: { epsilon: number; logits: number[]; labels: number[]; loss: number; grad: number[] };
};

const close = (actual: ArrayLike<number>, expected: readonly number[], relative = 1e-5) => {
  const scale = Math.max(1, ...expected.map(Math.abs));
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `[${i}]: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(relative * scale));
};

describe('optimizers against torch.optim, 20 steps', () => {
  for (const o of g.optimizers) {
    it(o.name, () => {
      const opt = optimizerFromConfig(o.convkit);
      const value = new Tensor(Float32Array.from(g.start), [g.start.length]);
      const grad = new Tensor(new Float32Array(g.start.length), [g.start.length]);
      const p = { name: 'w', value, grad } as Parameter;
      for (const step of g.grads) {
        grad.data.set(step);
        opt.step([p]);
      }
      close(value.data, o.after, 2e-5);
      // The config round-trips (what a checkpoint keeps).
      expect(optimizerFromConfig(opt.config()).config()).toEqual(opt.config());
    });
  }

  it('refuses what PyTorch refuses, by name', () => {
    expect(() => new SGD({ nesterov: true })).toThrow(/nesterov needs a momentum above 0/);
    expect(() => new SGD({ momentum: 0.9, clipNorm: 1, clipValue: 1 })).toThrow(/give clipNorm or clipValue, not both/);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(ValueError);
    expect(() => new Adagrad({ epsilon: 0 })).toThrow(/epsilon must be a positive number/);
    expect(new AdamW().config()).toMatchObject({ kind: 'adamw', weightDecay: 0.01 });
  });
});

describe('schedules against torch.optim.lr_scheduler, 20 steps', () => {
  for (const s of g.schedules) {
    it(s.name, () => {
      const schedule = scheduleFromSpec(s.convkit, 'test')!;
      close(Array.from({ length: 20 }, (_, i) => 0.1 * schedule(i)), s.rates, 1e-9);
    });
  }

  it("reduceLROnPlateau lowers the rate as Keras's ReduceLROnPlateau (torch's with patience one higher, threshold_mode 'abs')", () => {
    const { factor, patience, minDelta, cooldown, minLr } = g.plateau.options;
    const model = { optimizer: new SGD({ learningRate: 0.1 }) };
    // Keras lowers after `patience` epochs without improvement, torch after more than `patience`.
    const plateau = reduceLROnPlateau(model, { monitor: 'val_loss', factor, patience: patience + 1, minDelta, cooldown, minLr });
    const rates = g.plateau.metrics.map((m, epoch) => {
      const rate = model.optimizer.learningRate;
      plateau.onEpochEnd!(epoch, { epoch, loss: m, accuracy: 0, valLoss: m, learningRate: rate, seconds: 0, imagesPerSecond: 0 } as never, undefined as never);
      return rate;
    });
    close(rates, g.plateau.rates, 1e-9);
    expect(plateau.lowered.length).toBeGreaterThan(1);
  });

  it("counts a cooldown as Keras does: the epoch it ends in already counts toward patience", () => {
    const model = { optimizer: new SGD({ learningRate: 1 }) };
    const plateau = reduceLROnPlateau(model, { monitor: 'loss', factor: 0.5, patience: 2, cooldown: 2 });
    // Best at epoch 1; epochs 2 and 3 are bad: lowered after 3. Cooldown: epoch 4 does not count, epoch 5 ends it and counts, 6 lowers.
    [5, 4, 4, 4, 4, 4, 4, 4].forEach((loss, epoch) => plateau.onEpochEnd!(epoch, { epoch, loss, accuracy: 0, learningRate: 0, seconds: 0, imagesPerSecond: 0 } as never, undefined as never));
    expect(plateau.lowered).toEqual([3, 6]);
  });

  it('reduceLROnPlateau works inside fit on the model fit made the optimizer for', async () => {
    const m = sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units: 3 })], { seed: 1 });
    const x = randomTensor(rng(3), [24, 4, 4, 1]);
    const y = Int32Array.from({ length: 24 }, (_, i) => i % 3);
    const plateau = reduceLROnPlateau(m, { monitor: 'loss', patience: 1, minDelta: 10, factor: 0.5 });
    const h = await m.fit(x, y, { epochs: 4, verbose: 0, optimizer: 'sgd', learningRate: 0.08, callbacks: [plateau] });
    // The first epoch sets the best; each later one fails to beat it by 10 and lowers the rate after it.
    expect(plateau.lowered).toEqual([1, 2, 3]);
    expect(h.history!.learning_rate).toEqual([0.08, 0.08, 0.04, 0.02]);
    expect(m.optimizer!.learningRate).toBe(0.01);
    expect(() => reduceLROnPlateau(m, { factor: 1 })).toThrow(ValueError);
  });
});

describe('label smoothing', () => {
  it("sparseCategoricalCrossentropy({labelSmoothing}) is torch's CrossEntropyLoss(label_smoothing) on class indices", () => {
    const ls = g.labelSmoothing;
    const loss = losses.sparseCategoricalCrossentropy({ labelSmoothing: ls.epsilon });
    const { loss: value, dLogits } = loss.compute(new Tensor(Float32Array.from(ls.logits), [ls.labels.length, 5]), Int32Array.from(ls.labels));
    expect(Math.abs(value - ls.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, ls.loss));
    close(dLogits.data, ls.grad);
  });

  it('trains a model (off the fused path) and refuses a bad epsilon', async () => {
    const m = sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units: 3 })], { seed: 1 });
    const x = randomTensor(rng(3), [24, 4, 4, 1]);
    const y = Int32Array.from({ length: 24 }, (_, i) => i % 3);
    const h = await m.fit(x, y, { epochs: 3, verbose: 0, loss: losses.sparseCategoricalCrossentropy({ labelSmoothing: 0.1 }) });
    expect(h.loss[2]).toBeLessThan(h.loss[0]);
    expect(() => losses.sparseCategoricalCrossentropy({ labelSmoothing: 1 })).toThrow(/labelSmoothing must be in \[0, 1\)/);
  });
});
