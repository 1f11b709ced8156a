// What users coming from Keras, TensorFlow.js and PyTorch type: each either
// works as they meant or is refused with a message that names the function,
// the option and the way to say it. A property test: any unknown key on any
// public options object throws, naming the key.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Adam, DTypeError, data, exportHdf5, modelCheckpoint, exportNpz, exportOnnx, importNpz, layers, loadModel, ops, SGD, sequential, stepDecay, cosineDecay, multiStepDecay, Tensor, tensor, ValueError, zeros, zooModel,
} from '../../lib/index.js';
import type { Layer } from '../../lib/nn/layers/layer.js';
import { rng } from '../helpers/random.js';

function blobs(n: number, seed: number, classes = 3) {
  const random = rng(seed);
  const x = new Float32Array(n * 16);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < 16; j++) x[i * 16 + j] = (random() - 0.5) * 0.5 + (j % classes === i % classes ? 1 : 0);
  }
  return { x: new Tensor(x, [n, 4, 4, 1]), y };
}

const small = (extra: Layer[] = [], seed = 0) =>
  sequential([layers.conv2d({ filters: 4, kernelSize: 3, padding: 1 }), layers.relu(), layers.flatten(), layers.dense({ units: 3 }), ...extra], { inputShape: [4, 4, 1], seed });

describe('one name for one thing: stride and strides, kernel and poolSize', () => {
  it('a layer takes stride as strides, an op takes strides as stride', () => {
    const m = sequential([layers.conv2d({ filters: 2, kernelSize: 3, stride: 2, padding: 1 })], { inputShape: [8, 8, 1] });
    expect(m.outputShape).toEqual([4, 4, 2]);
    const x = zeros([1, 8, 8, 1]);
    const w = zeros([3, 3, 1, 2]);
    expect(ops.conv2d(x, w, null, { strides: 2, padding: 1 }).shape).toEqual([1, 4, 4, 2]);
    expect(ops.maxPool2d(x, { poolSize: 4 }).shape).toEqual([1, 2, 2, 1]);
    expect(sequential([layers.maxPool2d({ poolSize: 2, stride: 1 })], { inputShape: [8, 8, 1] }).outputShape).toEqual([7, 7, 1]);
  });

  it('both spellings with different values are refused', () => {
    expect(() => layers.conv2d({ filters: 2, kernelSize: 3, stride: 2, strides: 1 })).toThrow(/Conv2D: 'strides' and 'stride' are the same option, given twice with different values/);
    expect(() => ops.conv2d(zeros([1, 4, 4, 1]), zeros([3, 3, 1, 1]), null, { stride: 1, strides: 2 })).toThrow(/conv2d: 'stride' and 'strides' are the same option/);
  });
});

