// Transfer learning's parts: layer.trainable (Keras's semantics: frozen
// weights untouched by fit, a frozen BatchNormalization in inference mode),
// model.trainable, getLayer, and a trained body under a new head.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { input, layers, loadModel, model, sequential, ValueError } from '../../lib/index.js';
import { randomTensor, rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-freeze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const x = randomTensor(rng(7), [24, 8, 8, 1]);
const y = Int32Array.from({ length: 24 }, (_, i) => i % 3);

const cnn = () =>
  sequential([
    layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1], name: 'c1' }),
    layers.batchNormalization({ name: 'bn' }),
    layers.maxPool2d({ poolSize: 2 }),
    layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }),
    layers.flatten(),
    layers.dense({ units: 3, name: 'head' }),
  ], { seed: 5 });

const snapshot = (net: ReturnType<typeof cnn>) => Object.fromEntries(net.weights().map((p) => [p.name, p.value.data.slice()]));

describe('layer.trainable', () => {
  it('leaves frozen weights bit-identical through fit, and trains the rest', async () => {
    const net = cnn();
    for (const name of ['c1', 'bn', 'c2']) net.getLayer(name).trainable = false;
    const before = snapshot(net);
    await net.fit(x, y, { epochs: 2, batchSize: 8, optimizer: 'adam', learningRate: 0.01, verbose: 0 });
    const after = snapshot(net);
    for (const name of Object.keys(before)) {
      const frozen = !name.startsWith('head.');
      if (frozen) expect(after[name], name).toEqual(before[name]);
      else expect(after[name], name).not.toEqual(before[name]);
    }
  });

  it('runs a frozen BatchNormalization in inference mode: its moving statistics stay, its output is the inference one', async () => {
    const net = cnn();
    const bn = net.getLayer('bn');
    bn.trainable = false;
    const moving = net.weights().filter((p) => p.name.startsWith('bn.running')).map((p) => p.value.data.slice());
    const inference = net.forward(x).data.slice();
    expect(net.forward(x, { training: true }).data).toEqual(inference);
    await net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(net.weights().filter((p) => p.name.startsWith('bn.running')).map((p) => p.value.data)).toEqual(moving);
  });

  it('counts frozen weights as non-trainable (summary, trainableWeights, nonTrainableWeights)', () => {
    const net = cnn();
    const all = net.weights().reduce((n, p) => n + p.value.size, 0);
    const c1 = net.getLayer('c1');
    c1.trainable = false;
    const frozen = c1.parameters().reduce((n, p) => n + p.value.size, 0);
    expect(net.countParams()).toBe(all - frozen - 2 * 4); // and BatchNormalization's moving statistics
    expect(net.trainableWeights.map((p) => p.name)).not.toContain('c1.weight');
    expect(net.nonTrainableWeights.map((p) => p.name)).toEqual(['c1.weight', 'c1.bias', 'bn.running_mean', 'bn.running_var']);
    expect(net.summary()).toContain(`Non-trainable params: ${(frozen + 8).toLocaleString('en-US')}`);
  });

  it('model.trainable freezes and unfreezes every layer', () => {
    const net = cnn();
    net.trainable = false;
    expect(net.parameters()).toEqual([]);
    expect(net.trainable).toBe(false);
    net.trainable = true;
    expect(net.parameters().length).toBe(8);
    expect(() => {
      net.trainable = 'no' as never;
    }).toThrow(/trainable must be/);
  });

  it('is saved with the model and restored by loadModel', () => {
    const net = cnn();
    net.getLayer('c1').trainable = false;
    const file = net.save(join(dir, 'frozen.safetensors'));
    const back = loadModel(file);
    expect(back.layers.map((l) => l.trainable)).toEqual(net.layers.map((l) => l.trainable));
    expect(JSON.stringify(cnn().config())).not.toContain('trainable');
  });
});

describe('getLayer', () => {
  it('finds a layer by name or by index, as Keras and tfjs do', () => {
    const net = cnn();
    expect(net.getLayer('head').kind).toBe('Dense');
    expect(net.getLayer(0).name).toBe('c1');
    expect(net.getLayer(undefined, 1).name).toBe(net.layers[1].name);
  });

  it('names what it has when the name is unknown, and the range when the index is out of it', () => {
    const net = cnn();
    expect(() => net.getLayer('nope')).toThrow(ValueError);
    expect(() => net.getLayer('nope')).toThrow(/no layer is named 'nope'; the layers are c1, .*head/);
    expect(() => net.getLayer(99)).toThrow(/index must be an integer in \[0, \d+\], got 99/);
    expect(() => net.getLayer()).toThrow(/give a layer name or an index/);
  });
});

