import { readFileBounded } from './read.js';
import { checkBytes, checkOptions, checkPath, checkRecord } from '../core/check.js';
import { FormatError, LimitError, ValueError, describe } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { checkAllocation } from '../core/limits.js';

/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}},
 * then the tensors' bytes. convkit writes and reads F32 tensors.
 */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER = 100 * 1024 * 1024;

export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array[] {
  for (const [name, t] of Object.entries(checkRecord<NamedArray>(tensors, 'tensors', 'writeSafetensors'))) {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape.reduce((a: number, b: number) => a * b, 1) !== t.data.length) {
      throw new ValueError(`writeSafetensors: tensors['${name}'] must be {shape, data: Float32Array} with shape's product data.length elements, got ${describe(t)}`);
    }
  }
  for (const [key, value] of Object.entries(checkRecord<unknown>(metadata, 'metadata', 'writeSafetensors'))) {
    if (typeof value !== 'string') throw new ValueError(`writeSafetensors: metadata['${key}'] must be a string, got ${describe(value)}`);
  }
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    const size = t.data.byteLength;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json = json.padEnd(Math.ceil((json.length + 8) / 8) * 8 - 8, ' '); // keep the data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(head.length), true);
  return [prefix, head, ...names.map((n) => new Uint8Array(tensors[n].data.buffer, tensors[n].data.byteOffset, tensors[n].data.byteLength))];
}

/** Writes atomically (temporary file, fsync, rename). */
export function writeSafetensors(path: string, tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}, hooks: { beforeRename?: () => void } = {}): void {
  checkPath(path, 'path', 'writeSafetensors');
  writeFileAtomic(path, encodeSafetensors(tensors, metadata), hooks);
}

/** A safetensors file's contents: its tensors by name and its string metadata. */
export interface Safetensors {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
}

/** The first key that a JSON object's text names twice at its top level, or null (JSON.parse silently keeps the last). */
function duplicateTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return null;
}

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/**
 * What a file that is not safetensors is, from its first bytes, so that a
 * Keras .h5 or a tfjs model.json handed to loadModel says what it is instead
 * of reporting a header of absurd length.
 */
function foreignFormat(bytes: Uint8Array): string | null {
  if (startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) return 'an HDF5 file (a Keras .h5 model or weights?); loadKerasModel(path) imports a Keras model, loadKerasWeights(model, path) Keras weights, importHdf5(model, path) what exportHdf5 wrote';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) return 'a zip archive (a Keras 3 .keras file, a PyTorch .pt file or an .npz?); loadKerasModel(path) imports a .keras model, importNpz(model, path) reads what exportNpz wrote; a PyTorch .pt file is pickled code, save its state_dict with safetensors and use loadTorchStateDict';
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'a JSON file (a tfjs model.json, or a convkit architecture file for --model?); loadLayersModel(path) imports a tfjs LayersModel';
  return null;
}

/** Bytes per element of the dtypes a safetensors header may name; the float ones are read (as float32). */
const DTYPE_SIZE = new Map([['F32', 4], ['F64', 8], ['F16', 2], ['BF16', 2], ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1], ['U8', 1], ['BOOL', 1], ['U16', 2], ['U32', 4], ['U64', 8]]);
const FLOATS = new Set(['F32', 'F64', 'F16', 'BF16']);

/** IEEE half precision to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function toFloat32(copy: Uint8Array, dtype: string, count: number): Float32Array {
  if (dtype === 'F32') return new Float32Array(copy.buffer, copy.byteOffset, count);
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F64') for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(count);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
    out.set(new Float32Array(bits.buffer));
  }
  return out;
}

/** Options of parseSafetensors and readSafetensors. */
export interface SafetensorsReadOptions {
  /**
   * What to do with integer and boolean tensors (PyTorch's
   * num_batches_tracked): 'refuse' (default) or 'skip' them. Float tensors
   * (F32, and F64, F16, BF16 converted) are always read, as float32.
   */
  nonFloat?: 'refuse' | 'skip';
}

