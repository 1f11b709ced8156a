// What the native conformance tests share: the tolerance and its check, a
// convolution case's buffers. Each element may differ by 2e-5 of the sum of
// the absolute values of the terms that produced it (float32 accumulating
// in another order, or through Winograd's transforms).
import { expect } from 'vitest';
import { type WindowGeometry, conv2dGeometry } from '../../lib/ops/geometry.js';
import { type ConvCase, rng, uniform } from './random.js';

export const REL = 2e-5;

export const abs = (a: Float32Array) => a.map(Math.abs);

export function expectWithin(label: string, actual: Float32Array, expected: Float32Array | Float64Array, bound: ArrayLike<number>, rel = REL): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = rel * bound[i] + 1e-30;
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tolerance)) {
      throw new Error(`${label}: [${i}] native ${actual[i]} vs reference ${expected[i]} (|diff| ${err} > ${tolerance})`);
    }
  }
}

export function outSize(g: WindowGeometry): number {
  return g.batch * g.outH * g.outW * g.outC;
}

export function convSetup(k: ConvCase, seed: number) {
  const random = rng(seed);
  const g = conv2dGeometry([k.batch, k.h, k.w, k.c], [k.kh, k.kw, k.c, k.o], { stride: k.stride, padding: k.padding });
  return {
    g,
    x: uniform(random, k.batch * k.h * k.w * k.c),
    w: uniform(random, k.kh * k.kw * k.c * k.o),
    b: uniform(random, k.o),
    dy: uniform(random, g.batch * g.outH * g.outW * g.outC),
  };
}
