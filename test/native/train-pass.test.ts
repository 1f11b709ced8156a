// Sequential.trainPass runs a chain of Conv2D → ReLU → MaxPool2D blocks,
// Flatten and Dense under softmax cross-entropy as one backend call
// (convChainTrainPass). On the native backend it runs the same kernels as the
// layer-by-layer calls and adds each image's gradients into the same
// per-thread shares of the batch, whichever thread ran the image, so the
// loss, the logits and every gradient are identical, bit for bit, whenever
// every layer is large enough to be split (the zoo's CNNs) or on one thread;
// the reference backend's pass agrees within float tolerance.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { getBackend, getNumThreads, setBackend, setConvAlgorithm, setNumThreads, setSchedule } from '../../lib/backend/select.js';
import { type Model, SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, Tensor, layers, sequential, zooModel } from '../../lib/index.js';
import { skipNative } from '../helpers/backends.js';
import { randomTensor, rng } from '../helpers/random.js';

interface Pass {
  loss: number;
  logits: Float32Array;
  grads: Float32Array[];
}

function batchFor(model: Model, batch: number, seed: number): { x: Tensor; y: Int32Array } {
  const random = rng(seed);
  const x = randomTensor(random, [batch, ...model.inputShape], 0, 1);
  const classes = model.outputUnits;
  const y = Int32Array.from({ length: batch }, () => Math.floor(random() * classes));
  return { x, y };
}

const snapshot = (model: Model, loss: number, logits: Tensor): Pass => ({
  loss,
  logits: logits.data.slice(),
  grads: model.parameters().map((p) => p.grad.data.slice()),
});

/** The layer-by-layer pass: forward, the loss, backward. */
function layerByLayer(model: Model, x: Tensor, y: Int32Array, loss = model.defaultLoss()): Pass {
  model.parameters().forEach((p) => p.grad.data.fill(Number.NaN)); // every gradient must be written
  const n = x.shape[0];
  const logits = model.forwardInPlace(x, true).reshape([n, model.outputUnits]);
  const { loss: value, dLogits } = loss.compute(logits, y);
  model.backward(dLogits.reshape([n, ...model.outputShape]));
  return snapshot(model, value, logits);
}

function trainPass(model: Model, x: Tensor, y: Int32Array, loss = model.defaultLoss()): Pass {
  model.parameters().forEach((p) => p.grad.data.fill(Number.NaN));
  const { loss: value, logits } = model.trainPass(x, y, loss);
  return snapshot(model, value, logits);
}

function expectIdentical(a: Pass, b: Pass): void {
  expect(a.loss).toBe(b.loss);
  expect(a.logits).toEqual(b.logits);
  a.grads.forEach((g, i) => expect(g, `gradient ${i}`).toEqual(b.grads[i]));
}

function expectClose(a: Pass, b: Pass): void {
  expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b.loss)));
  const close = (x: Float32Array, y: Float32Array, what: string) => {
    const scale = Math.max(1e-6, ...Array.from(y, Math.abs));
    for (let i = 0; i < y.length; i++) expect(Math.abs(x[i] - y[i]), `${what}[${i}]`).toBeLessThanOrEqual(1e-4 * scale);
  };
  close(a.logits, b.logits, 'logits');
  a.grads.forEach((g, i) => close(g, b.grads[i], `gradient ${i}`));
}

/** A chain with random block shapes: kernel 1 to 5, the first block's stride 1 or 2 and padding 'same' or 'valid', 1 to 3 blocks. */
function randomChain(seed: number): Model {
  const random = rng(seed);
  const pick = <T>(options: T[]) => options[Math.floor(random() * options.length)];
  const blocks = 1 + Math.floor(random() * 3);
  const list = [];
  for (let b = 0; b < blocks; b++) {
    list.push(
      layers.conv2d({ filters: pick([3, 8, 16, 33]), kernelSize: pick([1, 3, 5]), strides: b === 0 ? pick([1, 2]) : 1, padding: b === 0 ? pick(['same', 'valid'] as const) : 'same' }),
      layers.relu(),
      layers.maxPool2d({ poolSize: pick([1, 2]) }),
    );
  }
  list.push(layers.flatten(), layers.dense({ units: pick([2, 10]) }));
  const side = blocks === 3 ? 24 : 13 + Math.floor(random() * 8);
  return sequential(list, { inputShape: [side, side, pick([1, 2, 3])], seed });
}

