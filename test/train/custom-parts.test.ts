// Custom losses, metrics and optimizers registered by name (Keras's
// register_keras_serializable, tfjs's serialization.registerClass): found by
// compile and fit, reported in the logs, saved and loaded with a run; and the
// callbacks with Keras's and tfjs's signatures and log keys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, loadModel, loadOptimizer, type Loss, Optimizer, registerLoss, registerMetric, registerOptimizer, saveOptimizer, sequential, Tensor, ValueError } from '../../lib/index.js';
import type { Parameter } from '../../lib/nn/layers/layer.js';
import { randomTensor, rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-custom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const make = () => sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units: 3, activation: 'softmax' })], { seed: 3 });
const x = randomTensor(rng(1), [12, 4, 4, 1]);
const y = Int32Array.from({ length: 12 }, (_, i) => i % 3);

/** Focal loss (Lin et al. 2017) over softmax: −(1 − p_t)^γ · log p_t, its gradient by hand. */
class FocalLoss implements Loss {
  readonly name = 'focal';
  constructor(private readonly gamma = 2) {}
  compute(logits: Tensor, labels: Int32Array) {
    const [n, k] = logits.shape;
    const p = this.probabilities(logits).data;
    const d = new Float32Array(logits.size);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const pt = p[r * k + labels[r]];
      const w = (1 - pt) ** this.gamma;
      total -= w * Math.log(pt);
      const dpt = this.gamma * (1 - pt) ** (this.gamma - 1) * Math.log(pt) - w / pt;
      for (let j = 0; j < k; j++) d[r * k + j] = (dpt * pt * ((j === labels[r] ? 1 : 0) - p[r * k + j])) / n;
    }
    return { loss: total / n, dLogits: new Tensor(d, logits.shape) };
  }
  probabilities(logits: Tensor) {
    const [n, k] = logits.shape;
    const out = new Float32Array(logits.size);
    for (let r = 0; r < n; r++) {
      const row = logits.data.subarray(r * k, r * k + k);
      const max = Math.max(...row);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += (out[r * k + j] = Math.exp(row[j] - max));
      for (let j = 0; j < k; j++) out[r * k + j] /= sum;
    }
    return new Tensor(out, logits.shape);
  }
  classes(logits: Tensor) {
    const [n, k] = logits.shape;
    return Int32Array.from({ length: n }, (_, r) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits.data[r * k + j] > logits.data[r * k + best]) best = j;
      return best;
    });
  }
}

/** signSGD: p −= lr · sign(g), one slot-free step. */
class SignSGD extends Optimizer {
  readonly kind = 'signSgd';
  protected readonly slotCount = 0;
  constructor(config: { learningRate?: number } = {}) {
    super(config.learningRate ?? 0.01, undefined, 'SignSGD');
  }
  protected update(p: Parameter, lr: number) {
    for (let i = 0; i < p.value.data.length; i++) p.value.data[i] -= lr * Math.sign(p.grad.data[i]);
  }
  config() {
    return { kind: this.kind, learningRate: this.learningRate };
  }
}

describe('custom losses', () => {
  registerLoss('focal', () => new FocalLoss(2));

  it("are found by name in compile and fit, and their gradient is the loss's", async () => {
    const m = make().compile({ optimizer: 'adam', loss: 'focal' });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 6, verbose: 0 });
    expect(h.loss[2]).toBeLessThan(h.loss[0]);
    const loss = new FocalLoss(2);
    const z = randomTensor(rng(2), [4, 3]);
    const labels = Int32Array.from([0, 2, 1, 1]);
    const { dLogits } = loss.compute(z, labels);
    const g = dLogits.data.slice();
    for (const i of [0, 4, 7, 11]) {
      const at = (delta: number) => {
        z.data[i] += delta;
        const v = loss.compute(z, labels).loss;
        z.data[i] -= delta;
        return v;
      };
      const numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
      expect(Math.abs(numeric - g[i])).toBeLessThanOrEqual(1e-3 * Math.max(1e-2, Math.abs(g[i])));
    }
  });

  it('refuse a built-in name, a bad name or a bad maker, and an object without the methods', async () => {
    expect(() => registerLoss('binary_crossentropy', () => new FocalLoss())).toThrow(/one of convkit's own losses/);
    expect(() => registerLoss('my loss', () => new FocalLoss())).toThrow(/name must be letters/);
    expect(() => registerLoss('x', 3 as never)).toThrow(/make must be a function/);
    registerLoss('broken', () => ({ name: 'broken' }) as never);
    await expect(make().fit(x, y, { loss: 'broken', verbose: 0 })).rejects.toThrow(/registered loss 'broken'.*needs compute/);
  });
});

