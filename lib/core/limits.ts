import { totalmem } from 'node:os';
import { LimitError, ValueError, describe } from './errors.js';

/** Native kernels index with 32-bit integers: no array may have more elements. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

function initialLimit(): number {
  const env = process.env.CONVKIT_MAX_ALLOC_BYTES;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isFinite(n) || n <= 0) throw new ValueError(`CONVKIT_MAX_ALLOC_BYTES must be a positive number of bytes, got '${env}'`);
    return n;
  }
  return Math.floor(totalmem() / 2);
}

let limitBytes = initialLimit();

/** The largest single allocation convkit makes (default: half the machine's memory, or $CONVKIT_MAX_ALLOC_BYTES). */
export function getAllocationLimit(): number {
  return limitBytes;
}

/**
 * Sets the largest tensor, in bytes, that convkit allocates (a guard against a mistyped shape taking all memory).
 * @example
 * ```ts
 * import { setAllocationLimit } from 'convkit';
 * setAllocationLimit(8 * 2 ** 30); // 8 GiB
 * ```
 */
export function setAllocationLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes <= 0) {
    throw new ValueError(`setAllocationLimit: bytes must be a positive number, got ${describe(bytes)}`);
  }
  limitBytes = bytes;
}

/**
 * Refuses, before allocating, an array that could not be indexed or would
 * pass the cap. `what` names it; a function is called only to throw (every
 * Tensor is checked, and formatting a shape per call showed in a training step's profile).
 */
export function checkAllocation(elements: number, bytesPerElement: number, what: string | (() => string)): void {
  const bytes = elements * bytesPerElement;
  if (elements <= MAX_ELEMENTS && bytes <= limitBytes) return;
  const name = typeof what === 'function' ? what() : what;
  if (elements > MAX_ELEMENTS) {
    throw new LimitError(`${name} needs ${elements} elements, more than the ${MAX_ELEMENTS} convkit's kernels can index`);
  }
  throw new LimitError(`${name} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, over the allocation limit of ${(limitBytes / 2 ** 20).toFixed(1)} MiB (setAllocationLimit or CONVKIT_MAX_ALLOC_BYTES)`);
}
