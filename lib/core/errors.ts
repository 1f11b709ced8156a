/**
 * Every error convkit throws on purpose is a ConvkitError. The subclasses say
 * which kind of mistake it is, so callers can catch one kind and not another;
 * the message says which argument, what was expected and what arrived.
 */
export class ConvkitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor or array had the wrong rank, size or dimension. */
export class ShapeError extends ConvkitError {}

/** A value had the wrong type: a plain array where a Float32Array was needed, float labels, ... */
export class DTypeError extends ConvkitError {}

/** A scalar or option had a value outside what the operation accepts. */
export class ValueError extends ConvkitError {}

/** A file or byte stream is not what its reader expects. */
export class FormatError extends ConvkitError {}

/** The requested backend or ISA cannot be used. */
export class BackendError extends ConvkitError {}

/** A size that cannot be honoured: too many elements, an allocation over the cap. */
export class LimitError extends ConvkitError {}

/** Describes a value for an error message: its type and, where short, its contents. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const length = (value as unknown as { length?: number }).length;
    return length === undefined ? name : `${name}(${length})`;
  }
  if (Array.isArray(value)) {
    if (value.length <= 8) return `[${value.map((v) => (typeof v === 'number' ? String(v) : describe(v))).join(', ')}] (array)`;
    return `array of length ${value.length}`;
  }
  if (typeof value === 'number') return `${value} (number)`;
  // One line for a function: its source would fill the message (a class passed where an instance is wanted).
  if (typeof value === 'function') {
    const name = value.name || '(anonymous)';
    return /^class\b/.test(Function.prototype.toString.call(value)) ? `the class ${name} (a class, not an instance of it)` : `the function ${name}`;
  }
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '…' : value}' (string)`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  }
  return `${String(value)} (${typeof value})`;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
