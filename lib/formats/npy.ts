import { unzipChecked } from './zip.js';
import { readFileBounded } from './read.js';
import { checkBytes, checkIndexList, checkPath, checkRecord } from '../core/check.js';
import { checkOptions } from '../core/check.js';
import { zipSync } from 'fflate';
import { DTypeError, FormatError, LimitError, ValueError, describe } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { checkAllocation } from '../core/limits.js';

/** The NumPy dtypes convkit reads (`<f4`, `|u1`, ...) without their byte-order mark. */
export type NpyDtype = 'f4' | 'f8' | 'u1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'i8' | 'u8' | 'b1';
/** The typed array a NumPy dtype reads into. */
export type NpyData = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigInt64Array | BigUint64Array;

/** A NumPy array as read from `.npy`: its dtype, shape and data. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SIZES: Record<NpyDtype, number> = { f4: 4, f8: 8, u1: 1, i1: 1, b1: 1, u2: 2, i2: 2, u4: 4, i4: 4, i8: 8, u8: 8 };

/**
 * Parses a .npy file (format versions 1-3, little-endian or single-byte
 * dtypes, C order). Sizes are checked against the bytes present before any
 * array is made.
 */
export function parseNpy(bytes: Uint8Array, source = '.npy data', maxElements = 2 ** 31 - 1): NpyArray {
  checkBytes(bytes, 'bytes', 'parseNpy');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new FormatError(`${source}: not a .npy file (bad magic number)`);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new FormatError(`${source}: .npy format version ${major} is not supported`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new FormatError(`${source}: truncated header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) throw new FormatError(`${source}: header of ${headerLen} bytes runs past the end of the file (${bytes.length} bytes)`);
  // Buffer's latin1 is byte for byte (TextDecoder's 'latin1' is windows-1252 and differs between Node builds).
  const headerBytes = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen);
  const header = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : headerBytes.toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new FormatError(`${source}: malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new FormatError(`${source}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const dtype = m ? (`${m[2]}${m[3]}` as NpyDtype) : undefined;
  if (!m || !dtype || !(dtype in SIZES)) throw new FormatError(`${source}: dtype '${descr}' is not supported (float32/64, int8-64, uint8-64, bool)`);
  if (m[1] === '>' && SIZES[dtype] > 1) throw new FormatError(`${source}: big-endian dtype '${descr}' is not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(n) || n < 0) throw new FormatError(`${source}: bad dimension '${s}' in shape (${shapeText})`);
    return n;
  });
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > maxElements) throw new LimitError(`${source}: shape (${shape.join(', ')}) has ${count} elements, more than the ${maxElements} allowed`);
  checkAllocation(count, Math.max(SIZES[dtype], 4), `${source}: shape (${shape.join(', ')})`);
  const offset = start + headerLen;
  const need = count * SIZES[dtype];
  if (bytes.length - offset < need) throw new FormatError(`${source}: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes but the file holds ${bytes.length - offset}`);
  const raw = new Uint8Array(bytes.subarray(offset, offset + need)); // a copy (Buffer.slice would share), aligned for the typed array
  const buffer = raw.buffer;
  const data: NpyData = {
    f4: () => new Float32Array(buffer), f8: () => new Float64Array(buffer), u1: () => new Uint8Array(buffer), b1: () => new Uint8Array(buffer),
    i1: () => new Int8Array(buffer), u2: () => new Uint16Array(buffer), i2: () => new Int16Array(buffer), u4: () => new Uint32Array(buffer),
    i4: () => new Int32Array(buffer), i8: () => new BigInt64Array(buffer), u8: () => new BigUint64Array(buffer),
  }[dtype]();
  return { dtype, shape, data };
}

/**
 * Reads a NumPy `.npy` file.
 * @example
 * ```ts
 * import { data } from 'convkit';
 * const x = data.toFloat32(data.readNpy('x.npy'));
 * ```
 */
export function readNpy(path: string): NpyArray {
  checkPath(path, 'path', 'readNpy');
  return parseNpy(readFileBounded(path), path);
}