describe('Keras spellings', () => {
  it("activation: 'relu' on conv2d and dense adds the ReLU (and it is fused into the native blocks)", () => {
    const m = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 1, activation: 'relu' }), layers.maxPool2d({ poolSize: 2 }),
      layers.flatten(), layers.dense({ units: 5, activation: 'relu' }), layers.dense({ units: 3 }),
    ], { inputShape: [4, 4, 1] });
    expect(m.layers.map((l) => l.kind)).toEqual(['Conv2D', 'ReLU', 'MaxPool2D', 'Flatten', 'Dense', 'ReLU', 'Dense']);
    const again = sequential([layers.conv2d({ filters: 4, kernelSize: 3, padding: 1 }), layers.relu(), layers.maxPool2d({ poolSize: 2 }), layers.flatten(), layers.dense({ units: 5 }), layers.relu(), layers.dense({ units: 3 })], { inputShape: [4, 4, 1] });
    const x = blobs(6, 1).x;
    expect(m.predictLogits(x).data).toEqual(again.predictLogits(x).data);
    // The config holds the ReLU as a layer: a checkpoint rebuilds the same model, not one with two ReLUs.
    const dir = mkdtempSync(join(tmpdir(), 'act-'));
    const back = loadModel(m.save(join(dir, 'm.safetensors')));
    expect(back.layers.map((l) => l.kind)).toEqual(m.layers.map((l) => l.kind));
    expect(() => layers.dense({ units: 3, activation: 'leaky_relu' as never })).toThrow(/Dense: activation must be one of .*, got 'leaky_relu' \(string\); did you mean 'leakyRelu'\?/);
  });

  it('misspelt and foreign options are refused with the nearest known one', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => layers.maxPool2d({ pool_size: 4 } as never), /MaxPool2D: unknown option 'pool_size'; did you mean 'poolSize'\?/],
      [() => layers.conv2d({ filters: 2, kernel_size: 3 } as never), /Conv2D: unknown option 'kernel_size'; did you mean 'kernelSize'\?/],
      [() => layers.dense({ units: 2, useBias: 'no' as never }), /Dense: useBias must be true or false, got 'no' \(string\)/],
      [() => new Adam({ lr: 0.1 } as never), /Adam: unknown option 'lr'; did you mean 'learningRate'\?/],
      [() => new SGD({ nesterow: true } as never), /SGD: unknown option 'nesterow'; did you mean 'nesterov'\?/],
      [() => new Adam({ schedule: 0.5 as never }), /Adam: schedule must be a function of the iteration giving a rate multiplier/],
      [() => stepDecay({ every: 10, factor: 0.5, steps: 3 } as never), /stepDecay: unknown option 'steps'/],
      [() => layers.dropout({ p: 0.5 } as never), /Dropout: unknown option 'p'; did you mean 'rate'\?/],
      [() => layers.leakyRelu({ negative_slope: 0.2 } as never), /LeakyReLU: unknown option 'negative_slope'; did you mean 'alpha'\?/],
      [() => sequential([layers.flatten()], { input_shape: [2] } as never), /sequential: unknown option 'input_shape'; did you mean 'inputShape'\?/],
      [() => ops.maxPool2d(zeros([1, 4, 4, 1]), { kernel: 2, pad: 1 } as never), /maxPool2d: unknown option 'pad'; did you mean 'padding'\?/],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(ValueError);
      expect(run).toThrow(message);
    }
  });

  it('fit: epoch → epochs, validationSplit, Keras monitor names, initialEpoch', async () => {
    const { x, y } = blobs(60, 2);
    await expect(small().fit(x, y, { epoch: 3 } as never)).rejects.toThrow(/fit: unknown option 'epoch'; did you mean 'epochs'\?/);
    await expect(small().fit(x, y, { initialEpoch: -3, verbose: 0 })).rejects.toThrow(/fit: initialEpoch must be an integer in \[0, 1\], got -3/);
    await expect(small().fit(x, y, { verbose: 0, optimizer: new Adam(), learningRate: 0.1 })).rejects.toThrow(/fit: learningRate is given twice/);
    await expect(small().fit(x, y, { verbose: 0, earlyStopping: { patience: 1, monitor: 'val_los' as never }, validationSplit: 0.2 })).rejects.toThrow(/monitor must be one of .*did you mean 'val(_l|L)oss'\?/);
    const h = await small().fit(x, y, { epochs: 2, verbose: 0, validationSplit: 0.2 });
    expect(h.valLoss).toHaveLength(2);
    await expect(small().fit(x, y, { verbose: 0, validationSplit: 0.2, validation: 0.1 })).rejects.toThrow(/give one of validation, validationSplit and validationData/);
  });

  it("earlyStopping on 'val_loss' watches the validation loss (and keeps training while it falls)", async () => {
    const { x, y } = blobs(120, 3);
    const h = await small().fit(x, y, { epochs: 6, batchSize: 16, verbose: 0, optimizer: new Adam({ learningRate: 0.01 }), validationSplit: 0.25, earlyStopping: { patience: 2, monitor: 'val_loss' } });
    // The validation loss keeps falling on this separable problem: no early stop.
    expect(h.valLoss[5]).toBeLessThan(h.valLoss[0]);
    expect(h.stoppedEarly).toBe(false);
    expect(h.loss).toHaveLength(6);
  });
});

