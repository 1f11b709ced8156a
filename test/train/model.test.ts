// Layers and Sequential: gradients through the model equal the functional
// ops' gradients; summary, state dicts and configs behave as documented.
import { describe, expect, it } from 'vitest';
import { DTypeError, layers, modelFromConfig, ops, sequential, ShapeError, Tensor, ValueError, zooModel, ZOO_NAMES } from '../../lib/index.js';
import { setBackend } from '../../lib/backend/select.js';
import { randomTensor, rng } from '../helpers/random.js';
import { BACKENDS } from '../helpers/backends.js';

describe('Sequential', () => {
  it('back-propagates exactly what the functional ops compute', () => {
    setBackend('reference');
    const model = sequential(
      [layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: [1, 2], padding: 1 }), layers.relu(), layers.maxPool2d({ poolSize: 2 }), layers.flatten(), layers.dense({ units: 4 })],
      { inputShape: [6, 7, 2], seed: 3 },
    );
    const x = randomTensor(rng(1), [2, 6, 7, 2]);
    const [conv, , , , fc] = model.layers as [layers.Conv2D, unknown, unknown, unknown, layers.Dense];
    const logits = model.forwardInPlace(x, true);
    const dy = randomTensor(rng(2), [2, 4]);
    model.backward(dy);

    const c = ops.conv2d(x, conv.weight.value, conv.bias!.value, { stride: [1, 2], padding: 1 });
    const a = ops.relu(c);
    const p = ops.maxPool2d(a, { kernel: 2 });
    const f = ops.flatten(p);
    const y = ops.dense(f, fc.weight.value, fc.bias!.value);
    expect(Array.from(logits.data)).toEqual(Array.from(y.data));
    const dfc = ops.denseBackward(dy, f, fc.weight.value);
    const dconv = ops.conv2dBackward(ops.reluBackward(ops.maxPool2dBackward(ops.unflatten(dfc.dx, p.shape), a, { kernel: 2 }), c), x, conv.weight.value, { stride: [1, 2], padding: 1 });
    expect(Array.from(fc.weight.grad.data)).toEqual(Array.from(dfc.dw.data));
    expect(Array.from(fc.bias!.grad.data)).toEqual(Array.from(dfc.db.data));
    expect(Array.from(conv.weight.grad.data)).toEqual(Array.from(dconv.dw.data));
    expect(Array.from(conv.bias!.grad.data)).toEqual(Array.from(dconv.db.data));
    setBackend('native');
  });

  it('prints a Keras-like summary with output shapes and parameter counts', () => {
    const text = zooModel('mnist-3layer').summary();
    expect(text).toMatch(/conv2d_1 \(Conv2D\)\s+\(None, 28, 28, 16\)\s+160/);
    expect(text).toMatch(/conv2d_3 \(Conv2D\)\s+\(None, 7, 7, 64\)\s+18,496/);
    expect(text).toMatch(/flatten_1 \(Flatten\)\s+\(None, 576\)\s+0/);
    expect(text).toMatch(/dense_1 \(Dense\)\s+\(None, 10\)\s+5,770/);
    expect(text).toMatch(/Total params: 29,066/);
  });

  it('builds every zoo model with the documented shapes', () => {
    const expected: Record<string, number[]> = {
      'mlp-30': [10], 'cnn-14': [10], 'mnist-2layer': [10], 'mnist-3layer': [10], 'mnist-gap': [10], lenet5: [10], 'signs-cnn': [6], 'xray-binary': [1],
      'resnet-20': [10], 'resnet-56': [10], 'cifar-fast': [10],
    };
    for (const name of ZOO_NAMES) {
      const m = zooModel(name);
      expect(m.outputShape, name).toEqual(expected[name]);
    }
    expect(zooModel('cnn-14').layers[3].outputShape).toEqual([147]);
    expect(zooModel('mnist-2layer').layers[6].outputShape).toEqual([1568]);
  });

  it('round-trips state dicts and configs, and refuses mismatches naming the key', () => {
    const a = zooModel('cnn-14', { seed: 1 });
    const b = modelFromConfig({ ...a.config(), seed: 99 });
    const x = randomTensor(rng(4), [3, 14, 14, 1], 0, 1);
    expect(Array.from(b.predict(x).data)).not.toEqual(Array.from(a.predict(x).data));
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.predict(x).data)).toEqual(Array.from(a.predict(x).data));
    const state = a.stateDict();
    state['dense_1.weight'] = new Tensor(new Float32Array(10), [10, 1]);
    expect(() => b.loadStateDict(state)).toThrow(/'dense_1.weight' has shape \[10, 1\] but the model expects \[147, 10\]/);
    const missing = a.stateDict();
    delete missing['conv2d_1.bias'];
    expect(() => b.loadStateDict(missing)).toThrow(ShapeError);
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: new Tensor(new Float32Array(1), [1]) })).toThrow(/unexpected keys extra/);
  });

  it('gives the same initial weights for the same seed', () => {
    expect(zooModel('mnist-3layer', { seed: 7 }).stateDict()['conv2d_2.weight'].data).toEqual(zooModel('mnist-3layer', { seed: 7 }).stateDict()['conv2d_2.weight'].data);
  });

  it('refuses inputs of the wrong shape with the expected shape in the message', () => {
    const m = zooModel('mnist-3layer');
    expect(() => m.predict(new Tensor(new Float32Array(2 * 14 * 14), [2, 14, 14, 1]))).toThrow(/x.shape must be \[samples, 28, 28, 1\] for model 'mnist-3layer', got \[2, 14, 14, 1\]/);
    expect(() => sequential([layers.dense({ units: 3 })], { inputShape: [4, 4, 1] })).toThrow(/Dense 'dense_1': expects \[features\] \(add a Flatten layer before it\)/);
    expect(() => sequential([]).build([4])).toThrow(/the model has no layers to build/);
    expect(() => layers.dropout({ rate: 1 })).toThrow(/Dropout: rate must be a finite number in \[0, 1\), got 1/);
  });

  it('refuses a bad trainPass before any kernel runs, naming the argument', () => {
    const m = zooModel('mnist-3layer');
    const loss = m.defaultLoss();
    const x = new Tensor(new Float32Array(2 * 28 * 28), [2, 28, 28, 1]);
    const labels = Int32Array.from([1, 9]);
    expect(() => m.trainPass(new Tensor(new Float32Array(2 * 14 * 14), [2, 14, 14, 1]), labels, loss)).toThrow(ShapeError);
    expect(() => m.trainPass(x, [1, 9.5], loss)).toThrow(DTypeError);
    expect(() => m.trainPass(x, new Float32Array([1, 9]) as never, loss)).toThrow(/trainPass: targets must be integer class labels/);
    expect(() => m.trainPass(x, Int32Array.from([1]), loss)).toThrow(/trainPass: targets has 1 labels but x has 2 samples/);
    expect(() => m.trainPass(x, Int32Array.from([1, 10]), loss)).toThrow(/trainPass: targets\[1\] = 10 is outside the model's 10 classes/);
    expect(() => m.trainPass(x, labels, {} as never)).toThrow(/trainPass: a loss object needs compute\(logits, targets\), probabilities\(logits\) and classes\(logits\), got/);
    expect(() => m.trainPass(x, labels, 'softmax' as never)).toThrow(/did you mean 'softmaxCrossEntropy'?/);
    expect(Number.isFinite(m.trainPass(x, [1, 9], 'softmaxCrossEntropy').loss)).toBe(true);
    expect(() => m.trainPass(new Tensor(new Float32Array(0), [0, 28, 28, 1]), new Int32Array(0), loss)).toThrow(/trainPass: x must hold at least 1 sample/);
    expect(m.forwardInPlace(new Tensor(new Float32Array(0), [0, 28, 28, 1]), false).shape).toEqual([0, 10]);
    m.parameters().forEach((p) => p.grad.data.fill(0));
    expect(Number.isFinite(m.trainPass(x, labels, loss).loss)).toBe(true);
    expect(m.parameters().some((p) => p.grad.data.some((g) => g !== 0))).toBe(true);
  });

  it('applies dropout only in training, scaling kept values', () => {
    const m = sequential([layers.dropout({ rate: 0.5 })], { inputShape: [1000], seed: 1 });
    const x = new Tensor(new Float32Array(1000).fill(1), [1, 1000]);
    expect(Array.from(m.predictLogits(x).data).every((v) => v === 1)).toBe(true);
    const y = m.forwardInPlace(x, true);
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(400);
    expect(kept.length).toBeLessThan(600);
  });

  it.each(BACKENDS)('infers through fused conv + ReLU + pool blocks without keeping their activations [%s]', (backend) => {
    setBackend(backend);
    const model = zooModel('mnist-3layer', { seed: 5 });
    const x = randomTensor(rng(6), [3, 28, 28, 1], 0, 1);
    const training = model.forwardInPlace(x, true).clone();
    const inference = model.forwardInPlace(x, false);
    expect(Array.from(inference.data)).toEqual(Array.from(training.data));
    // The inference forward kept no activations: a backward now is a usage error, not garbage gradients.
    expect(() => model.backward(new Tensor(new Float32Array(30), [3, 10]))).toThrow(ValueError);
    expect(() => model.backward(new Tensor(new Float32Array(30), [3, 10]))).toThrow(/training: true/);
    model.forwardInPlace(x, true);
    expect(() => model.backward(new Tensor(new Float32Array(30), [3, 10]))).not.toThrow();
  });
});
