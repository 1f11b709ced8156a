// Functional (graph) models: a stack written as a graph is the Sequential
// model, gradients through joins and fan-outs match finite differences on
// the reference backend, several inputs and outputs train with a loss per
// output, and the architecture, weights and moving statistics survive every
// checkpoint format and ONNX.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Adam, encodeOnnx, exportHdf5, exportNpz, importHdf5, importNpz, input, layers, loadModel, model, modelFromConfig, sequential, setBackend, Tensor, ValueError,
} from '../../lib/index.js';
import type { Functional } from '../../lib/models/functional.js';
import type { SymbolicTensor } from '../../lib/nn/layers/layer.js';
import { skipNative } from '../helpers/backends.js';
import { dot } from '../helpers/gradcheck.js';
import { randomTensor, rng } from '../helpers/random.js';

afterEach(() => setBackend(skipNative ? 'reference' : 'native'));

const same = (a: Tensor, b: Tensor) => a.size === b.size && a.data.every((v, i) => Object.is(v, b.data[i]));

/** conv → BN → ReLU → conv → BN, added to the block's input: a basic residual block. */
function residualBlock(x: SymbolicTensor, filters: number, bn: boolean, smooth: boolean): SymbolicTensor {
  const conv = (t: SymbolicTensor) => layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: !bn }).apply(t);
  const norm = (t: SymbolicTensor) => (bn ? layers.batchNormalization({ momentum: 0.9 }).apply(t) : t);
  const act = (t: SymbolicTensor) => (smooth ? layers.tanh() : layers.relu()).apply(t);
  const y = norm(conv(act(norm(conv(x)))));
  return act(layers.add().apply([x, y]));
}

/** stem conv → residual block → global average → Dense(4); smooth: tanh for ReLU, so that finite differences never step over a kink. */
function smallResnet(seed: number, bn = true, smooth = false): Functional {
  const x = input({ shape: [6, 6, 2], name: 'image' });
  const stem = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x);
  const block = residualBlock(stem, 3, bn, smooth);
  const out = layers.dense({ units: 4 }).apply(layers.globalAvgPool2d().apply(block));
  return model({ inputs: x, outputs: out, seed, name: 'small-resnet' });
}

describe('a stack written as a graph', () => {
  it('has the Sequential model\'s weights, outputs and training, number for number', async () => {
    const make = () => [
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPool2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 3 }),
    ];
    const seq = sequential(make(), { inputShape: [6, 6, 2], seed: 5 });
    let t: SymbolicTensor = input({ shape: [6, 6, 2] });
    const x0 = t;
    for (const l of make()) t = l.apply(t);
    const graph = model({ inputs: x0, outputs: t, seed: 5 });
    expect(graph.parameters().map((p) => p.value.shape)).toEqual(seq.parameters().map((p) => p.value.shape));
    seq.parameters().forEach((p, i) => expect(same(p.value, graph.parameters()[i].value)).toBe(true));
    const random = rng(1);
    const x = randomTensor(random, [10, 6, 6, 2]);
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 3);
    expect(same(seq.predictLogits(x), graph.predictLogits(x))).toBe(true);
    await seq.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, seed: 3 });
    await graph.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, seed: 3 });
    seq.parameters().forEach((p, i) => expect(same(p.value, graph.parameters()[i].value), p.name).toBe(true));
  });
});

describe('gradients through a residual graph (reference backend)', () => {
  it.each([
    ['without BatchNormalization', false],
    ['with BatchNormalization in training mode', true],
  ])('match central differences %s', (_label, bn) => {
    setBackend('reference');
    const net = smallResnet(11, bn as boolean, true);
    const random = rng(2);
    const x = randomTensor(random, [3, 6, 6, 2]);
    const r = randomTensor(random, [3, 4]);
    // loss = Σ logits · r; the stem's output feeds both the block and the add (a fan-out whose gradients sum).
    const loss = () => dot(net.forwardInPlace(x, true).data, r.data);
    net.forwardInPlace(x, true);
    net.backward(r);
    const params = net.parameters();
    const analytic = params.map((p) => Float32Array.from(p.grad.data));
    params.forEach((p, k) => {
      const v = p.value.data;
      const h = 1e-2;
      let scale = 0;
      const numeric = Array.from(v, (saved, i) => {
        v[i] = saved + h;
        const plus = loss();
        v[i] = saved - h;
        const minus = loss();
        v[i] = saved;
        const g = (plus - minus) / (Math.fround(saved + h) - Math.fround(saved - h));
        scale = Math.max(scale, Math.abs(g));
        return g;
      });
      // float32 activations: the step's truncation (O(h²)) and the loss's rounding over 2h, both near 1e-4 of the largest gradient.
      const tolerance = 1e-3 * Math.max(scale, 1);
      numeric.forEach((g, i) => expect(Math.abs(analytic[k][i] - g), `${p.name}[${i}]: ${analytic[k][i]} vs ${g}`).toBeLessThan(tolerance));
    });
  });
});

