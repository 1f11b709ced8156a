// The merge layers and the residual shortcut: forward against their
// definitions, backward against forward (Add, Concatenate and Shortcut are
// linear, so their backward must be forward's adjoint: <F x, r> = <x, F* r>,
// checked in float64; Multiply is bilinear, so central differences of any
// step are exact up to rounding), and the shape errors that apply() raises.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { input, layers, Random, ShapeError, Tensor, ValueError } from '../../lib/index.js';
import type { Layer } from '../../lib/nn/layers/layer.js';
import type { MergeLayer } from '../../lib/nn/layers/merge.js';
import { dot } from '../helpers/gradcheck.js';
import { randomTensor, rng } from '../helpers/random.js';

const runs = { seed: 20261207, numRuns: 25 };
const dims = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }));

function built<T extends Layer>(layer: T, shapes: number[][]): T {
  layer.buildInputs(shapes, new Random(0));
  return layer;
}

/** Σ_k <x_k, dx_k> in float64. */
const dots = (xs: readonly Tensor[], ds: readonly (Tensor | null)[]) => xs.reduce((s, x, k) => s + dot(x.data, ds[k]!.data), 0);

describe('Add', () => {
  it('sums its inputs and passes dy to each', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1e9 }), ([h, w, c], count, batch, seed) => {
        const random = rng(seed);
        const shape = [h, w, c];
        const add = built(layers.add(), Array.from({ length: count }, () => shape)) as MergeLayer;
        const xs = Array.from({ length: count }, () => randomTensor(random, [batch, ...shape]));
        const y = add.forwardInputs(xs, true);
        for (let i = 0; i < y.size; i++) {
          let sum = xs[0].data[i];
          for (let k = 1; k < count; k++) sum = Math.fround(sum + xs[k].data[i]);
          expect(y.data[i]).toBe(sum);
        }
        const r = randomTensor(random, [...y.shape]);
        const ds = add.backwardInputs(r, xs.map(() => true));
        expect(dots(xs, ds)).toBeCloseTo(dot(y.data, r.data), 4);
        ds.forEach((d) => expect(d).toBe(r));
      }),
      runs,
    );
  });
});

describe('Concatenate', () => {
  it('joins along the channels, and its backward is the adjoint of its forward', () => {
    fc.assert(
      fc.property(dims, fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }), fc.integer({ min: 1, max: 1e9 }), ([h, w], channels, seed) => {
        const random = rng(seed);
        const shapes = channels.map((c) => [h, w, c]);
        const cat = built(layers.concatenate(), shapes) as MergeLayer;
        const total = channels.reduce((a, b) => a + b, 0);
        expect(cat.outputShape).toEqual([h, w, total]);
        const xs = shapes.map((s) => randomTensor(random, [2, ...s]));
        const y = cat.forwardInputs(xs, true);
        for (let p = 0; p < 2 * h * w; p++) {
          let offset = 0;
          xs.forEach((x, k) => {
            for (let c = 0; c < channels[k]; c++) expect(y.data[p * total + offset + c]).toBe(x.data[p * channels[k] + c]);
            offset += channels[k];
          });
        }
        const r = randomTensor(random, [...y.shape]);
        const ds = cat.backwardInputs(r, xs.map(() => true));
        expect(dots(xs, ds)).toBeCloseTo(dot(y.data, r.data), 10);
      }),
      runs,
    );
  });

  it('joins feature vectors too, and refuses another axis naming it', () => {
    const cat = built(layers.concatenate({ axis: 1 }), [[3], [4]]);
    expect(cat.outputShape).toEqual([7]);
    expect(() => built(layers.concatenate({ axis: 1 }), [[4, 4, 2], [4, 4, 3]])).toThrow(/last axis only \(axis -1 or 3 for inputs \[4, 4, 2\]\), got axis 1/);
  });
});

