// Graph layers against PyTorch 2.13 (test/fixtures/torch/graph-goldens.json,
// made by scripts/make-torch-goldens.py): conv → BatchNorm2d → ReLU, a basic
// residual block and a channel concatenation, each in training mode (output,
// the gradients of Σ out · r for the input and every weight, the running
// statistics after the step) and then in eval mode, on every backend.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { input, layers, model, setBackend, Tensor } from '../../lib/index.js';
import type { BatchNormalization } from '../../lib/nn/layers/norm.js';
import type { Conv2D } from '../../lib/nn/layers/conv.js';
import type { Functional } from '../../lib/models/functional.js';
import type { SymbolicTensor } from '../../lib/nn/layers/layer.js';
import { BACKENDS, skipNative } from '../helpers/backends.js';

const goldens = JSON.parse(readFileSync(new URL('../fixtures/torch/graph-goldens.json', import.meta.url), 'utf8'));

afterEach(() => setBackend(skipNative ? 'reference' : 'native'));

type Named = Record<string, Conv2D | BatchNormalization>;

const conv = (filters: number) => layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false });
const bn = () => layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });

/** Each case's graph, and its layers under the fixture's names. */
const CASES: Record<string, (x: SymbolicTensor) => { y: SymbolicTensor; named: Named }> = {
  conv_bn_relu: (x) => {
    const [c, b] = [conv(4), bn()];
    return { y: layers.relu().apply(b.apply(c.apply(x))), named: { conv: c, bn: b } };
  },
  residual_block: (x) => {
    const [c1, b1, c2, b2] = [conv(4), bn(), conv(4), bn()];
    const y = b2.apply(c2.apply(layers.relu().apply(b1.apply(c1.apply(x)))));
    return { y: layers.relu().apply(layers.add().apply([x, y])), named: { c1, b1, c2, b2 } };
  },
  concatenate: (x) => {
    const [a, b] = [conv(2), conv(4)];
    return { y: layers.concatenate().apply([a.apply(x), layers.relu().apply(b.apply(x))]), named: { a, b } };
  },
};

/** Agreement to `rel` of the largest magnitude (float32 sums in another order differ by a few ulps of it). */
function expectClose(ours: ArrayLike<number>, theirs: readonly number[], what: string, rel = 2e-6): void {
  expect(ours.length, what).toBe(theirs.length);
  const scale = Math.max(1, ...theirs.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  expect(worst / scale, `${what}: worst |ours - torch| ${worst} (scale ${scale})`).toBeLessThan(rel);
}

describe.each(BACKENDS)('graph layers against PyTorch (%s backend)', (backend) => {
  it.each(Object.keys(CASES))('%s: training forward and backward, running statistics, eval forward', (name) => {
    setBackend(backend);
    const g = goldens[name];
    const [n, h, w, c] = g.shape;
    const x0 = input({ shape: [h, w, c] });
    const { y, named } = CASES[name](x0);
    const net: Functional = model({ inputs: x0, outputs: y, seed: 1 });
    for (const [key, layer] of Object.entries(named)) {
      if (layer.kind === 'Conv2D') (layer as Conv2D).weight.value.data.set(g[key].weight);
      else {
        (layer as BatchNormalization).gamma.value.data.set(g[key].gamma);
        (layer as BatchNormalization).beta.value.data.set(g[key].beta);
      }
    }
    const x = new Tensor(Float32Array.from(g.x), [n, h, w, c]);
    const out = net.forwardInPlace(x, true);
    expectClose(out.data, g.train, `${name} train output`);
    const [dx] = net.backwardAll([new Tensor(Float32Array.from(g.r), out.shape)], true);
    expectClose(dx!.data, g.dx, `${name} dx`, 1e-5);
    for (const [key, layer] of Object.entries(named)) {
      if (layer.kind === 'Conv2D') expectClose((layer as Conv2D).weight.grad.data, g[key].dweight, `${name} ${key} dweight`, 1e-5);
      else {
        const b = layer as BatchNormalization;
        expectClose(b.gamma.grad.data, g[key].dgamma, `${name} ${key} dgamma`, 1e-5);
        expectClose(b.beta.grad.data, g[key].dbeta, `${name} ${key} dbeta`, 1e-5);
        expectClose(b.runningMean.value.data, g[key].running_mean, `${name} ${key} running_mean`);
        expectClose(b.runningVar.value.data, g[key].running_var, `${name} ${key} running_var`);
      }
    }
    expectClose(net.predictLogits(x).data, g.eval, `${name} eval output`);
  });
});
