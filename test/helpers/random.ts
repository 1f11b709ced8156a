import fc from 'fast-check';
import type { Padding } from '../../lib/ops/geometry.js';
import { Tensor } from '../../lib/core/tensor.js';

/** mulberry32: a tiny seeded generator, so every test run sees the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(random: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random();
  return out;
}

export function randomTensor(random: () => number, shape: number[], lo = -1, hi = 1): Tensor {
  return new Tensor(uniform(random, shape.reduce((a, b) => a * b, 1), lo, hi), shape);
}

/**
 * Values that are all distinct and at least `gap` apart (a shuffled ramp), so
 * max pooling has no near-ties that a finite-difference step could flip.
 */
export function distinct(random: () => number, n: number, gap = 0.01): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (i - n / 2) * gap;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface ConvCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  o: number;
  kh: number;
  kw: number;
  stride: number | [number, number];
  padding: Padding;
}

/** Random conv settings: stride > 1, every padding form, non-square kernels and inputs, odd sizes. */
export function convCaseArbitrary(max = { batch: 3, size: 9, channels: 5, kernel: 4 }): fc.Arbitrary<ConvCase> {
  const padding: fc.Arbitrary<Padding> = fc.oneof(
    fc.integer({ min: 0, max: 2 }),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.constantFrom<Padding>('same', 'valid'),
  );
  return fc
    .record({
      batch: fc.integer({ min: 1, max: max.batch }),
      h: fc.integer({ min: 1, max: max.size }),
      w: fc.integer({ min: 1, max: max.size }),
      c: fc.integer({ min: 1, max: max.channels }),
      o: fc.integer({ min: 1, max: max.channels }),
      kh: fc.integer({ min: 1, max: max.kernel }),
      kw: fc.integer({ min: 1, max: max.kernel }),
      stride: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))),
      padding,
    })
    .filter((k) => fits(k));
}

function pads(k: ConvCase): [number, number, number, number] {
  const p = k.padding;
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') return [k.kh, k.kh, k.kw, k.kw]; // 'same' always fits
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[0], p[1], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

function fits(k: ConvCase): boolean {
  const [t, b, l, r] = pads(k);
  return k.h + t + b >= k.kh && k.w + l + r >= k.kw;
}

/** Random pooling settings: overlapping windows (stride < kernel), padding below the kernel size. */
export interface PoolCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export function poolCaseArbitrary(): fc.Arbitrary<PoolCase> {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 9 }),
      w: fc.integer({ min: 1, max: 9 }),
      c: fc.integer({ min: 1, max: 5 }),
      kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    })
    .filter((p) => p.padding[0] < p.kernel[0] && p.padding[1] < p.kernel[1] && p.h + 2 * p.padding[0] >= p.kernel[0] && p.w + 2 * p.padding[1] >= p.kernel[1]);
}

/** Tolerance for comparing a float32 result with a float64 one: relative to the magnitudes that fed it. */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: number, rel = 1e-5): { ok: boolean; worst: number; index: number } {
  let worst = 0;
  let index = -1;
  const limit = rel * Math.max(scale, 1e-30);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= limit)) {
      if (!(err <= worst) || index < 0) {
        worst = err;
        index = i;
      }
    }
  }
  if (actual.length !== expected.length) return { ok: false, worst: Infinity, index: -1 };
  return { ok: index < 0, worst, index };
}
