import { expect } from 'vitest';

/** Central differences of f with respect to every element of param, in float64. */
export function numericalGradient(f: () => number, param: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(param.length);
  for (let i = 0; i < param.length; i++) {
    const saved = param[i];
    param[i] = saved + h;
    const plus = f();
    param[i] = saved - h;
    const minus = f();
    param[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/**
 * Analytic and numeric gradients agree to `rel` of the gradient's magnitude.
 * In float64 with h = 1e-6 the truncation error of a smooth op is ~1e-12 and
 * rounding ~1e-10, so 1e-6 leaves room without hiding a wrong formula.
 */
export function expectGradientsClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, label: string, rel = 1e-6): void {
  expect(analytic.length, `${label}: length`).toBe(numeric.length);
  let scale = 0;
  for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
  const tolerance = rel * Math.max(scale, 1);
  for (let i = 0; i < numeric.length; i++) {
    const err = Math.abs(analytic[i] - numeric[i]);
    if (!(err <= tolerance)) {
      throw new Error(`${label}: gradient[${i}] analytic ${analytic[i]} vs numeric ${numeric[i]} (|diff| ${err} > ${tolerance})`);
    }
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function randomFloat64(random: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random();
  return out;
}