describe.skipIf(skipNative)('Sequential.trainPass', () => {
  const threadsBefore = skipNative ? 1 : getNumThreads();
  afterAll(() => {
    setBackend('native');
    setNumThreads(threadsBefore);
    setSchedule('balanced');
  });

  for (const threads of [1, 2, 3]) {
    it(`writes what the layer-by-layer calls write on the native backend (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      setBackend('native');
      setNumThreads(threads);
      const pass = vi.spyOn(getBackend(), 'convChainTrainPass');
      for (const net of ['mnist-3layer', 'mnist-2layer']) {
        for (const batch of [1, 2, 5, 32]) {
          const chain = zooModel(net, { seed: 3 });
          const layered = zooModel(net, { seed: 3 });
          const { x, y } = batchFor(chain, batch, batch);
          pass.mockClear();
          expectIdentical(trainPass(chain, x, y), layerByLayer(layered, x, y));
          expect(pass, `${net} runs as one pass`).toHaveBeenCalledTimes(1);
        }
      }
      pass.mockRestore();
    });
  }

  // A thread that runs out of images takes some from the back of another's
  // share; 'take-first' makes every thread start that way, so images change
  // hands on every pass. The sums must be those of the static split, under
  // every convolution algorithm (the forced Winograd weight gradient once
  // fused its sum's add with its transform: the result then depended on who
  // ran which image).
  it.each(['auto', 'fast', 'winograd', 'direct'] as const)('gives the same numbers, bit for bit, whichever thread runs which image (%s)', (algorithm) => {
    setBackend('native');
    setConvAlgorithm(algorithm);
    try {
      for (const threads of [2, 3]) {
        setNumThreads(threads);
        for (let seed = 1; seed <= 8; seed++) {
          const model = seed <= 2 ? zooModel(seed === 1 ? 'mnist-3layer' : 'mnist-2layer', { seed }) : randomChain(seed);
          const { x, y } = batchFor(model, [5, 32, 9, 17][seed % 4], seed);
          setSchedule('static');
          const fixed = trainPass(model, x, y);
          const inferred = model.forwardInPlace(x, false).data.slice();
          for (const schedule of ['take-first', 'balanced', 'take-first'] as const) {
            setSchedule(schedule);
            expectIdentical(trainPass(model, x, y), fixed);
            expect(model.forwardInPlace(x, false).data, `${schedule} inference`).toEqual(inferred);
          }
        }
      }
    } finally {
      setSchedule('balanced');
      setConvAlgorithm('auto');
    }
    expect(() => setSchedule('dynamic' as never)).toThrow(/setSchedule: schedule must be 'balanced', 'static' or 'take-first', got .*dynamic/);
  });

  it('writes what the layer-by-layer calls write for random chains, native and reference', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const batch = 1 + (seed % 5);
      setBackend('native');
      const model = randomChain(seed);
      const { x, y } = batchFor(model, batch, seed);
      setNumThreads(1);
      expectIdentical(trainPass(model, x, y), layerByLayer(model, x, y));
      // On 2 threads a layer too small to split runs on one thread when
      // called alone, but on its share of the batch in the pass: the
      // gradient sums are grouped differently, and agree to rounding.
      setNumThreads(2);
      const native = trainPass(model, x, y);
      expectClose(native, layerByLayer(model, x, y));
      setBackend('reference');
      const reference = trainPass(model, x, y);
      expectClose(native, reference);
      expectIdentical(reference, layerByLayer(model, x, y));
    }
  });

  it('runs inference through the chain in one call, with the layer-by-layer numbers', () => {
    for (const threads of [1, 2, 3]) {
      setBackend('native');
      setNumThreads(threads);
      const pass = vi.spyOn(getBackend(), 'convChainForward');
      for (let seed = 1; seed <= 8; seed++) {
        const model = seed <= 2 ? zooModel(seed === 1 ? 'mnist-3layer' : 'mnist-2layer', { seed }) : randomChain(seed);
        const { x } = batchFor(model, 1 + ((seed * 7) % 40), seed);
        pass.mockClear();
        const chained = model.forwardInPlace(x, false).data.slice();
        expect(pass).toHaveBeenCalledTimes(1);
        const plan = Reflect.get(model, 'plan');
        expect(plan.chain).not.toBeNull();
        Reflect.set(model, 'plan', { ...plan, chain: null }); // the step-by-step path
        expect(model.forwardInPlace(x, false).data).toEqual(chained);
        expect(pass).toHaveBeenCalledTimes(1); // not again
        Reflect.set(model, 'plan', plan);
        if (threads === 2) {
          setBackend('reference');
          const reference = model.forwardInPlace(x, false).data;
          const scale = Math.max(1e-6, ...Array.from(reference, Math.abs));
          reference.forEach((r, i) => expect(Math.abs(chained[i] - r)).toBeLessThanOrEqual(1e-4 * scale));
          setBackend('native');
        }
      }
      pass.mockRestore();
    }
  });

  it('keeps the layers’ state: a later backward sees what the pass saw', () => {
    setBackend('native');
    const model = zooModel('mnist-3layer', { seed: 5 });
    const { x, y } = batchFor(model, 4, 9);
    const pass = trainPass(model, x, y);
    const loss = model.defaultLoss();
    const { dLogits } = loss.compute(new Tensor(pass.logits, [4, 10]), y);
    model.backward(dLogits);
    model.parameters().forEach((p, i) => expect(p.grad.data).toEqual(pass.grads[i]));
  });

  it('runs other models and losses layer by layer', () => {
    setBackend('native');
    const pass = vi.spyOn(getBackend(), 'convChainTrainPass');
    const gap = zooModel('mnist-gap', { seed: 2 });
    const gapTwin = zooModel('mnist-gap', { seed: 2 });
    const a = batchFor(gap, 3, 4);
    expectIdentical(trainPass(gap, a.x, a.y), layerByLayer(gapTwin, a.x, a.y));
    const binary = () =>
      sequential([layers.conv2d({ filters: 4, kernelSize: 3 }), layers.relu(), layers.maxPool2d(), layers.flatten(), layers.dense({ units: 1 })], { inputShape: [8, 8, 1], seed: 1 });
    const b = batchFor(binary(), 3, 5);
    const labels = Int32Array.from([0, 1, 1]);
    expect(binary().defaultLoss()).toBeInstanceOf(SigmoidBinaryCrossEntropy);
    expectIdentical(trainPass(binary(), b.x, labels), layerByLayer(binary(), b.x, labels));
    // A subclass of the softmax loss may compute something else: layer by layer.
    class Smoothed extends SoftmaxCrossEntropy {
      override compute(logits: Tensor, y: Int32Array) {
        const out = super.compute(logits, y);
        return { ...out, loss: out.loss + 1 };
      }
    }
    const smoothed = zooModel('mnist-2layer', { seed: 1 });
    const s = batchFor(smoothed, 2, 7);
    expect(trainPass(smoothed, s.x, s.y, new Smoothed()).loss).toBeCloseTo(layerByLayer(zooModel('mnist-2layer', { seed: 1 }), s.x, s.y).loss + 1, 6);
    expect(pass).not.toHaveBeenCalled();
    // A fresh SoftmaxCrossEntropy, not the model's own, still takes the pass.
    const chain = zooModel('mnist-2layer', { seed: 1 });
    const c = batchFor(chain, 2, 6);
    expectIdentical(trainPass(chain, c.x, c.y, new SoftmaxCrossEntropy()), layerByLayer(zooModel('mnist-2layer', { seed: 1 }), c.x, c.y));
    expect(pass).toHaveBeenCalledTimes(1);
    pass.mockRestore();
  });
});
