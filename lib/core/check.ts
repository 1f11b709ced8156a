// The checks every public entry point runs on its options before anything is
// allocated or any native call is made (in the spirit of sharp's `is`
// helpers). Errors name the function the user called, the option, what was
// expected and what arrived; an option the function does not know is an
// error that suggests the nearest one it does.
import { DTypeError, ValueError, describe } from './errors.js';

/** Other frameworks' names for an option, mapped to convkit's (Keras, PyTorch, TensorFlow.js spellings). */
const SYNONYMS: Record<string, string[]> = {
  learningRate: ['lr', 'learning_rate', 'learningrate', 'alpha'],
  strides: ['stride', 'strides'],
  stride: ['strides', 'stride'],
  poolSize: ['pool_size', 'kernel_size', 'kernelSize', 'kernel', 'size'],
  kernel: ['pool_size', 'poolSize', 'kernel_size', 'kernelSize', 'size'],
  kernelSize: ['kernel_size', 'kernel', 'ksize', 'filter_size'],
  filters: ['out_channels', 'outChannels', 'channels', 'num_filters'],
  units: ['out_features', 'outFeatures', 'outputs', 'output_dim'],
  useBias: ['use_bias', 'bias'],
  kernelInitializer: ['kernel_initializer', 'initializer', 'init'],
  batchSize: ['batch_size', 'batch'],
  epochs: ['epoch', 'n_epochs', 'num_epochs', 'nb_epoch'],
  validation: ['validation_split', 'validation_data', 'validationData', 'val'],
  earlyStopping: ['early_stopping', 'patience'],
  initialEpoch: ['initial_epoch'],
  verbose: ['verbosity'],
  weightDecay: ['weight_decay', 'decay', 'l2'],
  epsilon: ['eps'],
  beta1: ['beta_1', 'b1'],
  beta2: ['beta_2', 'b2'],
  restoreBestWeights: ['restore_best_weights'],
  minDelta: ['min_delta'],
  inputShape: ['input_shape', 'shape'],
  rate: ['p', 'dropout'],
  alpha: ['negative_slope', 'negativeSlope', 'slope'],
  dataDir: ['data_dir', 'dir', 'path'],
  softmaxCrossEntropy: ['softmax', 'crossentropy', 'cross_entropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy', 'CrossEntropyLoss', 'ce'],
  sigmoidBinaryCrossEntropy: ['sigmoid', 'binary_crossentropy', 'binaryCrossentropy', 'bce', 'BCEWithLogitsLoss', 'BCELoss'],
};

/** Levenshtein distance, for suggestions. */
/** Edit distance counting a swap of two neighbouring letters as one edit ('shfit' is one from 'shift'). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

/** The known name closest to a mistyped one: a synonym, the same name in another case or with underscores, or a near spelling. */
export function nearest(name: string, known: readonly string[]): string | null {
  for (const k of known) if (SYNONYMS[k]?.some((s) => squash(s) === squash(name))) return k;
  for (const k of known) if (squash(k) === squash(name)) return k;
  // A prefix ('pad' for 'padding', 'init' for 'initialEpoch' is not: at least 3 letters and a unique match).
  const prefixed = known.filter((k) => squash(name).length >= 3 && squash(k).startsWith(squash(name)));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(squash(name), squash(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(Math.min(name.length, best.length) / 3)) ? best : null;
}

/** "did you mean 'x'?" for a name, or an empty string. */
export function didYouMean(name: string, known: readonly string[]): string {
  const n = nearest(name, known);
  return n ? `; did you mean '${n}'?` : '';
}

/**
 * Checks that options is undefined or a plain object whose every key is one
 * fn knows, and returns it (an empty object for undefined).
 */
export function checkOptions<T extends object>(options: T | undefined, known: readonly string[], fn: string, what = 'options'): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${fn}: ${what} must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValueError(`${fn}: unknown option '${key}'${didYouMean(key, known)} (${what === 'options' ? fn : `${fn}'s ${what}`} takes ${known.map((k) => `'${k}'`).join(', ')})`);
    }
  }
  return options;
}