describe('BatchNormalization in a graph', () => {
  it('trains with batch statistics, updates the moving ones, and predicts with them', async () => {
    const net = smallResnet(4);
    const bn = net.layers.find((l) => l.kind === 'BatchNormalization')!;
    const [mean] = bn.stateTensors().filter((t) => t.name.endsWith('running_mean'));
    expect(Array.from(mean.value.data)).toEqual([0, 0, 0]);
    const random = rng(5);
    const x = randomTensor(random, [16, 6, 6, 2], 0, 2);
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 4);
    const before = net.predictLogits(x);
    await net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(mean.value.data.some((v) => v !== 0)).toBe(true);
    // Inference is deterministic (moving statistics, not the batch's): one sample alone gives what it gives in a batch.
    const all = net.predictLogits(x);
    const one = net.predictLogits(x.slice(0, 1));
    expect(Array.from(one.data)).toEqual(Array.from(all.data.subarray(0, 4)));
    expect(same(before, all)).toBe(false);
  });
});

describe('a graph of two inputs and two outputs', () => {
  function twoHeaded(seed: number): Functional {
    const image = input({ shape: [6, 6, 1], name: 'image' });
    const side = input({ shape: [3], name: 'side' });
    const features = layers.globalAvgPool2d().apply(layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(image));
    const joined = layers.concatenate().apply([features, layers.dense({ units: 8, activation: 'relu' }).apply(side)]);
    const cls = layers.dense({ units: 2, name: 'class' }).apply(joined);
    const value = layers.dense({ units: 1, name: 'value' }).apply(joined);
    return model({ inputs: [image, side], outputs: [cls, value], seed });
  }

  it('trains from the API with one loss per output, and both losses fall', async () => {
    const net = twoHeaded(3);
    expect(net.outputShapes).toEqual([[2], [1]]);
    const random = rng(9);
    const n = 128;
    const images = randomTensor(random, [n, 6, 6, 1], 0, 1);
    const side = randomTensor(random, [n, 3]);
    // The class: is the image brighter than average; the value: a linear function of the side vector.
    const labels = Int32Array.from({ length: n }, (_, s) => (images.data.subarray(s * 36, s * 36 + 36).reduce((a, b) => a + b, 0) > 18 ? 1 : 0));
    const values = new Tensor(Float32Array.from({ length: n }, (_, s) => side.data[s * 3] - 0.5 * side.data[s * 3 + 2]), [n, 1]);
    const history = await net.fitAll([images, side], [labels, values], { loss: ['softmaxCrossEntropy', 'meanSquaredError'], lossWeights: [1, 2], epochs: 30, batchSize: 16, optimizer: new Adam({ learningRate: 0.01 }) });
    const [first, last] = [history.outputLosses[0], history.outputLosses[history.outputLosses.length - 1]];
    expect(last[0]).toBeLessThan(first[0] * 0.9);
    expect(last[1]).toBeLessThan(first[1] * 0.2);
    expect(history.loss[history.loss.length - 1]).toBeCloseTo(last[0] + 2 * last[1], 10);
    const [probs, predicted] = net.forwardAll([images, side]);
    expect(probs.shape).toEqual([n, 2]);
    expect(predicted.shape).toEqual([n, 1]);
  });

  it('refuses the one-tensor calls, naming fitAll, and checks each input and target', async () => {
    const net = twoHeaded(1);
    const images = new Tensor(new Float32Array(4 * 36), [4, 6, 6, 1]);
    expect(() => net.predict(images)).toThrow(/has 2 input\(s\) and 2 output\(s\); use forwardAll and fitAll/);
    expect(() => net.forwardAll([images])).toThrow(/takes a list of 2 tensor\(s\) \(image, side\)/);
    expect(() => net.forwardAll([images, new Tensor(new Float32Array(12), [4, 3]).slice(0, 3)])).toThrow(/same number of samples/);
    const side = new Tensor(new Float32Array(12), [4, 3]);
    await expect(net.fitAll([images, side], [[0, 1, 0, 1], new Tensor(new Float32Array(8), [4, 2])], { loss: ['softmaxCrossEntropy', 'meanSquaredError'] })).rejects.toThrow(/ys\[1\] \(output 'value', mean squared error\) must be a tensor \[4, 1\], got \[4, 2\]/);
    await expect(net.fitAll([images, side], [[0, 1, 0, 1], side], { loss: ['softmaxCrossEntropy'] })).rejects.toThrow(/one loss per output \(2: class, value\)/);
  });
});