describe('modelCheckpoint', () => {
  it('keeps the best epoch by the validation loss (Keras names too)', async () => {
    const { x, y } = blobs(90, 9);
    const m = small();
    const path = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'best.safetensors');
    const checkpoint = modelCheckpoint(m, { path, monitor: 'val_loss' });
    const h = await m.fit(x, y, { epochs: 4, batchSize: 15, verbose: 0, validationSplit: 0.2, callbacks: checkpoint, optimizer: new Adam({ learningRate: 0.05 }) });
    const bestEpoch = h.valLoss.indexOf(Math.min(...h.valLoss)); // from 0, as Keras counts
    expect(checkpoint.best?.epoch).toBe(bestEpoch);
    expect(loadModel(path).evaluate(h.epochs.length ? x : x, y).loss).toBeGreaterThan(0);
    expect(() => modelCheckpoint(m, { path, monitr: 'loss' } as never)).toThrow(/modelCheckpoint: unknown option 'monitr'; did you mean 'monitor'\?/);
  });
});

describe('a final softmax before the softmax cross-entropy is applied once', () => {
  it('trains as the model without it, and predict gives the same probabilities', async () => {
    const { x, y } = blobs(90, 4);
    const plain = small([], 3);
    const withSoftmax = small([layers.softmax()], 3);
    const options = { epochs: 2, batchSize: 15, verbose: 0 as const, seed: 1 };
    await plain.fit(x, y, options);
    await withSoftmax.fit(x, y, options);
    expect(withSoftmax.stateDict()['dense_1.weight'].data).toEqual(plain.stateDict()['dense_1.weight'].data);
    expect(withSoftmax.predict(x).data).toEqual(plain.predict(x).data);
    expect(withSoftmax.evaluate(x, y).loss).toBeCloseTo(plain.evaluate(x, y).loss, 6);
    // forward() runs every layer, the softmax included.
    const out = withSoftmax.forward(x.slice(0, 1));
    expect(out.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(() => sequential([layers.flatten(), layers.dense({ units: 1 }), layers.softmax()], { inputShape: [4, 4, 1] })).toThrow(/a final softmax over 1 output is always 1/);
  });
});

describe('NaN and Inf at inference', () => {
  it('predict, predictClasses, evaluate refuse them naming the sample, unless allowed', () => {
    const m = small();
    const { x, y } = blobs(4, 5);
    x.data[2 * 16 + 3] = NaN;
    for (const [fn, run] of [
      ['predict', () => m.predict(x)], ['predictClasses', () => m.predictClasses(x)], ['predictLogits', () => m.predictLogits(x)], ['evaluate', () => m.evaluate(x, y)],
    ] as const) {
      expect(run).toThrow(new RegExp(`^${fn}: x holds NaN at sample 2`));
    }
    expect(m.predict(x, { allowNonFinite: true }).shape).toEqual([4, 3]);
  });
});

describe('consistency', () => {
  it('labels as any integer array or Buffer, in fit, evaluate and trainPass', async () => {
    const { x, y } = blobs(30, 6);
    const m = small();
    for (const labels of [y, Uint8Array.from(y), Buffer.from(Uint8Array.from(y)), Uint16Array.from(y), Array.from(y), BigInt64Array.from(Array.from(y), BigInt)]) {
      expect(m.evaluate(x, labels as never).accuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(m.trainPass(x, labels as never).loss)).toBe(true);
    }
    await m.fit(x, Buffer.from(Uint8Array.from(y)), { verbose: 0 });
    expect(() => m.evaluate(x, Float32Array.from(y) as never)).toThrow(DTypeError);
  });

  it('model.save(dir) writes dir/model.safetensors, creating the folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'save-'));
    const file = small().save(join(root, 'runs', 'mnist'));
    expect(file).toBe(join(root, 'runs', 'mnist', 'model.safetensors'));
    expect(existsSync(file)).toBe(true);
    expect(loadModel(join(root, 'runs', 'mnist')).countParams()).toBe(small().countParams());
  });

  it('Tensor.slice takes a batch of rows as a view', () => {
    const t = tensor([0, 1, 2, 3, 4, 5, 6, 7], [4, 2]);
    expect(Array.from(t.slice(1, 3).data)).toEqual([2, 3, 4, 5]);
    expect(t.slice(-1).shape).toEqual([1, 2]);
    expect(t.slice(3, 1).shape).toEqual([0, 2]);
    t.slice(0, 1).data[0] = 9;
    expect(t.data[0]).toBe(9);
    expect(() => t.slice(0.5)).toThrow(/slice: start must be an integer/);
  });

  it('a schedule that returns NaN is named at the step', () => {
    const opt = new Adam({ schedule: () => NaN });
    const m = small();
    m.trainPass(blobs(3, 7).x, [0, 1, 2]);
    expect(() => opt.step(m.parameters())).toThrow(/Adam: schedule\(0\) returned NaN/);
  });

  it('a layer object belongs to one model', () => {
    const shared = layers.dense({ units: 3 });
    sequential([layers.flatten(), shared], { inputShape: [2, 2, 1], name: 'first' });
    expect(() => sequential([layers.flatten(), shared], { inputShape: [2, 2, 1] })).toThrow(/sequential: layers\[1\] \(Dense 'dense_1'\) belongs to model 'first' already; make a new layer for each model/);
  });

  it('a chain of 17 conv → ReLU → pool blocks runs on every backend', () => {
    const blocks = Array.from({ length: 17 }, () => [layers.conv2d({ filters: 2, kernelSize: 1 }), layers.relu(), layers.maxPool2d({ poolSize: 1 })]).flat();
    const m = sequential([...blocks, layers.flatten(), layers.dense({ units: 2 })], { inputShape: [2, 2, 1], seed: 3 });
    const { loss } = m.trainPass(new Tensor(new Float32Array(2 * 4).fill(0.5), [2, 2, 2, 1]), [0, 1]);
    expect(Number.isFinite(loss)).toBe(true);
  });
});

