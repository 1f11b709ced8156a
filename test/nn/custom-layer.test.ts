// A custom layer, the way a user writes one: a Layer subclass with its own
// weights, registered by kind, trains inside a Sequential, saves, loads and
// shows in summary(); checkLayerGradients tells a right backward from a wrong one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayerGradients, Layer, layers, loadModel, modelFromConfig, parameter, type Parameter, registerLayer, type SampleShape, sequential, Tensor, ValueError } from '../../lib/index.js';

/** y = x · scale[c] + shift[c] per channel, then tanh: weights, a config and a smooth backward. */
class ScaleTanh extends Layer {
  readonly kind = 'ScaleTanh';
  readonly init: number;
  private scale: Parameter | null = null;
  private shift: Parameter | null = null;
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  wrong = false;

  constructor(config: { init?: number; name?: string } = {}) {
    super(config.name);
    this.init = config.init ?? 1;
  }

  protected setup(inputShape: SampleShape): SampleShape {
    const c = inputShape[inputShape.length - 1];
    this.scale = parameter(`${this.name}.scale`, [c]);
    this.scale.value.data.fill(this.init);
    this.shift = parameter(`${this.name}.shift`, [c]);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    const c = this.scale!.value.size;
    for (let i = 0; i < x.size; i++) y.data[i] = Math.tanh(x.data[i] * this.scale!.value.data[i % c] + this.shift!.value.data[i % c]);
    this.x = x;
    this.y = y;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const c = this.scale!.value.size;
    const dx = needInputGrad ? this.reusable('dx', dy.shape[0], this.inputShape) : null;
    for (let i = 0; i < dy.size; i++) {
      const t = this.y!.data[i];
      const d = dy.data[i] * (this.wrong ? 1 : 1 - t * t);
      this.scale!.grad.data[i % c] += d * this.x!.data[i];
      this.shift!.grad.data[i % c] += d;
      if (dx) dx.data[i] = d * this.scale!.value.data[i % c];
    }
    return dx;
  }

  override parameters(): Parameter[] {
    return this.scale ? [this.scale, this.shift!] : [];
  }

  config() {
    return { init: this.init };
  }
}

describe('custom layers', () => {
  registerLayer('ScaleTanh', (config) => new ScaleTanh(config));

  it('checkLayerGradients passes a right backward and catches a wrong one', () => {
    const good = checkLayerGradients(new ScaleTanh({ name: 'st', init: 0.7 }), [3, 3, 2]);
    expect(good.ok, good.worst).toBe(true);
    expect(good.checked).toBeGreaterThan(30);
    expect(good.maxRelativeError).toBeLessThan(5e-3);
    const broken = new ScaleTanh({ name: 'st', init: 0.7 });
    broken.wrong = true;
    const bad = checkLayerGradients(broken, [3, 3, 2], { seed: 1 });
    expect(bad.ok).toBe(false);
    expect(bad.worst).toMatch(/^(input|st\.(scale|shift))\[\d+\]: analytic /);
  });

  it('trains in a Sequential, saves, loads, rebuilds from its config and shows in summary()', async () => {
    const model = sequential([layers.conv2d({ filters: 2, kernelSize: 3 }), new ScaleTanh({ init: 0.5 }), layers.flatten(), layers.dense({ units: 2 })], { inputShape: [5, 5, 1], seed: 4 });
    expect(model.summary()).toMatch(/scaletanh_1 \(ScaleTanh\)/);
    const x = new Tensor(Float32Array.from({ length: 8 * 25 }, (_, i) => Math.sin(i)), [8, 5, 5, 1]);
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    const before = Array.from(model.layers[1].parameters()[0].value.data);
    await model.fit(x, y, { epochs: 3, batchSize: 4, optimizer: 'sgd', learningRate: 0.1, verbose: 0 });
    expect(Array.from(model.layers[1].parameters()[0].value.data)).not.toEqual(before);
    const dir = mkdtempSync(join(tmpdir(), 'custom-'));
    model.save(dir);
    const loaded = loadModel(dir);
    expect(loaded.layers[1]).toBeInstanceOf(ScaleTanh);
    expect((loaded.layers[1] as ScaleTanh).init).toBe(0.5);
    expect(loaded.predict(x).data).toEqual(model.predict(x).data);
    expect(modelFromConfig(JSON.parse(JSON.stringify(model.config()))).countParams()).toBe(model.countParams());
  });

  it('a backward that adds into its gradients gets them zeroed before each pass', () => {
    const x = new Tensor(Float32Array.from({ length: 2 * 25 }, (_, i) => Math.sin(i)), [2, 5, 5, 1]);
    const stack = sequential([layers.conv2d({ filters: 2, kernelSize: 3 }), new ScaleTanh({ init: 0.5 }), layers.flatten(), layers.dense({ units: 2 })], { inputShape: [5, 5, 1], seed: 4 });
    const grads = () => stack.parameters().map((p) => Array.from(p.grad.data));
    stack.trainPass(x, [0, 1]);
    const once = grads();
    stack.trainPass(x, [0, 1]);
    expect(grads()).toEqual(once);
  });

  it('an unregistered kind names itself and how to register it; registration is checked', () => {
    expect(() => layers.layerFromSpec({ kind: 'Swish3' })).toThrow(/unknown layer kind 'Swish3'.*; known: Conv2D, .*; registered: ScaleTanh \(a custom layer loads once registerLayer\('Swish3'/);
    expect(() => layers.layerFromSpec({ kind: 'constructor' })).toThrow(/unknown layer kind 'constructor'.*; known: Conv2D/);
    expect(() => layers.layerFromSpec({ kind: 'toString' })).toThrow(ValueError);
    expect(() => registerLayer('Dense', () => new ScaleTanh())).toThrow(/'Dense' is one of convkit's own layers/);
    expect(() => registerLayer('bad kind', () => new ScaleTanh())).toThrow(/kind must be a name of letters/);
    registerLayer('Liar', () => new ScaleTanh());
    expect(() => layers.layerFromSpec({ kind: 'Liar' })).toThrow(/the function registered for 'Liar' made a layer of kind 'ScaleTanh'/);
    registerLayer('NotALayer', () => ({}) as never);
    expect(() => layers.layerFromSpec({ kind: 'NotALayer' })).toThrow(/returned .*, not a Layer/);
  });
});