describe('custom metrics', () => {
  registerMetric('meanTopProbability', (_targets, outputs) => {
    const [n, k] = outputs.shape;
    let sum = 0;
    for (let r = 0; r < n; r++) sum += Math.max(...outputs.data.subarray(r * k, r * k + k));
    return sum / n;
  });

  it('appear in the logs, the history and evaluate under their names, val_ ones too', async () => {
    function errorRate(targets: Int32Array | Float32Array, outputs: Tensor) {
      const [n, k] = outputs.shape;
      let wrong = 0;
      for (let r = 0; r < n; r++) {
        const row = Array.from(outputs.data.subarray(r * k, r * k + k));
        if (row.indexOf(Math.max(...row)) !== targets[r]) wrong++;
      }
      return wrong / n;
    }
    const m = make().compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['acc', 'meanTopProbability', errorRate] });
    const seen: string[][] = [];
    const h = await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, validationSplit: 0.25, callbacks: { onEpochEnd: (_e, logs) => void seen.push(Object.keys(logs)) } });
    expect(seen[0]).toEqual(expect.arrayContaining(['loss', 'acc', 'accuracy', 'val_loss', 'val_acc', 'meanTopProbability', 'errorRate', 'val_meanTopProbability', 'val_errorRate']));
    const p = h.history!.meanTopProbability;
    expect(p).toHaveLength(2);
    expect(p.every((v) => v > 1 / 3 && v <= 1)).toBe(true);
    // The error rate over an epoch is 1 − its accuracy.
    h.history!.val_errorRate.forEach((e, i) => expect(e).toBeCloseTo(1 - h.history!.val_acc[i], 6));
    const ev = m.evaluate(x, y);
    expect(ev.metrics!.errorRate).toBeCloseTo(1 - ev.accuracy, 6);
  });

  it('are refused by name when unknown, twice, or anonymous', () => {
    expect(() => make().compile({ optimizer: 'adam', metrics: ['f1'] })).toThrow(/metric 'f1' is not one convkit computes; it has 'accuracy', 'acc', 'mse', 'mae', 'meanTopProbability'/);
    expect(() => make().compile({ optimizer: 'adam', metrics: ['mse', 'mse'] })).toThrow(/listed twice/);
    expect(() => make().compile({ optimizer: 'adam', metrics: [(() => () => 0)()] })).toThrow(/needs a name/);
    expect(() => registerMetric('accuracy', () => 0)).toThrow(/one of convkit's own metric names/);
  });
});

