import { readFileBounded } from './read.js';
import { checkBytes, checkIndexList, checkPath } from '../core/check.js';
import { gunzipSync } from 'node:zlib';
import { FormatError, LimitError, ShapeError } from '../core/errors.js';
import { checkAllocation, getAllocationLimit } from '../core/limits.js';

/** An IDX file's contents: its shape and its values (bytes, or the stored type). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Decompresses a gzip buffer (detected by its magic bytes) or returns it as is. */
export function maybeGunzip(bytes: Uint8Array, source: string, maxBytes = Math.min(2 ** 31 - 1, getAllocationLimit())): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      // zlib grows its output as it inflates and stops at maxOutputLength: a small file that inflates to gigabytes costs at most the limit.
      return gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new LimitError(`${source}: decompresses to more than ${(maxBytes / 2 ** 20).toFixed(1)} MiB, the allocation limit (setAllocationLimit or CONVKIT_MAX_ALLOC_BYTES)`);
      }
      throw new FormatError(`${source}: not a valid gzip file (${(error as Error).message})`);
    }
  }
  return bytes;
}

/**
 * Parses an IDX file (the MNIST format): 0x00 0x00, a type byte (0x08 =
 * unsigned byte, the only type the MNIST family uses), a rank byte, then
 * big-endian uint32 dimensions and the data. Plain or gzip-compressed.
 * Every size is checked against the bytes present before anything is allocated.
 */
export function parseIdx(input: Uint8Array, source = 'IDX data'): IdxArray {
  checkBytes(input, 'bytes', 'parseIdx');
  const bytes = maybeGunzip(input, source);
  if (bytes.length < 4) throw new FormatError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new FormatError(`${source}: bad magic number 0x${Buffer.from(bytes.subarray(0, 4)).toString('hex')} (IDX files start with 0x0000)`);
  if (bytes[2] !== 0x08) throw new FormatError(`${source}: IDX element type 0x${bytes[2].toString(16)} is not supported (only 0x08, unsigned byte)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new FormatError(`${source}: IDX rank ${rank} is not supported (1 to 4)`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new FormatError(`${source}: truncated header (${bytes.length} bytes, need ${header})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  if (size > 2 ** 31 - 1) throw new LimitError(`${source}: header claims ${size} elements (dims ${dims.join('x')}), more than convkit reads`);
  checkAllocation(size, 4, `${source}: dims ${dims.join('x')} as float32`);
  if (bytes.length - header < size) throw new FormatError(`${source}: header claims ${size} bytes of data (dims ${dims.join('x')}) but the file holds ${bytes.length - header}`);
  if (bytes.length - header > size) throw new FormatError(`${source}: ${bytes.length - header - size} bytes of trailing data after ${size} elements`);
  return { dims, data: bytes.subarray(header, header + size) };
}

/**
 * Reads an IDX file (MNIST's format), plain or gzip-compressed.
 * @example
 * ```ts
 * import { data } from 'convkit';
 * const images = data.readIdx('train-images-idx3-ubyte.gz');
 * console.log(images.shape); // [60000, 28, 28]
 * ```
 */
export function readIdx(path: string): IdxArray {
  checkPath(path, 'path', 'readIdx');
  const bytes = readFileBounded(path);
  return parseIdx(bytes, path);
}

/** Writes an unsigned-byte IDX file (for fixtures and exports). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  checkIndexList(dims, 'dims', 'encodeIdx');
  checkBytes(data, 'data', 'encodeIdx');
  if (dims.length < 1 || dims.length > 255) throw new ShapeError(`encodeIdx: dims must have 1 to 255 entries, got ${dims.length}`);
  if (dims.some((d) => d > 0xffffffff)) throw new ShapeError(`encodeIdx: each dim must fit in 32 bits, got ${dims.join('x')}`);
  if (dims.reduce((a, b) => a * b, 1) !== data.length) throw new ShapeError(`encodeIdx: dims ${dims.join('x')} hold ${dims.reduce((a, b) => a * b, 1)} bytes but data has ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
