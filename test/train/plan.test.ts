// The execution plan: what compilePlan fuses, and that the layers it fuses
// stay plain (a layer run on its own gives the unfused numbers).
import { describe, expect, it } from 'vitest';
import { layers, sequential, zooModel } from '../../lib/index.js';
import { setBackend } from '../../lib/backend/select.js';
import { compilePlan } from '../../lib/models/plan/compile.js';
import { MAX_CHAIN_BLOCKS } from '../../lib/models/plan/chain.js';
import { ConvReluPoolStep, ConvReluStep, DenseStep, LayerStep, type Step } from '../../lib/models/plan/steps.js';
import type { Layer } from '../../lib/nn/layers/layer.js';
import { randomTensor, rng } from '../helpers/random.js';

const kinds = (steps: readonly Step[]) => steps.map((s) => (s instanceof ConvReluPoolStep ? `crp${s.tiles ? '' : '-overlap'}` : s instanceof ConvReluStep ? 'cr' : s instanceof DenseStep ? 'dense' : s instanceof LayerStep ? s.layer.kind : '?'));

function planOf(list: Layer[], inputShape: number[]) {
  const model = sequential(list, { inputShape, seed: 1 });
  return { model, plan: compilePlan(model.layers) };
}

describe('compilePlan', () => {
  it('fuses the zoo CNNs into blocks and one whole-model pass', () => {
    const plan = compilePlan(zooModel('mnist-3layer').layers);
    expect(kinds(plan.steps)).toEqual(['crp', 'crp', 'crp', 'Flatten', 'dense']);
    expect(plan.chain?.blocks).toHaveLength(3);
    expect(Object.isFrozen(plan.steps)).toBe(true);
  });

  it('keeps overlapping pools, lone ReLUs and other layers as their own steps, without a whole-model pass', () => {
    const { plan } = planOf([
      layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), layers.relu(), layers.maxPool2d({ poolSize: 3, strides: 2 }),
      layers.conv2d({ filters: 2, kernelSize: 3 }), layers.relu(), layers.relu(), layers.dropout({ rate: 0.5 }),
      layers.flatten(), layers.dense({ units: 3 }),
    ], [9, 9, 1]);
    expect(kinds(plan.steps)).toEqual(['crp-overlap', 'cr', 'ReLU', 'Dropout', 'Flatten', 'dense']);
    expect(plan.chain).toBeNull();
  });

  it(`runs at most ${MAX_CHAIN_BLOCKS} blocks as one pass`, () => {
    const blocks = (n: number) => Array.from({ length: n }, () => [layers.conv2d({ filters: 1, kernelSize: 1 }), layers.relu(), layers.maxPool2d({ poolSize: 1 })]).flat();
    expect(planOf([...blocks(MAX_CHAIN_BLOCKS), layers.flatten(), layers.dense({ units: 2 })], [2, 2, 1]).plan.chain).not.toBeNull();
    expect(planOf([...blocks(MAX_CHAIN_BLOCKS + 1), layers.flatten(), layers.dense({ units: 2 })], [2, 2, 1]).plan.chain).toBeNull();
  });

  it('leaves the layers plain: each run alone gives the unfused numbers the fused steps give', () => {
    for (const backend of ['reference', 'native'] as const) {
      setBackend(backend);
      const model = zooModel('mnist-2layer', { seed: 3 });
      const x = randomTensor(rng(4), [3, 28, 28, 1]);
      const fused = model.forwardInPlace(x, true).data.slice();
      let y = x;
      for (const layer of model.layers) y = layer.forward(y, true);
      expect(Array.from(y.data)).toEqual(Array.from(fused));
      // The ReLU layer itself applies max(x, 0): nothing told it that a convolution did already.
      const relu = model.layers[1];
      const negative = randomTensor(rng(5), [1, ...relu.inputShape]);
      expect(Math.min(...relu.forward(negative, false).data)).toBeGreaterThanOrEqual(0);
    }
  });
});