/** A number in [min, max] (bounds optional; exclusive ones with minExclusive / maxExclusive). */
export function checkNumber(
  value: unknown, name: string, fn: string,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {},
): number {
  const kind = range.integer ? 'an integer' : 'a finite number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
    throw new ValueError(`${fn}: ${name} must be ${kind}${rangeText(range)}, got ${describe(value)}`);
  }
  const { min, max } = range;
  if ((min !== undefined && (range.minExclusive ? value <= min : value < min)) || (max !== undefined && (range.maxExclusive ? value >= max : value > max))) {
    throw new ValueError(`${fn}: ${name} must be ${kind}${rangeText(range)}, got ${value}`);
  }
  return value;
}

function rangeText(r: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }): string {
  if (r.min !== undefined && r.max !== undefined) return ` in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  if (r.min !== undefined) return ` ${r.minExclusive ? '>' : '>='} ${r.min}`;
  if (r.max !== undefined) return ` ${r.maxExclusive ? '<' : '<='} ${r.max}`;
  return '';
}

/** The one check of a count, size or index option (every module uses it, so the messages agree). */
export function checkPositiveInt(value: unknown, name: string, fn: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ValueError(`${fn}: ${name} must be a positive integer, got ${describe(value)}`);
  return value;
}

export function checkNonNegativeInt(value: unknown, name: string, fn: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ValueError(`${fn}: ${name} must be a non-negative integer, got ${describe(value)}`);
  return value;
}

export function checkBoolean(value: unknown, name: string, fn: string): boolean {
  if (typeof value !== 'boolean') throw new ValueError(`${fn}: ${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function checkString(value: unknown, name: string, fn: string): string {
  if (typeof value !== 'string' || value === '') throw new ValueError(`${fn}: ${name} must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** One of the allowed values (strings compared as given), with a suggestion for a near miss. */
export function checkOneOf<T extends string | number | boolean>(value: unknown, allowed: readonly T[], name: string, fn: string): T {
  if (allowed.includes(value as T)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, allowed.filter((a): a is T & string => typeof a === 'string')) : '';
  throw new ValueError(`${fn}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}${hint}`);
}

export function checkFunction<F>(value: unknown, name: string, fn: string, what = 'a function'): F {
  if (typeof value !== 'function') throw new ValueError(`${fn}: ${name} must be ${what}, got ${describe(value)}`);
  return value as F;
}

/**
 * Two spellings of one option (stride and strides): either may be given, not
 * both with different values. Returns the value, or undefined for neither.
 */
export function eitherOf<T>(options: object, a: string, b: string, fn: string): T | undefined {
  const o = options as Record<string, unknown>;
  const hasA = o[a] !== undefined;
  const hasB = o[b] !== undefined;
  if (hasA && hasB && JSON.stringify(o[a]) !== JSON.stringify(o[b])) {
    throw new ValueError(`${fn}: '${a}' and '${b}' are the same option, given twice with different values (${describe(o[a])} and ${describe(o[b])})`);
  }
  return (hasA ? o[a] : o[b]) as T | undefined;
}

/** Integer class labels of any integer typed array, a Buffer or a number[], as an Int32Array (a copy only when needed). */
export function toInt32Labels(y: unknown, name: string, fn: string): Int32Array {
  if (y instanceof Int32Array) return y;
  if (y instanceof Uint8Array || y instanceof Int8Array || y instanceof Uint16Array || y instanceof Int16Array || y instanceof Uint32Array || Array.isArray(y)) {
    const out = new Int32Array(y.length);
    for (let i = 0; i < y.length; i++) {
      const v = (y as ArrayLike<unknown>)[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new DTypeError(`${fn}: ${name}[${i}] must be an integer class label, got ${describe(v)}`);
      if (v < -(2 ** 31) || v >= 2 ** 31) throw new ValueError(`${fn}: ${name}[${i}] = ${v} is not a class label`);
      out[i] = v;
    }
    return out;
  }
  if (y instanceof BigInt64Array || y instanceof BigUint64Array) {
    const out = new Int32Array(y.length);
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      if (v < -(2n ** 31n) || v >= 2n ** 31n) throw new ValueError(`${fn}: ${name}[${i}] = ${v} is not a class label`);
      out[i] = Number(v);
    }
    return out;
  }
  throw new DTypeError(`${fn}: ${name} must be integer class labels (an integer typed array, a Buffer or number[]), got ${describe(y)}`);
}

/**
 * What a record holds under a name the user gave: only its own entries, so
 * that 'constructor', 'toString' or '__proto__' find nothing instead of
 * Object's properties. Every lookup of user text in a plain-object table
 * goes through here (the registries themselves are Maps).
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** One key for the spellings users bring of a name: glorot_uniform, GlorotUniform and glorotUniform all give 'glorotuniform'. */
export function foldName(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** A file or folder name: a non-empty string without NUL bytes. */
export function checkPath(value: unknown, name: string, fn: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) throw new ValueError(`${fn}: ${name} must be a file or folder name (a non-empty string), got ${describe(value)}`);
  // tfjs's habit ('file://dir', 'indexeddb://name'): without this a folder named 'file:' appears.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) {
    const hint = scheme[1].toLowerCase() === 'file' ? `give the path itself ('${value.slice(7) || '/'}')${fn === 'saveModel' || fn === 'loadModel' ? '' : '; saveModel and loadModel also take file:// URLs'}` : `convkit reads and writes local files; '${scheme[1]}://' is a store of tfjs or a remote URL`;
    throw new ValueError(`${fn}: ${name} '${value}' is a URL, not a file or folder name; ${hint}`);
  }
  return value;
}

/**
 * A path given as a file:// URL as tfjs-node reads it (everything after
 * 'file://': 'file://./model' is ./model, 'file:///tmp/x' is /tmp/x); other
 * values unchanged.
 */
export function pathFromFileUrl(value: unknown, name: string, fn: string): unknown {
  if (typeof value !== 'string' || !/^file:\/\//i.test(value)) return value;
  const path = value.slice(7);
  if (path === '') throw new ValueError(`${fn}: ${name} 'file://' names no file or folder`);
  return path;
}

/** Raw file bytes: a Uint8Array (a Buffer is one). */
export function checkBytes(value: unknown, name: string, fn: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new DTypeError(`${fn}: ${name} must be a Uint8Array or Buffer of file bytes, got ${describe(value)}`);
  return value;
}

/** A list of non-negative integers (an array or typed array), e.g. row indices or dims. */
export function checkIndexList(value: unknown, name: string, fn: string): ArrayLike<number> {
  if (!(Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array)))) {
    throw new DTypeError(`${fn}: ${name} must be an array of non-negative integers, got ${describe(value)}`);
  }
  const list = value as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ValueError(`${fn}: ${name}[${i}] must be a non-negative integer, got ${describe(v)}`);
  }
  return value as ArrayLike<number>;
}

/** A plain object (a record of named things). */
export function checkRecord<T>(value: unknown, name: string, fn: string): Record<string, T> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ValueError(`${fn}: ${name} must be an object of named entries, got ${describe(value)}`);
  return value as Record<string, T>;
}

/** A model (a Sequential): what the file functions take. */
export function checkModel<M>(value: unknown, fn: string, needBuilt = false): M {
  const m = value as { parameters?: unknown; layers?: unknown; config?: unknown; built?: unknown; name?: unknown } | null;
  if (!m || typeof m !== 'object' || typeof m.parameters !== 'function' || !Array.isArray(m.layers) || typeof m.config !== 'function') {
    throw new ValueError(`${fn}: model must be a convkit model (sequential() or model()), got ${describe(value)}`);
  }
  if (needBuilt && m.built === false) throw new ValueError(`${fn}: model '${String(m.name)}' is not built, so it has no weights yet; give it an inputShape, call build([h, w, c]) or fit it first`);
  return value as M;
}