/** Parses safetensors bytes, checking every offset and size before copying anything. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data', options: SafetensorsReadOptions = {}): Safetensors {
  checkBytes(bytes, 'bytes', 'parseSafetensors');
  // Only a file that cannot be safetensors is named otherwise: a header's length byte may well be '{'.
  const plausible = bytes.length >= 8 && bytes[8] === 0x7b && new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true) + 8n <= BigInt(bytes.length);
  const foreign = plausible ? null : foreignFormat(bytes);
  if (foreign) throw new FormatError(`${source}: this is ${foreign}, not a safetensors file`);
  if (bytes.length < 8) throw new FormatError(`${source}: ${bytes.length} bytes is too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength + 8n > BigInt(bytes.length)) throw new FormatError(`${source}: header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  if (headerLength > BigInt(MAX_HEADER)) throw new LimitError(`${source}: header length ${headerLength} is larger than the ${MAX_HEADER}-byte limit`);
  const n = Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    throw new FormatError(`${source}: header is not valid JSON (${(error as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new FormatError(`${source}: header is not a JSON object`);
  const duplicate = duplicateTopLevelKey(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  if (duplicate !== null) throw new FormatError(`${source}: the header names '${duplicate}' twice (JSON would keep only the last)`);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, NamedArray> = {};
  const spans: [number, number, string][] = [];
  const shapes = new Map<string, number[]>();
  const dtypes = new Map<string, string>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry && typeof entry === 'object') for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' && DTYPE_SIZE.has(e.dtype) ? e.dtype : null;
    if (dtype === null) throw new FormatError(`${source}: tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}, which safetensors does not define (F32, F64, F16, BF16, I64, ...)`);
    if (!FLOATS.has(dtype) && options.nonFloat !== 'skip') throw new FormatError(`${source}: tensor '${name}' has dtype ${dtype}; convkit reads float tensors (F32, F64, F16, BF16)`);
    const size = DTYPE_SIZE.get(dtype)!;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new FormatError(`${source}: tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FormatError(`${source}: tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (count > 2 ** 31 - 1) throw new LimitError(`${source}: tensor '${name}' claims ${count} elements`);
    checkAllocation(count, 4, `${source}: tensor '${name}'`);
    if (end < begin || end > dataLength) throw new FormatError(`${source}: tensor '${name}' spans bytes ${begin}..${end} but the file holds ${dataLength} bytes of data`);
    if (end - begin !== count * size) throw new FormatError(`${source}: tensor '${name}' of shape [${(e.shape as number[]).join(', ')}] and dtype ${dtype} needs ${count * size} bytes, its offsets give ${end - begin}`);
    shapes.set(name, e.shape as number[]);
    dtypes.set(name, dtype);
    spans.push([begin, end, name]);
  }
  // The data must be covered exactly once, in order: overlapping tensors would alias each other's bytes.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) throw new FormatError(`${source}: tensor '${name}' starts at byte ${begin} of the data, ${begin < covered ? 'inside the previous tensor' : `leaving bytes ${covered}..${begin} unused`}`);
    covered = end;
  }
  if (covered !== dataLength) throw new FormatError(`${source}: the tensors cover ${covered} of the ${dataLength} bytes of data`);
  for (const [begin, end, name] of spans) {
    const dtype = dtypes.get(name)!;
    if (!FLOATS.has(dtype)) continue;
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)); // a copy: Buffer.slice would share memory
    const shape = shapes.get(name)!;
    tensors[name] = { shape, data: toFloat32(copy, dtype, shape.reduce((a, b) => a * b, 1)) };
  }
  return { tensors, metadata };
}

/**
 * Reads a safetensors file: its tensors (as float32) and metadata.
 * @example
 * ```ts
 * import { readSafetensors } from 'convkit';
 * const { tensors, metadata } = readSafetensors('model.safetensors');
 * ```
 */
export function readSafetensors(path: string, options: SafetensorsReadOptions = {}): Safetensors {
  checkPath(path, 'path', 'readSafetensors');
  checkOptions(options, ['nonFloat'], 'readSafetensors');
  if (options.nonFloat !== undefined && options.nonFloat !== 'refuse' && options.nonFloat !== 'skip') throw new ValueError(`readSafetensors: nonFloat must be 'refuse' or 'skip', got ${describe(options.nonFloat)}`);
  const bytes = readFileBounded(path);
  return parseSafetensors(bytes, path, options);
}
