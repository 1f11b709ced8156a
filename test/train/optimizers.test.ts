import { describe, expect, it } from 'vitest';
import { Adam, FormatError, SGD, cosineDecay, multiStepDecay, optimizerFromConfig, stepDecay, ValueError } from '../../lib/index.js';
import { parameter } from '../../lib/nn/layers/layer.js';

function param(values: number[], grads: number[]) {
  const p = parameter('p', [values.length]);
  p.value.data.set(values);
  p.grad.data.set(grads);
  return p;
}

describe('optimizers', () => {
  it('SGD: p -= lr * g', () => {
    const p = param([1, 2], [0.5, -1]);
    new SGD({ learningRate: 0.1 }).step([p]);
    expect(Array.from(p.value.data)).toEqual([Math.fround(0.95), Math.fround(2.1)]);
  });

  it('momentum: v = 0.9 v + g; p -= lr v', () => {
    const p = param([0], [1]);
    const opt = new SGD({ learningRate: 0.1, momentum: 0.9 });
    opt.step([p]);
    opt.step([p]);
    expect(p.value.data[0]).toBeCloseTo(-(0.1 * 1 + 0.1 * 1.9), 6);
  });

  it('step decay multiplies the rate by the factor every N iterations', () => {
    const opt = new SGD({ learningRate: 1, schedule: stepDecay({ every: 2, factor: 0.5 }) });
    const rates: number[] = [];
    const p = param([0], [0]);
    for (let i = 0; i < 6; i++) {
      rates.push(opt.currentLearningRate());
      opt.step([p]);
    }
    expect(rates).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(() => stepDecay({ every: 0, factor: 0.5 })).toThrow(ValueError);
  });

  it('multi-step decay multiplies by gamma at each milestone, as torch MultiStepLR, and survives a checkpoint', () => {
    const opt = new SGD({ learningRate: 0.1, schedule: multiStepDecay({ milestones: [2, 5], gamma: 0.5 }) });
    const rates: number[] = [];
    const p = param([0], [0]);
    for (let i = 0; i < 7; i++) {
      rates.push(opt.currentLearningRate());
      opt.step([p]);
    }
    // torch: MultiStepLR(opt, milestones=[2, 5], gamma=0.5) gives 0.1 · 0.5^bisect_right([2, 5], step).
    expect(rates).toEqual([0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
    const config = JSON.parse(JSON.stringify(opt.config()));
    expect(config.schedule).toEqual({ kind: 'multiStepDecay', milestones: [2, 5], gamma: 0.5 });
    const again = optimizerFromConfig(config);
    again.iterations = opt.iterations;
    expect(again.currentLearningRate()).toBe(0.025);
    expect(multiStepDecay({ milestones: [3] })(3)).toBeCloseTo(0.1, 15);
    expect(() => multiStepDecay({ milestones: [] })).toThrow(/milestones must be a non-empty array/);
    expect(() => multiStepDecay({ milestones: [4, 4] })).toThrow(/milestones must increase, got 4 then 4 at index 1/);
    expect(() => multiStepDecay({ milestones: [2], gamma: 0 })).toThrow(ValueError);
  });

  it('cosine decay warms up linearly, then follows half a cosine down to alpha and stays there', () => {
    const s = cosineDecay({ decaySteps: 8, warmupSteps: 4, alpha: 0.1 });
    // Closed form of Keras's CosineDecay / PyTorch's CosineAnnealingLR (eta_min = alpha).
    const expected = (t: number) => (t < 4 ? (t + 1) / 4 : 0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t - 4, 8)) / 8)));
    for (let t = 0; t < 20; t++) expect(s(t)).toBeCloseTo(expected(t), 12);
    expect(s(3)).toBe(1);
    expect(s(4)).toBe(1);
    expect(s(8)).toBeCloseTo(0.55, 12);
    expect(s(12)).toBeCloseTo(0.1, 12);
    expect(s(100)).toBeCloseTo(0.1, 12);
    const rates: number[] = [];
    const opt = new SGD({ learningRate: 2, momentum: 0.9, schedule: cosineDecay({ decaySteps: 4 }) });
    for (let i = 0; i < 5; i++) {
      rates.push(opt.currentLearningRate());
      opt.step([param([0], [0])]);
    }
    expect(rates.map((r) => +r.toFixed(12))).toEqual([2, +(1 + Math.SQRT1_2).toFixed(12), 1, +(1 - Math.SQRT1_2).toFixed(12), 0]);
    expect(() => cosineDecay({ decaySteps: 0 })).toThrow(/cosineDecay: decaySteps must be/);
    expect(() => cosineDecay({ decaySteps: 4, alpha: 2 })).toThrow(/cosineDecay: alpha must be/);
    expect(() => cosineDecay({ decaySteps: 4, warmupSteps: 1.5 })).toThrow(/cosineDecay: warmupSteps must be an integer/);
  });

  it('a schedule survives the optimizer config that checkpoints keep', () => {
    const opt = new SGD({ learningRate: 0.1, schedule: cosineDecay({ decaySteps: 10, warmupSteps: 2, alpha: 0.05 }) });
    const config = JSON.parse(JSON.stringify(opt.config()));
    expect(config.schedule).toEqual({ kind: 'cosineDecay', decaySteps: 10, alpha: 0.05, warmupSteps: 2 });
    const back = optimizerFromConfig(config);
    for (let t = 0; t < 14; t++) {
      back.iterations = opt.iterations = t;
      expect(back.currentLearningRate()).toBe(opt.currentLearningRate());
    }
    expect(() => optimizerFromConfig({ ...config, schedule: { kind: 'polynomial' } })).toThrow(FormatError);
    expect(() => optimizerFromConfig({ ...config, schedule: { kind: 'cosineDecay', decaySteps: -1 } })).toThrow(/schedule .* is broken/);
  });

  it('Adam: the first step moves each weight by lr against its gradient sign', () => {
    const p = param([1, 1], [3, -0.001]);
    new Adam({ learningRate: 0.01 }).step([p]);
    expect(p.value.data[0]).toBeCloseTo(0.99, 5);
    expect(p.value.data[1]).toBeCloseTo(1.01, 4);
  });

  it('keeps and restores its state by parameter name', () => {
    const p = param([1], [1]);
    const a = new Adam();
    a.step([p]);
    const b = new Adam();
    b.loadState(a.state());
    const q = param([p.value.data[0]], [1]);
    a.step([p]);
    b.step([q]);
    expect(q.value.data[0]).toBe(p.value.data[0]);
    expect(b.iterations).toBe(2);
  });

  it('refuses bad settings naming them', () => {
    expect(() => new SGD({ learningRate: -1 })).toThrow(/SGD: learningRate must be a positive number, got -1/);
    expect(() => new SGD({ momentum: 1 })).toThrow(/momentum must be below 1/);
    expect(() => new Adam({ beta1: 1.5 })).toThrow(/beta1 and beta2 must be below 1/);
  });
});
