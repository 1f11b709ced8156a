// Keras's compile/fit/evaluate: the optimizer and loss that compile names
// are what fit and evaluate use (the optimizer one object across fit calls),
// under Keras's and tfjs's loss and metric names; fit's own options win.
import { describe, expect, it } from 'vitest';
import { Adam, layers, sequential, SGD, Tensor, ValueError } from '../../lib/index.js';
import { randomTensor, rng } from '../helpers/random.js';

const make = () => sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units: 3, activation: 'softmax' })], { seed: 3 });
const x = randomTensor(rng(1), [12, 4, 4, 1]);
const y = Int32Array.from({ length: 12 }, (_, i) => i % 3);

describe('model.compile', () => {
  it("fit after compile trains as fit with the same options does; the optimizer's state carries over", async () => {
    const a = make();
    a.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const b = make();
    const adam = new Adam();
    const ha = [await a.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, shuffle: false }), await a.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, shuffle: false })];
    const hb = [await b.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, shuffle: false, optimizer: adam }), await b.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, shuffle: false, optimizer: adam })];
    expect(ha.map((h) => h.epochs.map((e) => e.loss))).toEqual(hb.map((h) => h.epochs.map((e) => e.loss)));
    expect(a.weights().map((p) => Array.from(p.value.data))).toEqual(b.weights().map((p) => Array.from(p.value.data)));
    expect(adam.iterations).toBe(9);
    expect(a.evaluate(x, y)).toEqual(b.evaluate(x, y));
  });

  it("fit's own optimizer wins over the compiled one", async () => {
    const compiledSgd = new SGD({ learningRate: 0.5 });
    const m = make().compile({ optimizer: compiledSgd, loss: 'sparse_categorical_crossentropy' });
    const own = new SGD({ learningRate: 0.1 });
    await m.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, optimizer: own });
    expect([own.iterations, compiledSgd.iterations]).toEqual([3, 0]);
    await m.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    expect(compiledSgd.iterations).toBe(3);
  });

  it('a binary model takes binaryCrossentropy', async () => {
    const m = sequential([layers.flatten({ inputShape: [4, 4, 1] }), layers.dense({ units: 1, activation: 'sigmoid' })], { seed: 1 });
    m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['binary_accuracy'] });
    const h = await m.fit(x, y.map((v) => v % 2), { epochs: 1, batchSize: 4, verbose: 0 });
    expect(Number.isFinite(h.epochs[0].loss)).toBe(true);
  });

  it('refuses what it cannot honour, by name', () => {
    const m = make();
    expect(() => m.compile(undefined as never)).toThrow(/compile: options \{optimizer, loss\?, metrics\?\} are required/);
    expect(() => m.compile({ loss: 'sparseCategoricalCrossentropy' } as never)).toThrow(/compile: optimizer is required/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'meanAbsoluteErr' })).toThrow(/compile: loss must be one of .*did you mean 'meanAbsoluteError'\?/);
    expect(() => m.compile({ optimizer: 'adam', metrics: ['precision'] })).toThrow(/compile: metric 'precision' is not one convkit computes/);
    expect(() => m.compile({ optimizer: 'adam', metrics: 'accuracy' as never })).toThrow(/metrics must be a list/);
    expect(() => m.compile({ optimizer: 'rmsprops' })).toThrow(ValueError);
    expect(() => m.compile({ optimizer: 'adam', lossWeights: [1] } as never)).toThrow(/compile: unknown option 'lossWeights'/);
    expect(() => sequential([layers.dense({ units: 2 })]).compile({ optimizer: 'adam' })).toThrow(/build the model first/);
  });
});

describe('validationSplit', () => {
  it("holds out the last fraction as given, as Keras and tfjs do (validation: F draws at random)", async () => {
    const lastRows = { x: new Tensor(x.data.slice(9 * 16), [3, 4, 4, 1]), y: y.slice(9) };
    const a = make();
    const ha = await a.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, seed: 2, validationSplit: 0.25 });
    const b = make();
    const hb = await b.fit(new Tensor(x.data.slice(0, 9 * 16), [9, 4, 4, 1]), y.slice(0, 9), { epochs: 1, batchSize: 4, verbose: 0, seed: 2, validationData: lastRows });
    expect(ha.epochs[0].valLoss).toBeDefined();
    expect(ha.epochs[0].valLoss).toBe(hb.epochs[0].valLoss);
    expect(ha.epochs[0].loss).toBe(hb.epochs[0].loss);
    await expect(make().fit(x, y, { verbose: 0, validationSplit: 0.95 })).rejects.toThrow(/a validationSplit of 0.95 leaves an empty part of 12 samples/);
    await expect(make().fit(x, y, { verbose: 0, validationSplit: 1 })).rejects.toThrow(/validationSplit must be a fraction in \(0, 1\), got 1/);
  });
});