describe('custom optimizers', () => {
  registerOptimizer('signSgd', (config) => new SignSGD(config));

  it('are made by name, train, and load back from a saved state by their kind', async () => {
    const m = make().compile({ optimizer: 'signSgd', loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 12, verbose: 0 });
    expect(h.loss[2]).toBeLessThan(h.loss[0]);
    const opt = new SignSGD({ learningRate: 0.05 });
    opt.iterations = 7;
    saveOptimizer(opt, dir);
    const back = loadOptimizer(dir);
    expect(back).toBeInstanceOf(SignSGD);
    expect([back.learningRate, back.iterations]).toEqual([0.05, 7]);
  });

  it('are refused when the name is a built-in one or the maker gives no Optimizer', () => {
    expect(() => registerOptimizer('adam', (c) => new SignSGD(c))).toThrow(/one of convkit's own optimizers/);
    registerOptimizer('notOne', () => ({}) as never);
    expect(() => make().compile({ optimizer: 'notOne' })).toThrow(/registered as 'notOne' made .*not an Optimizer/);
    expect(() => make().compile({ optimizer: 'nadam' })).toThrow(ValueError);
  });
});

describe('a compiled model saves its compile settings and loads back compiled (Keras load_model)', () => {
  it('with a registered loss, registered metric and RMSprop', async () => {
    const { RMSprop, loadModel } = await import('../../lib/index.js');
    const m = make().compile({ optimizer: new RMSprop({ learningRate: 0.003, momentum: 0.5 }), loss: 'focal', metrics: ['accuracy', 'meanTopProbability'] });
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    const path = join(dir, 'compiled.safetensors');
    m.save(path);
    const back = loadModel(path);
    const e = back.evaluate(x, y);
    expect(e.loss).toBeCloseTo(new FocalLoss(2).compute(m.predictLogits(x), y).loss, 5);
    expect(Object.keys(e.metrics!)).toEqual(['meanTopProbability']);
    expect(back.trainingConfig()).toEqual({ optimizer: expect.objectContaining({ kind: 'rmsprop', learningRate: 0.003, momentum: 0.5 }), loss: 'focal', metrics: ['accuracy', 'meanTopProbability'] });
    const h = await back.fit(x, y, { epochs: 1, verbose: 0 });
    expect(Number.isFinite(h.history!.meanTopProbability[0])).toBe(true);
  });

  it('names an unregistered custom loss when loading', () => {
    const m = make().compile({ optimizer: 'adam', loss: Object.assign(new FocalLoss(), { name: 'neverRegistered' }) });
    const path = join(dir, 'unregistered.safetensors');
    m.save(path);
    expect(() => loadModel(path)).toThrow(/compiled with loss \{"name":"neverRegistered"\}, which cannot be rebuilt here \(a custom loss must be registered with registerLoss before loading\)/);
  });
});

describe("callbacks with Keras's and tfjs's signatures", () => {
  it('count epochs and batches from 0 and carry loss, acc, val_loss, val_acc; history.history as Keras', async () => {
    const calls: string[] = [];
    const m = make();
    const h = await m.fit(x, y, {
      epochs: 2,
      batchSize: 6,
      verbose: 0,
      validationSplit: 0.5,
      callbacks: {
        onTrainBegin: (logs) => void calls.push(`train ${JSON.stringify(logs)}`),
        onEpochBegin: (epoch) => void calls.push(`epoch ${epoch}`),
        onBatchBegin: (batch, logs) => void calls.push(`batch ${batch} size ${logs.size}`),
        onBatchEnd: (batch, logs) => void calls.push(`end ${batch} ${typeof logs.loss} ${logs.acc === logs.accuracy}`),
        onEpochEnd: (epoch, logs) => void calls.push(`epoch end ${epoch} ${[logs.val_loss === logs.valLoss, logs.val_acc === logs.valAccuracy, logs.acc === logs.accuracy].join(',')}`),
        onTrainEnd: (logs) => void calls.push(`train end ${typeof logs.loss}`),
      },
    });
    expect(calls).toEqual([
      'train {}', 'epoch 0', 'batch 0 size 6', 'end 0 number true', 'epoch end 0 true,true,true',
      'epoch 1', 'batch 0 size 6', 'end 0 number true', 'epoch end 1 true,true,true', 'train end number',
    ]);
    expect(h.epoch).toEqual([0, 1]);
    expect(h.history!.loss).toEqual(h.loss);
    expect(h.history!.val_loss).toEqual(h.valLoss);
    expect(h.history!.acc).toEqual(h.accuracy);
    expect(h.history!.val_accuracy).toEqual(h.valAccuracy);
    // The Keras views are not saved with the history.
    expect(Object.keys(JSON.parse(JSON.stringify(h)))).not.toContain('history');
  });

  it("terminateOnNaN (Keras's) ends fit after the first batch whose loss is not finite", async () => {
    const { terminateOnNaN } = await import('../../lib/index.js');
    let calls = 0;
    const focal = new FocalLoss(2);
    const poisoned: Loss = { name: 'poisoned', probabilities: (z) => focal.probabilities(z), classes: (z) => focal.classes(z), compute: (z, t) => {
      const r = focal.compute(z, t as Int32Array);
      return ++calls === 3 ? { ...r, loss: NaN } : r;
    } };
    const m = make();
    const stop = terminateOnNaN(m);
    const h = await m.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, loss: poisoned, checkFinite: false, callbacks: [stop] });
    expect(stop.at).toEqual({ epoch: 0, batch: 2 });
    expect(calls).toBe(3);
    expect(h.epoch).toEqual([0]);
    expect(h.iterationLoss).toHaveLength(3);
  });

  it('a tfjs-style async onEpochEnd that sets model.stopTraining ends training', async () => {
    const m = make();
    const h = await m.fit(x, y, {
      epochs: 5,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch) => {
          await new Promise((r) => setTimeout(r, 1));
          if (epoch === 1) m.stopTraining = true;
        },
      },
    });
    expect(h.epoch).toEqual([0, 1]);
  });
});
