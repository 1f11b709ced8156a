import { describe, expect, it } from 'vitest';
import { DTypeError, LimitError, ShapeError, Tensor, fromNested, tensor, zeros } from '../lib/index.js';

describe('Tensor', () => {
  it('wraps a Float32Array without copying and reshapes as a view', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(data, [2, 3]);
    expect(t.data).toBe(data);
    const r = t.reshape([3, -1]);
    expect(r.shape).toEqual([3, 2]);
    r.data[0] = 9;
    expect(t.get(0, 0)).toBe(9);
    expect(t.get(1, 2)).toBe(6);
  });

  it('copies number arrays and infers nested shapes', () => {
    const t = fromNested([
      [1, 2],
      [3, 4],
    ]);
    expect(t.shape).toEqual([2, 2]);
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('refuses data that does not match the shape', () => {
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 elements but data has 5/);
  });

  it('refuses non-float32 data and bad dimensions', () => {
    expect(() => new Tensor(new Float64Array(4) as unknown as Float32Array, [4])).toThrow(DTypeError);
    expect(() => tensor(['a'] as unknown as number[], [1])).toThrow(/data\[0\] must be a number/);
    expect(() => zeros([2, -1])).toThrow(/shape\[1\] must be a non-negative integer, got -1/);
    expect(() => zeros([2, 1.5])).toThrow(ShapeError);
  });

  it('refuses element counts past what int32 kernels index, before allocating', () => {
    expect(() => zeros([65536, 65536])).toThrow(LimitError);
  });

  it('refuses impossible reshapes and bad indices', () => {
    const t = zeros([2, 3]);
    expect(() => t.reshape([4, -1])).toThrow(/cannot reshape 6 elements into \[4, -1\]/);
    expect(() => t.reshape([-1, -1])).toThrow(/only one dimension may be -1/);
    expect(() => t.get(2, 0)).toThrow(/index 2 out of range for dimension 0 of size 2/);
  });

  it('has immutable shapes and a deep clone', () => {
    const t = zeros([2]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    const c = t.clone();
    c.data[0] = 1;
    expect(t.data[0]).toBe(0);
  });
});