describe('a trained body under a new head (graph API)', () => {
  it('freezes the body of a functional model and trains only its new head', async () => {
    const inp = input({ shape: [8, 8, 1] });
    const body = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'body' });
    const features = layers.globalAvgPool2d().apply(body.apply(inp));
    const net = model({ inputs: inp, outputs: layers.dense({ units: 3, name: 'new_head' }).apply(features), seed: 2 });
    net.getLayer('body').trainable = false;
    const before = net.getLayer('body').parameters().map((p) => p.value.data.slice());
    const headBefore = net.getLayer('new_head').parameters().map((p) => p.value.data.slice());
    await net.fit(x, y, { epochs: 2, batchSize: 8, learningRate: 0.1, verbose: 0 });
    expect(net.getLayer('body').parameters().map((p) => p.value.data)).toEqual(before);
    expect(net.getLayer('new_head').parameters().map((p) => p.value.data)).not.toEqual(headBefore);
  });
});

describe('parameter groups (PyTorch\'s param_groups)', () => {
  it('trains a group at its own rate; a group at the base rate changes nothing; groups are checked and saved', async () => {
    const { SGD, Adam, optimizerFromConfig } = await import('../../lib/index.js');
    const run = async (groups?: { layers: string[]; learningRate: number }[]) => {
      const net = cnn();
      await net.fit(x, y, { epochs: 1, batchSize: 8, optimizer: new SGD({ learningRate: 0.05, ...(groups ? { parameterGroups: groups } : {}) }), verbose: 0 });
      return snapshot(net);
    };
    const plain = await run();
    const same = await run([{ layers: ['head'], learningRate: 0.05 }]);
    expect(same).toEqual(plain);
    const slowHead = await run([{ layers: ['head'], learningRate: 0.005 }]);
    const start = snapshot(cnn());
    // At a tenth of the rate the head moves much less far (not exactly a tenth: the batches after the first see other gradients).
    const moved = (a: Record<string, Float32Array>, k: string) => a[k].reduce((s, v, i) => s + Math.abs(v - start[k][i]), 0);
    expect(moved(slowHead, 'head.weight')).toBeLessThan(0.3 * moved(plain, 'head.weight'));
    expect(() => new SGD({ learningRate: 0.1, parameterGroups: [{ layers: ['a'], learningRate: 0.1 }, { layers: ['a'], learningRate: 1 }] })).toThrow(/layer 'a' is in two parameter groups/);
    expect(() => new Adam({ parameterGroups: [{ layers: [], learningRate: 0.1 }] })).toThrow(/parameterGroups\[0\].layers must be a non-empty list/);
    const saved = new Adam({ learningRate: 0.01, parameterGroups: [{ layers: ['head'], learningRate: 0.1 }] }).config();
    expect(optimizerFromConfig(saved).config()).toEqual(saved);
  });
});

describe("a trained model's body under a new head, Keras's way (layer.output, model.input)", () => {
  it('builds a new functional model on a Sequential\'s layers: weights shared, the body frozen and untouched, the head trained', async () => {
    const base = cnn();
    await base.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const trained = snapshot(base);
    const features = base.getLayer('c2').output;
    expect(features.shape).toEqual([4, 4, 6]);
    const head = layers.dense({ units: 2, name: 'new_head' }).apply(layers.globalAvgPool2d().apply(features));
    const net = model({ inputs: base.input, outputs: head, seed: 9 });
    // Shared, not copied or rebuilt: the new model computes with the trained weights.
    expect(net.getLayer('c1')).toBe(base.getLayer('c1'));
    expect(Object.fromEntries(net.weights().filter((p) => !p.name.startsWith('new_head')).map((p) => [p.name, p.value.data]))).toEqual(Object.fromEntries(Object.entries(trained).filter(([k]) => !k.startsWith('head'))));
    base.trainable = false;
    const binary = Int32Array.from(y, (v) => v % 2);
    const before = net.getLayer('new_head').parameters().map((p) => p.value.data.slice());
    await net.fit(x, binary, { epochs: 2, batchSize: 8, learningRate: 0.05, verbose: 0 });
    expect(snapshot(base)).toEqual(trained);
    expect(net.getLayer('new_head').parameters().map((p) => p.value.data)).not.toEqual(before);
    // As in Keras, a Conv2D's output is after its activation: c2's ReLU comes along, once.
    expect(net.layers.map((l) => l.kind)).toEqual(['Conv2D', 'ReLU', 'BatchNormalization', 'MaxPool2D', 'Conv2D', 'ReLU', 'GlobalAvgPool2D', 'Dense']);
    expect(base.predict(x).shape).toEqual([24, 3]);
  });

  it('builds on a functional model\'s output too, and says when a layer is in no graph', () => {
    const inp = input({ shape: [8, 8, 1] });
    const body = model({ inputs: inp, outputs: layers.flatten().apply(layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh', name: 'feat' }).apply(inp)) });
    const probe = body.forward(x);
    const net = model({ inputs: body.input, outputs: layers.dense({ units: 3 }).apply(body.output as never) });
    expect(net.layers.filter((l) => l.kind === 'Tanh').length).toBe(1);
    expect(net.inputOf(x, net.layers.at(-1)!).data).toEqual(probe.data);
    expect(() => layers.dense({ units: 2 }).output).toThrow(/Dense.output: the layer is in no graph yet/);
  });
});