describe('Multiply', () => {
  it('multiplies elementwise; its gradients match central differences (exact for a bilinear map)', () => {
    const random = rng(3);
    const shape = [3, 2, 4];
    const mul = built(layers.multiply(), [shape, shape, shape]) as MergeLayer;
    const xs = [0, 1, 2].map(() => randomTensor(random, [2, ...shape]));
    const r = randomTensor(random, [2, ...shape]);
    const loss = () => dot(mul.forwardInputs(xs, false).data, r.data);
    mul.forwardInputs(xs, true);
    const ds = mul.backwardInputs(r, [true, false, true]);
    expect(ds[1]).toBeNull();
    for (const k of [0, 2]) {
      const x = xs[k].data;
      for (let i = 0; i < x.length; i++) {
        const saved = x[i];
        x[i] = saved + 0.5;
        const plus = loss();
        x[i] = saved - 0.5;
        const minus = loss();
        x[i] = saved;
        // The loss is linear in each x_i: the difference quotient is the derivative, up to float32 rounding of the products.
        expect(ds[k]!.data[i]).toBeCloseTo((plus - minus) / 1, 5);
      }
    }
  });
});

describe('Shortcut (option A)', () => {
  it('subsamples by its stride and pads the channels with zeros, half before and half after', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1e9 }), ([h, w, c], s, extra, seed) => {
        const random = rng(seed);
        const sc = built(layers.shortcut({ filters: c + extra, strides: s }), [[h, w, c]]);
        const [oh, ow, f] = sc.outputShape;
        expect([oh, ow, f]).toEqual([Math.ceil(h / s), Math.ceil(w / s), c + extra]);
        const x = randomTensor(random, [2, h, w, c]);
        const y = sc.forward(x);
        const before = Math.floor(extra / 2);
        for (let n = 0; n < 2; n++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++)
              for (let k = 0; k < f; k++) {
                const inside = k >= before && k < before + c;
                const want = inside ? x.data[((n * h + i * s) * w + j * s) * c + k - before] : 0;
                expect(y.data[((n * oh + i) * ow + j) * f + k]).toBe(want);
              }
        const r = randomTensor(random, [...y.shape]);
        const dx = sc.backward(r, true)!;
        expect(dot(x.data, dx.data)).toBeCloseTo(dot(y.data, r.data), 10);
      }),
      runs,
    );
  });

  it('gives He et al.\'s 16 → 32 channel step 8 zero channels on each side', () => {
    const sc = built(layers.shortcut({ filters: 32, strides: 2 }), [[32, 32, 16]]);
    const y = sc.forward(new Tensor(new Float32Array(32 * 32 * 16).fill(1), [1, 32, 32, 16]));
    const pixel = Array.from(y.data.subarray(0, 32));
    expect(pixel).toEqual([...new Array(8).fill(0), ...new Array(16).fill(1), ...new Array(8).fill(0)]);
  });
});

describe('shape errors at apply()', () => {
  it('name the layer and every shape', () => {
    const a = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'left' }).apply(input({ shape: [6, 6, 3], name: 'image' }));
    const b = layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'right' }).apply(input({ shape: [6, 6, 3] }));
    const err = (() => {
      try {
        layers.add({ name: 'join' }).apply([a, b]);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ShapeError);
    expect(err!.message).toBe("Add 'join': every input must have the shape of the first, [6, 6, 8]; input 1 has [6, 6, 16] (applied to Conv2D 'left' [6, 6, 8], Conv2D 'right' [6, 6, 16])");
    expect(() => layers.concatenate().apply([a, layers.maxPool2d({ poolSize: 2 }).apply(b)])).toThrow(/inputs must agree in every dimension but the last; input 0 has \[6, 6, 8\], input 1 has \[3, 3, 16\]/);
    expect(() => layers.dense({ units: 3 }).apply(a)).toThrow(ShapeError);
    expect(() => layers.shortcut({ filters: 4 }).apply(a)).toThrow(/filters \(4\) must be at least the input's channels, got input shape \[6, 6, 8\]/);
  });

  it('refuse a merge of one input, a second apply, and a merge run as a one-input layer', () => {
    const x = input({ shape: [4] });
    expect(() => layers.add().apply([x])).toThrow(/takes a list of at least 2 inputs, got 1/);
    const relu = layers.relu();
    relu.apply(x);
    expect(() => relu.apply(x)).toThrow(/in a graph already; shared layers are not supported/);
    const add = layers.add();
    expect(() => (add as unknown as { forward: (x: Tensor) => Tensor }).forward(new Tensor(new Float32Array(4), [1, 4]))).toThrow(ValueError);
  });
});
