// Keras's and tfjs's ways of making a Sequential: model.add(layer) after an
// empty sequential(), inputShape (or batchInputShape) on the first layer,
// tfjs's sequential({layers}); each gives the model, weights and names that
// sequential([...], {inputShape}) gives.
import { describe, expect, it } from 'vitest';
import { layers, loadModel, modelFromConfig, sequential, ShapeError, tensor, ValueError } from '../../lib/index.js';
import type { Sequential } from '../../lib/models/sequential.js';
import { randomTensor, rng } from '../helpers/random.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const stack = (first: object = {}) => [
  layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', ...first }),
  layers.maxPool2d({ poolSize: 2 }),
  layers.batchNormalization(),
  layers.flatten(),
  layers.dense({ units: 8, activation: 'relu' }),
  layers.dense({ units: 3, activation: 'softmax' }),
];

function weightsOf(m: Sequential) {
  return m.weights().map((p) => [p.name, Array.from(p.value.data)]);
}

describe('Sequential, the Keras and tfjs ways', () => {
  const reference = sequential(stack(), { inputShape: [8, 8, 2], seed: 5 });
  const x = randomTensor(rng(3), [4, 8, 8, 2]);

  it('sequential() + add(), inputShape on the first layer: the same layers, names and weights', () => {
    const m = sequential([], { seed: 5 });
    expect(m.built).toBe(false);
    for (const layer of stack({ inputShape: [8, 8, 2] })) m.add(layer);
    expect(m.built).toBe(true);
    expect(m.layers.map((l) => l.name)).toEqual(reference.layers.map((l) => l.name));
    expect(weightsOf(m)).toEqual(weightsOf(reference));
    expect(m.summary()).toBe(reference.summary());
    expect(m.predict(x).data).toEqual(reference.predict(x).data);
  });

  it('add() before any shape is known builds at the first input, as sequential([...]) does', () => {
    const m = sequential(undefined, { seed: 5 });
    for (const layer of stack()) m.add(layer);
    expect(m.built).toBe(false);
    expect(m.predict(x).data).toEqual(reference.predict(x).data);
  });

  it("batchInputShape [null, ...], tfjs's sequential({layers}) and sequential({inputShape}) then add", () => {
    const a = sequential(stack({ batchInputShape: [null, 8, 8, 2] }), { seed: 5 });
    const b = sequential({ layers: stack(), inputShape: [8, 8, 2], seed: 5 });
    const c = sequential({ inputShape: [8, 8, 2], seed: 5 });
    stack().forEach((l) => c.add(l));
    for (const m of [a, b, c]) expect(weightsOf(m)).toEqual(weightsOf(reference));
  });

  it('trains, saves and reloads like any Sequential; the layer inputShape is not part of its saved config', async () => {
    const m = sequential({ seed: 1 });
    stack({ inputShape: [8, 8, 2] }).forEach((l) => m.add(l));
    const history = await m.fit(x, [0, 1, 2, 1], { epochs: 2, batchSize: 2, optimizer: 'sgd', verbose: 0 });
    expect(history.epochs.length).toBe(2);
    const config = JSON.stringify(m.config());
    expect(config).not.toContain('batchInputShape');
    expect(modelFromConfig(JSON.parse(config)).countParams()).toBe(m.countParams());
    const dir = mkdtempSync(join(tmpdir(), 'seq-add-'));
    m.save(dir);
    expect(loadModel(dir).predict(x).data).toEqual(m.predict(x).data);
  });

  it('adding after the final softmax un-folds it; the logits are then the new last layer', () => {
    const m = sequential([layers.flatten({ inputShape: [2, 2, 1] }), layers.dense({ units: 3 }), layers.softmax()], { seed: 2 });
    m.add(layers.dense({ units: 2 }));
    expect(m.outputShape).toEqual([2]);
    const y = m.predict(tensor(new Float32Array(8).fill(0.5), [2, 2, 2, 1]));
    expect(y.shape).toEqual([2, 2]);
  });

  it('refuses what Keras refuses, naming it', () => {
    const m = sequential();
    expect(() => m.add(42 as never)).toThrow(/sequential.add: layer is not a layer, got 42/);
    expect(() => m.build([4, 4, 1])).toThrow(/sequential: the model has no layers to build; add some with model.add\(layer\)/);
    expect(() => m.predict(x)).toThrow(ValueError);
    expect(() => layers.dense({ units: 2, inputShape: [0, 3] })).toThrow(/Dense: inputShape must be a non-empty list of positive integers/);
    expect(() => layers.dense({ units: 2, batchInputShape: [8] as never })).toThrow(/Dense: batchInputShape must be \[batch or null, \.\.\.one sample's shape\]/);
    expect(() => layers.dense({ units: 2, inputShape: [3], batchInputShape: [null, 3] })).toThrow(/give inputShape or batchInputShape, not both/);
    expect(() => sequential([layers.flatten({ inputShape: [4, 4, 1] })], { inputShape: [4, 4, 2] })).toThrow(ShapeError);
    expect(() => sequential([layers.flatten({ inputShape: [4, 4, 1] })], { inputShape: [4, 4, 2] })).toThrow(/inputShape \[4, 4, 2\] of the model and inputShape \[4, 4, 1\] of its first layer \(Flatten 'flatten_1'\) differ/);
    const owned = reference.layers[0];
    expect(() => sequential().add(owned)).toThrow(/the layer \(Conv2D 'conv2d_1'\) belongs to model 'sequential' already/);
    expect(() => (sequential as (...a: unknown[]) => unknown)({ layers: [] }, {})).toThrow(/give the options once/);
    const named = sequential([layers.dense({ units: 2, name: 'head', inputShape: [3] })]);
    expect(() => named.add(layers.dense({ units: 2, name: 'head' }))).toThrow(/two layers are named 'head'/);
  });
});
