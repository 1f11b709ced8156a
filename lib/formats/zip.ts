// Reading a zip archive (the container of .npz) without trusting it: the
// central directory is read first, every member's declared size is checked
// against the allocation limit before anything is inflated, names must be
// unique, each local header must agree with the directory, inflation stops
// at the declared size, and the CRC-32 of every member is verified.
import { crc32, inflateRawSync } from 'node:zlib';
import { FormatError, LimitError } from '../core/errors.js';
import { getAllocationLimit } from '../core/limits.js';

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The central directory's entries, with zip64 sizes and offsets resolved; nothing is inflated. */
export function zipDirectory(bytes: Uint8Array, source: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(`${source}: not a zip archive (no end of central directory)`);
  let count = view.getUint16(eocd + 10, true);
  let dirSize = view.getUint32(eocd + 12, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) throw new FormatError(`${source}: zip64 sizes without a zip64 locator`);
    const at = u64(locator + 8);
    if (at + 56 > bytes.length || view.getUint32(at, true) !== ZIP64_EOCD) throw new FormatError(`${source}: bad zip64 end of central directory`);
    count = u64(at + 32);
    dirSize = u64(at + 40);
    dirOffset = u64(at + 48);
  }
  if (dirOffset + dirSize > bytes.length) throw new FormatError(`${source}: the central directory (${dirSize} bytes at ${dirOffset}) runs past the end of the file`);
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > dirOffset + dirSize || view.getUint32(at, true) !== CENTRAL) throw new FormatError(`${source}: central directory entry ${i} is damaged`);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localOffset = view.getUint32(at + 42, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > dirOffset + dirSize) throw new FormatError(`${source}: central directory entry ${i} runs past the directory`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // zip64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in this order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (id === 1) {
        let p = e + 4;
        if (size === 0xffffffff) (size = u64(p)), (p += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(p)), (p += 8);
        if (localOffset === 0xffffffff) localOffset = u64(p);
      }
      e += 4 + length;
    }
    if (names.has(name)) throw new FormatError(`${source}: the archive holds '${name}' twice`);
    names.add(name);
    entries.push({ name, method, crc, compressedSize, size, localOffset });
    at = end;
  }
  return entries;
}

/** Every member's bytes, each checked as the file header explains. */
export function unzipChecked(bytes: Uint8Array, source: string, accept: (name: string) => boolean = () => true): Record<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = zipDirectory(bytes, source).filter((e) => accept(e.name));
  const limit = getAllocationLimit();
  const total = entries.reduce((n, e) => n + e.size, 0);
  if (total > limit) {
    throw new LimitError(`${source}: the members declare ${(total / 2 ** 20).toFixed(1)} MiB uncompressed, over the allocation limit of ${(limit / 2 ** 20).toFixed(1)} MiB (setAllocationLimit or CONVKIT_MAX_ALLOC_BYTES)`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const e of entries) {
    const where = `${source}:${e.name}`;
    if (e.localOffset + 30 > bytes.length || view.getUint32(e.localOffset, true) !== LOCAL) throw new FormatError(`${where}: no local header where the directory says (${e.localOffset})`);
    const nameLength = view.getUint16(e.localOffset + 26, true);
    const extraLength = view.getUint16(e.localOffset + 28, true);
    if (new TextDecoder().decode(bytes.subarray(e.localOffset + 30, e.localOffset + 30 + nameLength)) !== e.name) throw new FormatError(`${where}: the local header names another file`);
    const start = e.localOffset + 30 + nameLength + extraLength;
    if (start + e.compressedSize > bytes.length) throw new FormatError(`${where}: ${e.compressedSize} compressed bytes run past the end of the file`);
    const data = bytes.subarray(start, start + e.compressedSize);
    let content: Uint8Array;
    if (e.method === 0) content = data;
    else if (e.method === 8) {
      try {
        content = inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
      } catch (error) {
        const e2 = error as NodeJS.ErrnoException;
        throw new FormatError(e2.code === 'ERR_BUFFER_TOO_LARGE' ? `${where}: inflates to more than its declared ${e.size} bytes` : `${where}: bad deflate data (${e2.message})`);
      }
    } else throw new FormatError(`${where}: compression method ${e.method} is not supported (stored or deflate)`);
    if (content.length !== e.size) throw new FormatError(`${where}: holds ${content.length} bytes, the directory says ${e.size}`);
    if (crc32(content) >>> 0 !== e.crc) throw new FormatError(`${where}: CRC-32 mismatch (the member is corrupt or was altered)`);
    out[e.name] = content;
  }
  return out;
}
