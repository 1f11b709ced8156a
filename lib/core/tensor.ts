import { DTypeError, LimitError, ShapeError, ValueError, describe, formatShape } from './errors.js';
import { MAX_ELEMENTS as MAX_ELEMENTS_, checkAllocation } from './limits.js';

/** A tensor's dimensions, outermost first (NHWC for images). */
export type Shape = readonly number[];

export { MAX_ELEMENTS } from './limits.js';

/**
 * A float32 tensor: a Float32Array and a row-major shape. Tensors are plain
 * garbage-collected objects; reshape returns a view on the same data.
 */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;

  constructor(data: Float32Array, shape: Shape) {
    if (!(data instanceof Float32Array)) {
      throw new DTypeError(`Tensor: data must be a Float32Array, got ${describe(data)}`);
    }
    const size = checkShape(shape, 'shape');
    if (size !== data.length) {
      throw new ShapeError(
        `Tensor: shape ${formatShape(shape)} holds ${size} elements but data has ${data.length}`,
      );
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  /** A view with another shape on the same data; one dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.data, resolveReshape(shape, this.data.length));
  }

  /**
   * Rows [start, end) along the first axis (a batch of samples), as a view on
   * the same data; negative indices count from the end, as in Array.slice.
   */
  slice(start = 0, end: number = this.shape[0] ?? 0): Tensor {
    if (this.rank === 0) throw new ShapeError('slice: a scalar tensor has no first axis to slice');
    const n = this.shape[0];
    for (const [name, v] of [['start', start], ['end', end]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`slice: ${name} must be an integer, got ${describe(v)}`);
    }
    const from = Math.min(n, start < 0 ? Math.max(0, n + start) : start);
    const to = Math.max(from, Math.min(n, end < 0 ? Math.max(0, n + end) : end));
    const row = n === 0 ? 0 : this.data.length / n;
    return new Tensor(this.data.subarray(from * row, to * row), [to - from, ...this.shape.slice(1)]);
  }

  /** A deep copy. */
  clone(): Tensor {
    return new Tensor(new Float32Array(this.data), this.shape);
  }

  /** The element at a full multi-index. */
  get(...index: number[]): number {
    return this.data[this.offset(index)];
  }

  /** Writes one element at a full index (one number per dimension). */
  set(value: number, ...index: number[]): void {
    this.data[this.offset(index)] = value;
  }

  /** Nested arrays, as a person would write the tensor down. */
  toArray(): unknown[] | number {
    const build = (dim: number, base: number): unknown[] | number => {
      if (dim === this.shape.length) return this.data[base];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, base + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** `Tensor[2, 3]` with its first values, for logs. */
  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)})`;
  }

  private offset(index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ShapeError(`Tensor.get: index has ${index.length} coordinates but the tensor has rank ${this.shape.length}`);
    }
    let offset = 0;
    for (let d = 0; d < index.length; d++) {
      const i = index[d];
      if (!Number.isInteger(i) || i < 0 || i >= this.shape[d]) {
        throw new ShapeError(`Tensor.get: index ${i} out of range for dimension ${d} of size ${this.shape[d]}`);
      }
      offset = offset * this.shape[d] + i;
    }
    return offset;
  }
}

/** Checks a shape's dimensions and returns its element count. */
export function checkShape(shape: unknown, name: string): number {
  if (!Array.isArray(shape)) throw new DTypeError(`${name} must be an array of dimensions, got ${describe(shape)}`);
  let size = 1;
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new ShapeError(`${name}[${d}] must be a non-negative integer, got ${describe(n)}`);
    }
    // Even with a zero elsewhere (no elements), loops run over every dimension: none may pass what the kernels index.
    if (n > MAX_ELEMENTS_) throw new LimitError(`${name}[${d}] = ${n} is more than the ${MAX_ELEMENTS_} a dimension may hold`);
    size *= n;
  }
  checkAllocation(size, 4, () => `${name} ${formatShape(shape)}`);
  return size;
}

function resolveReshape(shape: readonly number[], size: number): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    if (out.indexOf(-1, unknown + 1) >= 0) throw new ShapeError(`reshape: only one dimension may be -1, got ${formatShape(shape)}`);
    const known = out.reduce((a, b, i) => (i === unknown ? a : a * b), 1);
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${size} elements into ${formatShape(shape)}`);
    }
    out[unknown] = size / known;
  }
  const total = checkShape(out, 'reshape shape');
  if (total !== size) throw new ShapeError(`reshape: cannot reshape ${size} elements into ${formatShape(shape)}`);
  return out;
}

/** Makes a tensor from a Float32Array (shared, not copied) or numbers (copied). */
export function tensor(data: Float32Array | ArrayLike<number>, shape?: readonly number[]): Tensor {
  let array: Float32Array;
  if (data instanceof Float32Array) array = data;
  else if (Array.isArray(data) || ArrayBuffer.isView(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') throw new DTypeError(`tensor: data[${i}] must be a number, got ${describe(data[i])}`);
    }
    array = Float32Array.from(data as ArrayLike<number>);
  } else throw new DTypeError(`tensor: data must be a Float32Array or an array of numbers, got ${describe(data)}`);
  return new Tensor(array, shape ?? [array.length]);
}

/** Makes a tensor from nested arrays, inferring the shape: tensorFromNested([[1, 2], [3, 4]]). */
export function fromNested(values: unknown): Tensor {
  if (!Array.isArray(values)) throw new DTypeError(`fromNested: values must be (nested) arrays of numbers, got ${describe(values)}`);
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat = (values as unknown[]).flat(Infinity as 1) as unknown[];
  const size = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== size) throw new ShapeError(`fromNested: ragged nested array, shape ${formatShape(shape)} wants ${size} numbers, found ${flat.length}`);
  return tensor(flat as number[], shape);
}

/**
 * A new tensor of zeros.
 * @example
 * ```ts
 * import { zeros } from 'convkit';
 * const x = zeros([2, 28, 28, 1]);
 * ```
 */
export function zeros(shape: readonly number[]): Tensor {
  return new Tensor(new Float32Array(checkShape(shape as number[], 'shape')), shape);
}

/**
 * A new tensor with every element set to value.
 * @example
 * ```ts
 * import { full } from 'convkit';
 * const halves = full([4], 0.5);
 * ```
 */
export function full(shape: readonly number[], value: number): Tensor {
  if (typeof value !== 'number') throw new ValueError(`full: value must be a number, got ${describe(value)}`);
  return new Tensor(new Float32Array(checkShape(shape as number[], 'shape')).fill(value), shape);
}

/** Whether value is a convkit Tensor. */
export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}
