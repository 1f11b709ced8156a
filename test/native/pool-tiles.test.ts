// The one "windows tile" rule (poolWindowsTile: stride = kernel, no padding,
// at most MAX_TILED_POOL_WINDOW cells) decides the Conv → ReLU → MaxPool fast
// path in TypeScript, and the native kernels test the same rule themselves. A
// sweep over pool sizes and strides trains a pass on both backends: they agree,
// and no size the reference backend takes is refused natively.
import { afterAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../lib/backend/select.js';
import { layers, sequential } from '../../lib/index.js';
import { MAX_TILED_POOL_WINDOW, poolWindowsTile } from '../../lib/ops/geometry.js';
import { skipNative } from '../helpers/backends.js';
import { loadAddon } from '../../lib/backend/native.js';
import { SHARED_LIMITS, createNativeBackend } from '../../lib/backend/native-backend.js';
import { BackendError } from '../../lib/core/errors.js';
import { randomTensor, rng } from '../helpers/random.js';

function pass(backend: 'native' | 'reference', pool: number, stride: number) {
  setBackend(backend);
  const model = sequential([
    new layers.Conv2D({ filters: 8, kernelSize: 3, padding: 1 }), new layers.ReLU(), new layers.MaxPool2D({ poolSize: pool, strides: stride }),
    new layers.Flatten(), new layers.Dense({ units: 3 }),
  ], { inputShape: [20, 20, 2], seed: 4 });
  const random = rng(pool * 31 + stride);
  const x = randomTensor(random, [5, 20, 20, 2], -1, 1);
  const y = Int32Array.from({ length: 5 }, (_, i) => i % 3);
  const { loss } = model.trainPass(x, y);
  return { loss, grads: model.parameters().map((p) => p.grad.data.slice()) };
}

describe.skipIf(skipNative)('pool windows that tile, on both backends', () => {
  afterAll(() => setBackend('native'));

  it('the rule: tiling windows of up to 64 cells', () => {
    const g = (k: number, s: number) => ({ kH: k, kW: k, strideH: s, strideW: s, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 }) as never;
    expect(MAX_TILED_POOL_WINDOW).toBe(64);
    expect(poolWindowsTile(g(8, 8))).toBe(true);
    expect(poolWindowsTile(g(9, 9))).toBe(false);
    expect(poolWindowsTile(g(2, 1))).toBe(false);
  });

  const cases = [];
  for (let pool = 1; pool <= 10; pool++) for (const stride of new Set([1, 2, pool])) cases.push([pool, stride]);
  it.each(cases)('3×3 conv → ReLU → max-pool %i stride %i: the native pass equals the reference pass', (pool, stride) => {
    const reference = pass('reference', pool, stride);
    const native = pass('native', pool, stride);
    expect(Math.abs(native.loss - reference.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(reference.loss)));
    native.grads.forEach((grad, i) => {
      const scale = Math.max(1e-6, ...Array.from(reference.grads[i], Math.abs));
      grad.forEach((v, j) => expect(Math.abs(v - reference.grads[i][j]), `gradient ${i}[${j}]`).toBeLessThanOrEqual(1e-4 * scale));
    });
  });
});

describe.skipIf(skipNative)('the limits TypeScript and C++ both define', () => {
  it('are reported by the addon with the values TypeScript has', () => {
    expect(loadAddon().addon.info().limits).toEqual(SHARED_LIMITS);
  });

  it('refuse an addon that disagrees, before any kernel runs', () => {
    const { addon } = loadAddon();
    expect(() => createNativeBackend(addon, { ...SHARED_LIMITS, maxTiledPoolWindow: 63 })).toThrow(/maxTiledPoolWindow is 63, TypeScript's 64; rebuild it/);
    expect(() => createNativeBackend(addon, undefined)).toThrow(BackendError);
  });
});
