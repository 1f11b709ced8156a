// Initializers: every name draws from the distribution it is documented to
// (mean, variance and bounds of many draws, with tolerances from the sample
// size), the spellings Keras, tfjs and PyTorch users bring land on the same
// one, and a model's initializers survive its config.
import { describe, expect, it } from 'vitest';
import { layers, modelFromConfig, Random, sequential, ValueError } from '../../lib/index.js';
import { checkInitializer, initialize, type Initializer } from '../../lib/nn/initializers.js';

const N = 40_000;

function draw(init: Initializer, fanIn: number, fanOut: number, seed = 1): Float32Array {
  const data = new Float32Array(N);
  initialize(checkInitializer(init, 'test'), data, fanIn, fanOut, new Random(seed));
  return data;
}

function moments(a: Float32Array) {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a) {
    q += (v - mean) ** 2;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { mean, variance: q / (a.length - 1), min, max };
}

/** Mean within 5 standard errors, variance within 5 of its standard errors (the 4th moment bounded by 3σ⁴). */
function expectMoments(a: Float32Array, mean: number, variance: number) {
  const m = moments(a);
  expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / N));
  expect(Math.abs(m.variance - variance)).toBeLessThan(5 * variance * Math.sqrt(2 / N));
  return m;
}

describe('initializers', () => {
  const fanIn = 3 * 3 * 16;
  const fanOut = 3 * 3 * 32;
  const avg = (fanIn + fanOut) / 2;

  it.each([
    // name, variance, bound (uniform: the limit; truncated normal: two of its standard deviations before rescaling)
    ['glorotUniform', 1 / avg, Math.sqrt(3 / avg)],
    ['glorotNormal', 1 / avg, (2 * Math.sqrt(1 / avg)) / 0.87962566103423978],
    ['heNormal', 2 / fanIn, (2 * Math.sqrt(2 / fanIn)) / 0.87962566103423978],
    ['heUniform', 2 / fanIn, Math.sqrt(6 / fanIn)],
    ['leCunNormal', 1 / fanIn, (2 * Math.sqrt(1 / fanIn)) / 0.87962566103423978],
    ['leCunUniform', 1 / fanIn, Math.sqrt(3 / fanIn)],
    ['he', 2 / fanIn, Infinity],
    ['glorot', 1 / avg, Math.sqrt(3 / avg)],
    ['kaimingNormal', 2 / fanIn, Infinity],
  ] as const)('%s has variance and bounds as Keras / PyTorch define them', (name, variance, bound) => {
    const m = expectMoments(draw(name, fanIn, fanOut), 0, variance);
    expect(Math.max(-m.min, m.max)).toBeLessThanOrEqual(bound * (1 + 1e-6));
  });

  it("PyTorch's default, kaimingUniform with a = sqrt(5), is U(-1/sqrt(fanIn), 1/sqrt(fanIn))", () => {
    const bound = 1 / Math.sqrt(fanIn);
    const m = expectMoments(draw({ name: 'kaimingUniform', a: Math.sqrt(5) }, fanIn, fanOut), 0, bound ** 2 / 3);
    expect(m.max).toBeLessThanOrEqual(bound * (1 + 1e-6));
    expect(m.max).toBeGreaterThan(bound * 0.99);
    expect(m.min).toBeGreaterThanOrEqual(-bound * (1 + 1e-6));
  });

  it("biasInitializer draws the bias with the weight's fans: PyTorch's U(±1/√fanIn) from kaimingUniform a = √5; zeros by default; kept in the config", () => {
    const torch = { name: 'kaimingUniform', a: Math.sqrt(5) } as const;
    const m = sequential([layers.flatten({ inputShape: [5, 5, 2] }), layers.dense({ units: 400, biasInitializer: torch }), layers.dense({ units: 3 })], { seed: 2 });
    const [, bias, , zeros] = m.parameters();
    const bound = 1 / Math.sqrt(50);
    expect(Array.from(bias.value.data).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...Array.from(bias.value.data, Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(zeros.value.data).every((v) => v === 0)).toBe(true);
    const again = modelFromConfig(m.config());
    expect(Array.from(again.parameters()[1].value.data)).toEqual(Array.from(bias.value.data));
    const conv = sequential([layers.conv2d({ filters: 64, kernelSize: 3, biasInitializer: torch, inputShape: [6, 6, 2] })], { seed: 1 });
    const cb = conv.parameters()[1].value.data;
    expect(Array.from(cb).every((v) => Math.abs(v) <= 1 / Math.sqrt(18)) && cb.some((v) => v !== 0)).toBe(true);
    expect(() => layers.dense({ units: 2, biasInitializer: 'nope' as never })).toThrow(ValueError);
  });

  it('the parameterised ones follow their parameters', () => {
    expectMoments(draw({ name: 'varianceScaling', scale: 3, mode: 'fanOut', distribution: 'untruncatedNormal' }, fanIn, fanOut), 0, 3 / fanOut);
    const u = expectMoments(draw({ name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' }, fanIn, fanOut), 0, 2 / avg);
    expect(u.max).toBeLessThanOrEqual(Math.sqrt(6 / avg) * (1 + 1e-6));
    expectMoments(draw({ name: 'randomNormal', mean: 1, stddev: 0.2 }, fanIn, fanOut), 1, 0.04);
    // N(0, 1) cut at ±2 has variance 0.87962566² (truncatedNormal keeps Keras's meaning: no rescaling).
    const t = expectMoments(draw({ name: 'truncatedNormal', stddev: 0.1 }, fanIn, fanOut), 0, (0.1 * 0.87962566103423978) ** 2);
    expect(Math.max(-t.min, t.max)).toBeLessThanOrEqual(0.2 * (1 + 1e-6));
    const r = expectMoments(draw({ name: 'randomUniform', minval: 2, maxval: 4 }, fanIn, fanOut), 3, 4 / 12);
    expect(r.min).toBeGreaterThanOrEqual(2);
    expect(r.max).toBeLessThan(4);
    expect(new Set(draw('ones', 1, 1))).toEqual(new Set([1]));
    expect(new Set(draw({ name: 'constant', value: -0.5 }, 1, 1))).toEqual(new Set([-0.5]));
    expect(new Set(draw('zeros', 1, 1))).toEqual(new Set([0]));
  });

  it("takes Keras's, tfjs's and class names alike, and Keras's serialized {class_name, config}", () => {
    for (const spelling of ['glorot_uniform', 'GlorotUniform', 'glorotUniform']) expect(checkInitializer(spelling, 'Dense')).toBe('glorotUniform');
    expect(checkInitializer('lecun_normal', 'Dense')).toBe('leCunNormal');
    expect(checkInitializer({ class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed: null } }, 'Conv2D'))
      .toEqual({ name: 'varianceScaling', scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' });
    expect(checkInitializer({ className: 'RandomNormal', config: { mean: 0, stddev: 0.02, seed: 7 } }, 'Conv2D')).toEqual({ name: 'randomNormal', mean: 0, stddev: 0.02 });
    // tfjs's 'normal' distribution and Keras's legacy one are the truncated normal.
    expect(checkInitializer({ name: 'varianceScaling', distribution: 'normal' }, 'Dense')).toMatchObject({ distribution: 'truncatedNormal' });
    expect(draw('glorot_uniform' as never, fanIn, fanOut, 4)).toEqual(draw('glorot', fanIn, fanOut, 4));
  });

  it('refuses unknown names, parameters and values, naming them', () => {
    const bad: [unknown, RegExp][] = [
      ['xavier', /Dense: kernelInitializer must be 'he', 'glorot'.*got 'xavier'/],
      ['constructor', /got 'constructor'/],
      [{ name: 'toString' }, /got 'toString'/],
      [{ name: 'heNormal', scale: 2 }, /'heNormal' takes no parameters, got 'scale'/],
      [{ name: 'randomNormal', std: 1 }, /'randomNormal' takes 'mean', 'stddev', got 'std'/],
      [{ name: 'randomNormal', stddev: 0 }, /stddev must be > 0, got 0/],
      [{ name: 'randomUniform', minval: 1, maxval: 1 }, /needs minval < maxval, got 1 and 1/],
      [{ name: 'varianceScaling', mode: 'fan' }, /mode must be 'fanIn', 'fanOut' or 'fanAvg', got 'fan'/],
      [{ name: 'kaimingUniform', mode: 'fanAvg' }, /mode must be 'fanIn', 'fanOut', got 'fanAvg'/],
      [{ name: 'varianceScaling', distribution: 'cauchy' }, /distribution must be/],
      [{ name: 'constant', value: NaN }, /value must be a finite number, got NaN/],
      ['constant', /'constant' needs its value/],
      [42, /got 42/],
    ];
    for (const [init, message] of bad) expect(() => layers.dense({ units: 2, kernelInitializer: init as never }), JSON.stringify(init)).toThrow(message);
    for (const [init] of bad) expect(() => layers.dense({ units: 2, kernelInitializer: init as never })).toThrow(ValueError);
  });

  it("a model's initializers survive its config: the rebuilt model starts from the same weights", () => {
    const make = () => sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: 'he_normal' as never }), layers.relu(), layers.flatten(),
      layers.dense({ units: 3, kernelInitializer: { name: 'kaimingUniform', a: Math.sqrt(5) } }),
    ], { inputShape: [6, 6, 2], seed: 9 });
    const model = make();
    const config = JSON.parse(JSON.stringify(model.config()));
    expect(JSON.stringify(config)).toContain('"kernelInitializer":"heNormal"');
    const rebuilt = modelFromConfig(config);
    const a = model.parameters();
    const b = rebuilt.parameters();
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    a.forEach((p, i) => expect(b[i].value.data).toEqual(p.value.data));
  });
});
