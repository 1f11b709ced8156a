// fit on synthetic data: learns, reports history, honours callbacks,
// validation and early stopping, and refuses bad input before training.
import { describe, expect, it } from 'vitest';
import { Adam, layers, NonFiniteError, SGD, sequential, ShapeError, Tensor, ValueError } from '../../lib/index.js';
import { rng } from '../helpers/random.js';

/** Two Gaussian blobs per class on a 4x4x1 "image": class = which quadrant is bright. */
function blobs(n: number, seed: number, classes = 3) {
  const random = rng(seed);
  const x = new Float32Array(n * 16);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let j = 0; j < 16; j++) x[i * 16 + j] = (random() - 0.5) * 0.5 + (j % classes === c ? 1 : 0);
  }
  return { x: new Tensor(x, [n, 4, 4, 1]), y };
}

const small = (seed = 0) =>
  sequential([layers.conv2d({ filters: 4, kernelSize: 3, padding: 1 }), layers.relu(), layers.flatten(), layers.dense({ units: 3 })], { inputShape: [4, 4, 1], seed });

describe('fit', () => {
  it('learns a separable problem and returns the history', async () => {
    const { x, y } = blobs(300, 1);
    const model = small();
    const h = await model.fit(x, y, { epochs: 5, batchSize: 16, optimizer: new Adam({ learningRate: 0.01 }), verbose: 0, validation: 0.2 });
    expect(h.loss).toHaveLength(5);
    expect(h.valAccuracy).toHaveLength(5);
    expect(h.iterationLoss).toHaveLength(5 * Math.ceil(240 / 16));
    expect(h.loss[4]).toBeLessThan(h.loss[0]);
    expect(h.accuracy[4]).toBeGreaterThan(0.95);
    expect(h.valAccuracy[4]).toBeGreaterThan(0.95);
    expect(model.evaluate(x, y).accuracy).toBeGreaterThan(0.95);
    expect(model.predictClasses(x).length).toBe(300);
    const p = model.predict(x);
    expect(p.shape).toEqual([300, 3]);
    expect(p.data[0] + p.data[1] + p.data[2]).toBeCloseTo(1, 5);
  });

  it('is reproducible for a seed', async () => {
    const { x, y } = blobs(100, 2);
    const run = async () => {
      const m = small(5);
      await m.fit(x, y, { epochs: 2, batchSize: 10, seed: 9, verbose: 0 });
      return m.stateDict()['dense_1.weight'].data;
    };
    expect(await run()).toEqual(await run());
  });

  it('calls callbacks, yields to the event loop, and stops when asked', async () => {
    const { x, y } = blobs(64, 3);
    const events: string[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const h = await small().fit(x, y, {
      epochs: 5,
      batchSize: 8,
      verbose: 0,
      callbacks: {
        onTrainBegin: () => events.push('begin'),
        onEpochBegin: (e) => events.push(`epoch${e}`),
        onBatchEnd: (batch, logs) => {
          if (batch === 7) events.push(`batches${logs.epoch}:${logs.batch}:${logs.size}`);
        },
        onEpochEnd: (epoch) => (epoch === 1 ? 'stop' : undefined),
        onTrainEnd: () => events.push('end'),
      },
    });
    clearInterval(timer);
    // Keras's and tfjs's counting: epochs and batches from 0.
    expect(events).toEqual(['begin', 'epoch0', 'batches0:7:8', 'epoch1', 'batches1:7:8', 'end']);
    expect(h.loss).toHaveLength(2);
    expect(ticks).toBeGreaterThan(0);
  });

  it('stops early when the monitored value stops improving and restores the best weights', async () => {
    const { x, y } = blobs(90, 4);
    const val = blobs(30, 5);
    const model = small();
    // A rate this small barely moves the loss, so patience runs out.
    const h = await model.fit(x, y, { epochs: 50, batchSize: 30, optimizer: new SGD({ learningRate: 1e-9 }), validation: { x: val.x, y: val.y }, earlyStopping: { patience: 2, minDelta: 1e-3 }, verbose: 0 });
    expect(h.stoppedEarly).toBe(true);
    expect(h.loss.length).toBe(3);
  });

  it('stops with the epoch and batch named when the loss becomes non-finite', async () => {
    const { x, y } = blobs(64, 6);
    x.data[0] = 1e30;
    await expect(small().fit(x, y, { epochs: 2, batchSize: 8, optimizer: new SGD({ learningRate: 1e10 }), verbose: 0, shuffle: false })).rejects.toThrow(NonFiniteError);
    await expect(small().fit(x, y, { epochs: 2, batchSize: 8, optimizer: new SGD({ learningRate: 1e10 }), verbose: 0, shuffle: false })).rejects.toThrow(/the loss became (NaN|Infinity) at epoch \d+, batch \d+ of 8/);
  });

  it('refuses bad input before training starts', async () => {
    const { x, y } = blobs(20, 7);
    const m = small();
    const before = m.stateDict()['dense_1.weight'].data.slice();
    await expect(m.fit(x, y.subarray(0, 19), { verbose: 0 })).rejects.toThrow(/fit: y has 19 labels but x has 20 samples/);
    await expect(m.fit(x, Int32Array.from(y, (v) => v + 1), { verbose: 0 })).rejects.toThrow(/fit: y\[\d+\] = 3 is outside the model's 3 classes \[0, 2\]/);
    await expect(m.fit(x, Array.from(y, (v) => v + 0.5), { verbose: 0 })).rejects.toThrow(/must be an integer class label, got 0.5/);
    await expect(m.fit(x, new Float32Array(20) as never, { verbose: 0 })).rejects.toThrow(/y must be integer class labels/);
    await expect(m.fit(x, y, { batchSize: 0, verbose: 0 })).rejects.toThrow(/fit: batchSize must be a positive integer, got 0/);
    await expect(m.fit(x, y, { epochs: 1.5, verbose: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(m.fit(new Tensor(new Float32Array(0), [0, 4, 4, 1]), [], { verbose: 0 })).rejects.toThrow(ShapeError);
    const nan = new Tensor(x.data.slice(), x.shape);
    nan.data[16 * 3 + 5] = Number.NaN;
    await expect(m.fit(nan, y, { verbose: 0 })).rejects.toThrow(/fit: x holds NaN at sample 3 \(flat index 53\)/);
    await expect(m.fit(x, y, { earlyStopping: { patience: 1, monitor: 'valLoss' }, verbose: 0 })).rejects.toThrow(ValueError);
    expect(m.stateDict()['dense_1.weight'].data).toEqual(before);
  });

  it('trains a one-output model with sigmoid binary cross-entropy', async () => {
    const { x, y } = blobs(200, 8, 2);
    const m = sequential([layers.flatten(), layers.dense({ units: 1 })], { inputShape: [4, 4, 1] });
    await m.fit(x, y, { epochs: 10, batchSize: 20, optimizer: new Adam({ learningRate: 0.05 }), verbose: 0 });
    expect(m.evaluate(x, y).accuracy).toBeGreaterThan(0.95);
    const p = m.predict(x);
    expect(p.shape).toEqual([200, 1]);
    expect(p.data.every((v) => v > 0 && v < 1)).toBe(true);
  });
});
