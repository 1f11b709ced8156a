import { describe, expect, it } from 'vitest';
import { conv2dGeometry, pool2dGeometry } from '../../lib/ops/geometry.js';

describe('window geometry', () => {
  it('follows floor((n + padBefore + padAfter - k) / s) + 1', () => {
    const g = conv2dGeometry([1, 7, 8, 1], [3, 2, 1, 1], { stride: [2, 3], padding: [1, 0, 2, 1] });
    expect([g.outH, g.outW]).toEqual([Math.floor((7 + 1 - 3) / 2) + 1, Math.floor((8 + 3 - 2) / 3) + 1]);
  });

  it("resolves 'same' as TensorFlow does: ceil(n / s) outputs, the odd pad at the end", () => {
    const g = conv2dGeometry([1, 6, 7, 1], [3, 4, 1, 1], { stride: 2, padding: 'same' });
    expect([g.outH, g.outW]).toEqual([3, 4]);
    expect([g.padTop, g.padBottom, g.padLeft, g.padRight]).toEqual([0, 1, 1, 2]);
    const s1 = conv2dGeometry([1, 5, 5, 1], [3, 3, 1, 1], { padding: 'same' });
    expect([s1.outH, s1.outW, s1.padTop, s1.padBottom]).toEqual([5, 5, 1, 1]);
  });

  it("resolves 'valid', numbers and pairs", () => {
    expect(conv2dGeometry([1, 5, 5, 1], [3, 3, 1, 1], { padding: 'valid' }).outH).toBe(3);
    const g = conv2dGeometry([1, 5, 5, 1], [3, 3, 1, 1], { padding: [2, 0] });
    expect([g.outH, g.outW]).toEqual([7, 3]);
  });

  it('drops the last row when the stride does not divide evenly', () => {
    expect(pool2dGeometry([1, 7, 7, 1], { kernel: 2 }, 'maxPool2d').outH).toBe(3);
  });
});