/** Every public options object, with one valid call; the property adds a key that it does not know. */
const OPTION_TAKERS: [string, (options: Record<string, unknown>) => unknown][] = [
  ['Conv2D', (o) => layers.conv2d({ filters: 1, kernelSize: 1, ...o })],
  ['Dense', (o) => layers.dense({ units: 1, ...o })],
  ['MaxPool2D', (o) => layers.maxPool2d(o)],
  ['AvgPool2D', (o) => layers.avgPool2d(o)],
  ['GlobalAvgPool2D', (o) => layers.globalAvgPool2d(o)],
  ['ReLU', (o) => layers.relu(o)],
  ['LeakyReLU', (o) => layers.leakyRelu(o)],
  ['Sigmoid', (o) => layers.sigmoid(o)],
  ['Tanh', (o) => layers.tanh(o)],
  ['Softmax', (o) => layers.softmax(o)],
  ['Flatten', (o) => layers.flatten(o)],
  ['Dropout', (o) => layers.dropout({ rate: 0.1, ...o })],
  ['sequential', (o) => sequential([layers.flatten()], o)],
  ['SGD', (o) => new SGD(o)],
  ['Adam', (o) => new Adam(o)],
  ['stepDecay', (o) => stepDecay({ every: 1, factor: 0.5, ...o })],
  ['cosineDecay', (o) => cosineDecay({ decaySteps: 4, ...o })],
  ['multiStepDecay', (o) => multiStepDecay({ milestones: [2], ...o })],
  ['conv2d', (o) => ops.conv2d(zeros([1, 2, 2, 1]), zeros([1, 1, 1, 1]), null, o)],
  ['conv2dBackward', (o) => ops.conv2dBackward(zeros([1, 2, 2, 1]), zeros([1, 2, 2, 1]), zeros([1, 1, 1, 1]), o)],
  ['maxPool2d', (o) => ops.maxPool2d(zeros([1, 2, 2, 1]), { kernel: 1, ...o })],
  ['avgPool2d', (o) => ops.avgPool2d(zeros([1, 2, 2, 1]), { kernel: 1, ...o })],
  ['predict', (o) => small().predict(zeros([1, 4, 4, 1]), o)],
  ['predictClasses', (o) => small().predictClasses(zeros([1, 4, 4, 1]), o)],
  ['predictLogits', (o) => small().predictLogits(zeros([1, 4, 4, 1]), o)],
  ['evaluate', (o) => small().evaluate(zeros([1, 4, 4, 1]), [0], o)],
  ['forward', (o) => small().forward(zeros([1, 4, 4, 1]), o)],
  ['miniBatches', (o) => data.miniBatches(zeros([2, 1]), [0, 1], 1, o)],
  ['zooModel', (o) => zooModel('mlp-30', o)],
  ['split', (o) => data.split(zeros([4, 1]), [0, 1, 0, 1], [0.5, 0.5], o)],
  ['encodeNpz', (o) => data.encodeNpz({ a: { data: new Float32Array(1), shape: [1] } }, o)],
  ['parseCsv', (o) => data.parseCsv('1,2\n', o)],
  ['loadStateDict', (o) => small().loadStateDict(small().stateDict(), o)],
];

