// A residual network with BatchNormalization, a shortcut that subsamples
// and pads, and a concatenation: its training pass (logits, the input's and
// every weight's gradient, the moving statistics) and its inference on the
// native backend against the reference, under every ISA this CPU supports
// and 1 and 2 threads.
import { afterAll, describe, expect, it } from 'vitest';
import { info, setIsa, setNumThreads } from '../../lib/backend/select.js';
import { input, layers, model, setBackend, type Tensor } from '../../lib/index.js';
import type { Functional } from '../../lib/models/functional.js';
import type { SymbolicTensor } from '../../lib/nn/layers/layer.js';
import { skipNative } from '../helpers/backends.js';
import { randomTensor, rng } from '../helpers/random.js';

const isas = skipNative ? [] : (info().supportedIsas ?? []);
const configs = isas.flatMap((isa) => [1, 2].map((threads) => ({ isa, threads })));

function net(): Functional {
  const x = input({ shape: [12, 12, 3] });
  const cbr = (t: SymbolicTensor, f: number, s = 1) => layers.relu().apply(layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(layers.conv2d({ filters: f, kernelSize: 3, strides: s, padding: 'same', useBias: false }).apply(t)));
  const stem = cbr(x, 16);
  const block = layers.add().apply([layers.shortcut({ filters: 24, strides: 2 }).apply(stem), layers.batchNormalization().apply(layers.conv2d({ filters: 24, kernelSize: 3, padding: 'same' }).apply(cbr(stem, 24, 2)))]);
  const joined = layers.concatenate().apply([block, cbr(block, 8)]);
  return model({ inputs: x, outputs: layers.dense({ units: 5 }).apply(layers.globalAvgPool2d().apply(joined)), seed: 3 });
}

/** One training pass and one inference, from a fresh model: everything the comparison reads, copied. */
function pass(x: Tensor, r: Tensor) {
  const m = net();
  const logits = Float32Array.from(m.forwardInPlace(x, true).data);
  const [dx] = m.backwardAll([r], true);
  return {
    logits,
    dx: Float32Array.from(dx!.data),
    grads: m.parameters().map((p) => Float32Array.from(p.grad.data)),
    state: m.weights().map((p) => Float32Array.from(p.value.data)),
    inference: Float32Array.from(m.predictLogits(x).data),
  };
}

/** Within `rel` of the largest magnitude: convolutions sum in another order (and Winograd rounds its transforms). */
function expectClose(ours: Float32Array, want: Float32Array, what: string, rel = 1e-4): void {
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(ours[i] - want[i]));
  expect(worst / scale, `${what}: worst difference ${worst} (scale ${scale})`).toBeLessThan(rel);
}

describe.skipIf(skipNative)('a residual graph, native against reference', () => {
  afterAll(() => {
    setIsa(isas[0]);
    setNumThreads(2);
    setBackend('native');
  });
  const random = rng(12);
  const x = randomTensor(random, [6, 12, 12, 3], 0, 1);
  const r = randomTensor(random, [6, 5]);
  setBackend('reference');
  const want = pass(x, r);
  setBackend('native');

  it.each(configs)('agrees on $isa, $threads thread(s)', ({ isa, threads }) => {
    setBackend('native');
    setIsa(isa);
    setNumThreads(threads);
    const got = pass(x, r);
    expectClose(got.logits, want.logits, 'training logits');
    expectClose(got.inference, want.inference, 'inference logits');
    expectClose(got.dx, want.dx, 'input gradient');
    got.grads.forEach((g, i) => expectClose(g, want.grads[i], `gradient ${i}`));
    got.state.forEach((s, i) => expectClose(s, want.state[i], `weight or statistic ${i}`));
  });
});
