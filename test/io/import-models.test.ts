// Models made by the real tools (Keras 3, TensorFlow.js 4.22, PyTorch 2.13;
// test/fixtures/import/make_*.{py,mjs} made them), imported into convkit:
// each must predict what its framework predicted on the same inputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx, layers, loadKerasModel, loadKerasWeights, loadLayersModel, loadOnnxModel, loadTorchStateDict, input, model, sequential, Tensor } from '../../lib/index.js';
import { randomTensor, rng } from '../helpers/random.js';

const fixtures = join(import.meta.dirname, '../fixtures/import');
const tmp = mkdtempSync(join(tmpdir(), 'convkit-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const json = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const keras = json('keras-outputs.json');
const tfjs = json('tfjs-outputs.json');
const torch = json('torch-outputs.json');

/** The largest difference from the framework's outputs. */
function maxError(got: Float32Array, want: number[]): number {
  expect(got.length).toBe(want.length);
  return want.reduce((m, w, i) => Math.max(m, Math.abs(got[i] - w)), 0);
}

const inputsOf = (r: { inputShape: number[]; x: number[] }) => new Tensor(Float32Array.from(r.x), [r.x.length / r.inputShape.reduce((a, b) => a * b, 1), ...r.inputShape]);

describe(`Keras ${keras.keras} models`, () => {
  for (const [file, record] of [['keras-seq.h5', keras.seq], ['keras-seq.keras', keras.seq], ['keras-res.h5', keras.res], ['keras-res.keras', keras.res]] as const) {
    it(`${file} predicts what Keras predicted, within 1e-4`, async () => {
      const net = await loadKerasModel(join(fixtures, file));
      expect(maxError(net.predict(inputsOf(record)).data, record.y)).toBeLessThan(1e-4);
    });
  }

  it('keeps the layer names, the architecture and the weights count of the Keras model', async () => {
    const net = await loadKerasModel(join(fixtures, 'keras-res.keras'));
    expect(net.layers.map((l) => l.name)).toEqual(expect.arrayContaining(['stem', 'stem_bn', 'stem_relu', 'branch', 'join', 'leaky', 'cat', 'avg', 'squeeze', 'gap', 'out']));
    // Keras's model.count_params() of the same model: conv 3·3·3·4, BN 4·4, conv 3·3·4·4+4, conv 1·1·8·5+5, dense 5·3+3.
    expect(net.weights().reduce((n, p) => n + p.value.size, 0)).toBe(108 + 16 + 148 + 45 + 18);
  });

  it('loads a .weights.h5 into a convkit model of the same architecture, whatever its layer names', async () => {
    const net = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [10, 10, 3] }),
      layers.batchNormalization(),
      layers.maxPool2d({ poolSize: 2 }),
      layers.conv2d({ filters: 6, kernelSize: [3, 2] }),
      layers.relu(),
      layers.flatten(),
      layers.dropout({ rate: 0.25 }),
      layers.dense({ units: 5, activation: 'softmax' }),
    ]);
    await loadKerasWeights(net, join(fixtures, 'keras-seq.weights.h5'));
    expect(maxError(net.predict(inputsOf(keras.seq)).data, keras.seq.y)).toBeLessThan(1e-4);
  });
});

describe(`TensorFlow.js ${tfjs.tfjs} LayersModels`, () => {
  for (const [dir, record] of [['tfjs-seq', tfjs.seq], ['tfjs-res', tfjs.res]] as const) {
    it(`${dir}/model.json predicts what TensorFlow.js predicted, within 1e-4`, async () => {
      const net = await loadLayersModel(`file://${join(fixtures, dir, 'model.json')}`);
      expect(maxError(net.predict(inputsOf(record)).data, record.y)).toBeLessThan(1e-4);
    });
  }
});