describe('a trained residual graph, saved and exported', () => {
  it('rebuilds from its config and reloads through safetensors, NPZ and HDF5 with identical predictions', async () => {
    const net = smallResnet(8);
    const random = rng(6);
    const x = randomTensor(random, [12, 6, 6, 2], 0, 1);
    await net.fit(x, Int32Array.from({ length: 12 }, (_, i) => i % 4), { epochs: 2, batchSize: 4, verbose: 0 });
    const want = net.predictLogits(x);
    const dir = mkdtempSync(join(tmpdir(), 'functional-'));
    const fresh = () => modelFromConfig(JSON.parse(JSON.stringify(net.config())));

    const rebuilt = fresh();
    rebuilt.loadStateDict(net.stateDict());
    expect(same(rebuilt.predictLogits(x), want)).toBe(true);

    net.save(join(dir, 'st'));
    const loaded = loadModel(join(dir, 'st'));
    expect(loaded.constructor.name).toBe('Functional');
    expect(same(loaded.predictLogits(x), want)).toBe(true);

    await exportNpz(net, join(dir, 'w.npz'));
    const fromNpz = fresh();
    await importNpz(fromNpz, join(dir, 'w.npz'));
    expect(same(fromNpz.predictLogits(x), want)).toBe(true);

    // Numbered keys, BatchNormalization's statistics under their layer's number.
    expect(await exportHdf5(net, join(dir, 'w.h5'))).toEqual(['W1', 'b1', 'W2', 'W3', 'b3', 'W4', 'W5', 'b5', 'W6', 'b6', 'running_mean3', 'running_var3', 'running_mean5', 'running_var5']);
    const fromH5 = fresh();
    await importHdf5(fromH5, join(dir, 'w.h5'));
    expect(same(fromH5.predictLogits(x), want)).toBe(true);
  });

  it('runs under onnxruntime with its logits (BatchNormalization with its moving statistics, Add, a fan-out)', async () => {
    const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
    const net = smallResnet(2);
    const random = rng(4);
    const x = randomTensor(random, [8, 6, 6, 2], 0, 1);
    await net.fit(x, Int32Array.from({ length: 8 }, (_, i) => i % 4), { epochs: 3, batchSize: 4, verbose: 0 });
    const session = await ort.InferenceSession.create(encodeOnnx(net));
    const { logits } = await session.run({ input: new ort.Tensor('float32', x.data, x.shape as number[]) });
    const ours = net.predictLogits(x).data;
    const theirs = logits.data as Float32Array;
    expect(theirs.length).toBe(ours.length);
    ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
  });

  it('prints a summary with what each layer is connected to', () => {
    const text = smallResnet(1).summary();
    expect(text).toMatch(/Connected to/);
    expect(text).toMatch(/add_1 \(Add\)\s+\(None, 6, 6, 3\)\s+0\s+conv2d_1, batchnormalization_2/);
    expect(() => model({ inputs: input({ shape: [2] }), outputs: input({ shape: [2] }) })).toThrow(ValueError);
  });
});

describe('graph edge cases', () => {
  it('an output that also feeds another layer, a one-unit sigmoid head folded into its loss, dropout off in inference', async () => {
    const x = input({ shape: [4] });
    const hidden = layers.dense({ units: 6, activation: 'relu' }).apply(x);
    const dropped = layers.dropout({ rate: 0.5 }).apply(hidden);
    const prob = layers.dense({ units: 1, activation: 'sigmoid' }).apply(dropped);
    const net = model({ inputs: x, outputs: [hidden, prob], seed: 2 });
    expect(net.outputShapes).toEqual([[6], [1]]);
    const random = rng(3);
    const xs = randomTensor(random, [32, 4]);
    const labels = Int32Array.from({ length: 32 }, (_, i) => (xs.data[i * 4] > 0 ? 1 : 0));
    const hist = await net.fitAll([xs], [new Tensor(new Float32Array(32 * 6), [32, 6]), labels], { loss: ['meanSquaredError', 'sigmoidBinaryCrossEntropy'], lossWeights: [0, 1], epochs: 20, optimizer: new Adam({ learningRate: 0.02 }) });
    expect(hist.outputLosses.at(-1)![1]).toBeLessThan(hist.outputLosses[0][1]);
    // Inference: no dropout, so the same input twice gives the same outputs; the sigmoid is applied.
    const [h1, p1] = net.forwardAll([xs]);
    const [h2, p2] = net.forwardAll([xs]);
    expect(same(h1, h2) && same(p1, p2)).toBe(true);
    expect(p1.data.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('a config naming a layer that does not exist is refused, naming both', () => {
    const config = smallResnet(1).config();
    const broken = { ...config, layers: config.layers.map((l, i) => (i === 3 ? { ...l, inbound: ['nowhere'] } : l)) };
    expect(() => modelFromConfig(broken)).toThrow(new RegExp(`layers\\[3\\] \\('${config.layers[3].name}'\\) takes 'nowhere', which no input or earlier layer is`));
    expect(() => modelFromConfig({ ...config, outputs: ['ghost'] })).toThrow(/output 'ghost' is no layer of the config/);
  });

  it('an input no output depends on, or an output from outside the inputs, is refused', () => {
    const a = input({ shape: [3], name: 'a' });
    const b = input({ shape: [3], name: 'b' });
    const y = layers.dense({ units: 2 }).apply(a);
    expect(() => model({ inputs: [a, b], outputs: y })).toThrow(/inputs\[1\] \('b'\) is not used by any output/);
    expect(() => model({ inputs: b, outputs: y })).toThrow(/depends on input 'a' \[3\], which is not in inputs/);
  });
});