describe('unknown options', () => {
  it('any unknown key on any public options object throws, naming the key', () => {
    const known = new Set(['name', 'filters', 'kernelSize', 'strides', 'stride', 'padding', 'useBias', 'kernelInitializer', 'activation', 'units', 'poolSize', 'kernel', 'alpha', 'rate', 'inputShape', 'seed', 'learningRate', 'momentum', 'weightDecay', 'schedule', 'beta1', 'beta2', 'epsilon', 'every', 'factor', 'batchSize', 'loss', 'allowNonFinite', 'training', 'shuffle', 'constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']);
    fc.assert(
      fc.property(fc.constantFrom(...OPTION_TAKERS), fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k)), ([, call], key) => {
        expect(() => call({ [key]: 1 })).toThrow(`unknown option '${key}'`);
      }),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it('the file functions and loadDataset refuse unknown keys (as rejected promises)', async () => {
    const m = zooModel('mlp-30');
    const file = join(mkdtempSync(join(tmpdir(), 'opts-')), 'm');
    await expect(exportNpz(m, `${file}.npz`, { name: 'course' } as never)).rejects.toThrow(/exportNpz: unknown option 'name'; did you mean 'names'\?/);
    await expect(importNpz(m, `${file}.npz`, { nmes: 'course' } as never)).rejects.toThrow(/importNpz: unknown option 'nmes'; did you mean 'names'\?/);
    await expect(exportHdf5(m, `${file}.h5`, { names: 'numbered', compression: 9 } as never)).rejects.toThrow(/exportHdf5: unknown option 'compression'/);
    await expect(data.loadDataset('mnist', { data_dir: '/x' } as never)).rejects.toThrow(/loadDataset: unknown option 'data_dir'; did you mean 'dataDir'\?/);
    expect(exportOnnx(m, `${file}.onnx`)).toBeInstanceOf(Promise);
  });

  it('fit and its nested options refuse unknown keys too', async () => {
    const { x, y } = blobs(6, 8);
    await expect(small().fit(x, y, { verbose: 0, earlyStopping: { patience: 1, restore_best_weights: true } as never })).rejects.toThrow(/fit: unknown option 'restore_best_weights'; did you mean 'restoreBestWeights'\?/);
    await expect(small().fit(x, y, { verbose: 0, callbacks: { onEpochEnded: () => {} } as never })).rejects.toThrow(/fit: unknown option 'onEpochEnded'; did you mean 'onEpochEnd'\?/);
  });
});