describe(`a PyTorch ${torch.torch} state_dict`, () => {
  const same = (names: [string, string, string, string] = ['conv1', 'bn1', 'conv2', 'fc']) =>
    sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 1, name: names[0], inputShape: [10, 10, 3] }),
      layers.batchNormalization({ epsilon: 1e-5, name: names[1] }),
      layers.relu(),
      layers.maxPool2d({ poolSize: 2 }),
      layers.conv2d({ filters: 6, kernelSize: [3, 2], activation: 'relu', name: names[2] }),
      layers.flatten(),
      layers.dense({ units: 5, name: names[3] }),
    ]);

  it('loads into the same architecture (OIHW → HWIO, the flatten order fixed) and gives PyTorch\'s outputs, within 1e-4', () => {
    const net = same();
    loadTorchStateDict(net, join(fixtures, 'torch-cnn.safetensors'));
    expect(maxError(net.predictLogits(inputsOf(torch)).data, torch.y)).toBeLessThan(1e-4);
  });

  it('matches layers by kind and order when the names differ, and by names when given', () => {
    const byOrder = same(['a', 'b', 'c', 'd']);
    loadTorchStateDict(byOrder, join(fixtures, 'torch-cnn.safetensors'));
    expect(maxError(byOrder.predictLogits(inputsOf(torch)).data, torch.y)).toBeLessThan(1e-4);
    const swapped = same(['a', 'b', 'c', 'd']);
    // Given the other way round, the shapes disagree and say so.
    expect(() => loadTorchStateDict(swapped, join(fixtures, 'torch-cnn.safetensors'), { names: { a: 'conv2', c: 'conv1' } })).toThrow(/'conv2.weight' has shape \[6, 4, 3, 2\] but Conv2D 'a' needs \[4, 3, 3, 3\]/);
  });

  it('refuses a state_dict of another architecture, naming what is left over', () => {
    const net = sequential([layers.conv2d({ filters: 4, kernelSize: 3, padding: 1, inputShape: [10, 10, 3] }), layers.flatten(), layers.dense({ units: 5 })]);
    expect(() => loadTorchStateDict(net, join(fixtures, 'torch-cnn.safetensors'))).toThrow(/2 Conv2d module\(s\) left \(conv1, conv2\) for 1 layer/);
  });

  it('does not read a pickle', () => {
    expect(() => loadTorchStateDict(same(), 'model.pt')).toThrow(/a PyTorch pickle, which runs code when read/);
  });
});

describe('ONNX models', () => {
  it(`torch.onnx.export of the PyTorch ${torch.torch} CNN (NCHW) predicts what PyTorch computed, within 1e-4`, () => {
    const net = loadOnnxModel(join(fixtures, 'torch-cnn.onnx'));
    expect(net.inputShape).toEqual([10, 10, 3]);
    expect(maxError(net.predictLogits(inputsOf(torch)).data, torch.y)).toBeLessThan(1e-4);
  });

  it('a convkit export (NHWC input, a Transpose before the convolutions) comes back with the same outputs', async () => {
    const x0 = input({ shape: [12, 12, 3] });
    const a = layers.relu().apply(layers.batchNormalization().apply(layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false }).apply(x0)));
    const b = layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same' }).apply(a);
    const joined = layers.maxPool2d({ poolSize: 2 }).apply(layers.leakyRelu({ alpha: 0.1 }).apply(layers.add().apply([a, b])));
    const both = layers.concatenate().apply([joined, layers.avgPool2d({ poolSize: 2 }).apply(a)]);
    const head = layers.dense({ units: 4 }).apply(layers.flatten().apply(layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, activation: 'tanh' }).apply(both)));
    const net = model({ inputs: x0, outputs: head, seed: 2 });
    await net.fit(randomTensor(rng(3), [16, 12, 12, 3]), Int32Array.from({ length: 16 }, (_, i) => i % 4), { epochs: 1, batchSize: 8, verbose: 0 });
    const file = join(tmp, 'resnet.onnx');
    await exportOnnx(net, file);
    const back = loadOnnxModel(file);
    const x = randomTensor(rng(4), [3, 12, 12, 3]);
    const want = net.predictLogits(x).data;
    expect(maxError(back.predictLogits(x).data, [...want])).toBeLessThan(1e-4);
  });
});