const DESCR: [new (...a: never[]) => NpyData, string][] = [
  [Float32Array, '<f4'], [Float64Array, '<f8'], [Uint8Array, '|u1'], [Int8Array, '|i1'], [Uint16Array, '<u2'], [Int16Array, '<i2'],
  [Uint32Array, '<u4'], [Int32Array, '<i4'], [BigInt64Array, '<i8'], [BigUint64Array, '<u8'],
];

/** Encodes a typed array as .npy (version 1.0, C order). */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  checkIndexList(shape, 'shape', 'encodeNpy');
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw new DTypeError(`encodeNpy: data must be a typed array, got ${describe(data)}`);
  const entry = DESCR.find(([ctor]) => data instanceof ctor);
  if (!entry) throw new ValueError(`encodeNpy: unsupported array type ${describe(data)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ValueError(`encodeNpy: shape (${shape.join(', ')}) holds ${count} elements but the array has ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${entry[1]}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Pad so the data starts on a 64-byte boundary, ending the header with a newline, as NumPy does.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/**
 * An array as float32, by a fixed rule: floats are rounded to float32,
 * integers and booleans keep their values (exact up to 2^24); uint8 images
 * are not rescaled (use scaleImages for 0..255 → [0, 1]).
 */
function checkNpyArray(array: unknown, fn: string): void {
  const a = array as NpyArray | null;
  if (!a || typeof a !== 'object' || !ArrayBuffer.isView(a.data) || !Array.isArray(a.shape)) throw new ValueError(`${fn}: array must be a parsed .npy array {data, shape, dtype}, got ${describe(array)}`);
}

/** A float32 tensor of the array's shape and values. */
export function toFloat32(array: NpyArray): Tensor {
  checkNpyArray(array, 'toFloat32');
  const out = new Float32Array(array.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(array.data[i]);
  return new Tensor(out, array.shape);
}

/** Integer labels from any integer (or integral float) array, flattened. */
export function toLabels(array: NpyArray, source = 'labels'): Int32Array {
  checkNpyArray(array, 'toLabels');
  const out = new Int32Array(array.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(array.data[i]);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new ValueError(`${source}: element ${i} = ${v} is not an integer label`);
    out[i] = v;
  }
  return out;
}

/** Reads every array of a .npz (plain or compressed zip of .npy files), by key without '.npy'. */
export function parseNpz(bytes: Uint8Array, source = '.npz data'): Record<string, NpyArray> {
  checkBytes(bytes, 'bytes', 'parseNpz');
  const files = unzipChecked(bytes, source, (name) => name.endsWith('.npy'));
  const out: Record<string, NpyArray> = {};
  for (const [name, content] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    out[name.slice(0, -4)] = parseNpy(content, `${source}:${name}`);
  }
  return out;
}

/** Reads every array of a NumPy `.npz` archive (stored or deflated), by name. */
export function readNpz(path: string): Record<string, NpyArray> {
  checkPath(path, 'path', 'readNpz');
  return parseNpz(readFileBounded(path), path);
}

/** Encodes arrays as a .npz (deflate-compressed, like np.savez_compressed). */
export function encodeNpz(arrays: Record<string, { data: NpyData; shape: readonly number[] }>, options: { compress?: boolean } = {}): Uint8Array {
  checkOptions(options, ['compress'], 'encodeNpz');
  for (const [key, a] of Object.entries(checkRecord<{ data: NpyData; shape: readonly number[] }>(arrays, 'arrays', 'encodeNpz'))) {
    if (!a || typeof a !== 'object') throw new ValueError(`encodeNpz: arrays.${key} must be {data, shape}, got ${describe(a)}`);
  }
  const files: Record<string, Uint8Array> = {};
  for (const [key, a] of Object.entries(arrays)) files[`${key}.npy`] = encodeNpy(a.data, a.shape);
  return zipSync(files, { level: options.compress === false ? 0 : 6 });
}
