// HDF5 through h5wasm (libhdf5 compiled to WebAssembly), kept inside the
// file it was asked to open. h5wasm's Node build reaches the real file system
// (NODERAWFS), so a dataset with external storage, or a virtual one, would
// make libhdf5 open and read any other local file that the .h5 names. Every
// call runs with fs.openSync narrowed to the file itself (and a temporary
// file being written), and with libhdf5's diagnostic printing (dozens of
// HDF5-DIAG lines for one bad file) caught and turned into one FormatError.
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { ConvkitError, FormatError } from '../core/errors.js';
import { checkAllocation } from '../core/limits.js';

type H5 = typeof import('h5wasm/node').default;
export type H5File = InstanceType<H5['File']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5> | null = null;

/** h5wasm, loaded on first use (it is a 3 MB WebAssembly module). */
export async function hdf5(): Promise<H5> {
  h5 ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5;
}

const nodeFs = () => createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/** HDF5 filters h5wasm decodes: deflate, shuffle, fletcher32. Others (LZF, Blosc, ...) it lacks, and would hand back compressed bytes. */
const SUPPORTED_FILTERS = new Set([1, 2, 3]);

/**
 * Runs an h5wasm call that may open only `allowed` files, with libhdf5's
 * stderr caught. An error becomes one FormatError that starts with `what`
 * and carries libhdf5's most specific line; an open of any other file is
 * refused and named.
 */
export function sandboxed<T>(allowed: readonly string[], what: string, call: () => T): T {
  const fs = nodeFs();
  const { writeSync, openSync } = fs;
  const permitted = new Set(allowed.map((p) => resolve(p)));
  const caught: string[] = [];
  const outside: string[] = [];
  fs.writeSync = ((fd: number, buffer: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 2) return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    if (typeof buffer === 'string') {
      if (caught.length < 200) caught.push(buffer);
      return Buffer.byteLength(buffer);
    }
    // The buffer is often a view of the whole WebAssembly heap: decode only the bytes written.
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
    if (caught.length < 200) caught.push(Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString());
    return length;
  }) as typeof fs.writeSync;
  fs.openSync = ((path: import('node:fs').PathLike, ...rest: unknown[]) => {
    if (!permitted.has(resolve(String(path)))) {
      outside.push(String(path));
      throw Object.assign(new Error(`EACCES: convkit reads only the HDF5 file itself, not '${String(path)}'`), { code: 'EACCES', errno: -13 });
    }
    return (openSync as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  const reachedOutside = () => new FormatError(`${what}: its data lives in another file ('${outside[0]}'), through external storage or a virtual dataset; convkit reads only data stored inside the HDF5 file`);
  try {
    const result = call();
    // h5wasm may return a buffer of whatever memory held even when libhdf5's read failed: the refused open decides.
    if (outside.length) throw reachedOutside();
    return result;
  } catch (error) {
    if (error instanceof ConvkitError) throw error;
    if (outside.length) throw reachedOutside();
    const detail = caught.join('').split('\n').map((l) => l.trim()).find((l) => /^major:|^minor:/.test(l) === false && /#\d+:/.test(l));
    throw new FormatError(`${what} (${(error as Error)?.message ?? String(error)}${detail ? `; libhdf5: ${detail.replace(/^#\d+:\s*\S+ line \d+ in /, '')}` : ''})`);
  } finally {
    fs.writeSync = writeSync;
    fs.openSync = openSync;
  }
}

/**
 * Writes an HDF5 file through a temporary one beside it, renamed into place
 * once `fill` has written everything and the file is closed: a failure
 * leaves no half-written file (and no temporary one).
 */
export async function writeHdf5Atomically(path: string, fill: (file: H5File) => void): Promise<void> {
  const lib = await hdf5();
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    sandboxed([temp], `${path}: cannot write`, () => {
      const file = new lib.File(temp, 'w');
      try {
        fill(file);
      } finally {
        file.close();
      }
    });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** What a numeric dataset holds, read from its metadata without reading its data. */
export interface DatasetInfo {
  shape: number[];
  /** Bytes per element. */
  size: number;
  /** 'int', 'uint' or 'float'; 'other' for strings, compounds, references. */
  kind: 'int' | 'uint' | 'float' | 'other';
}

/** An HDF5 file opened for reading, every call sandboxed to it. */
export class Hdf5Reader {
  private constructor(readonly path: string, private readonly lib: H5, private readonly file: H5File) {}

  static async open(path: string): Promise<Hdf5Reader> {
    let stats: import('node:fs').Stats;
    try {
      stats = statSync(path);
    } catch (error) {
      throw new FormatError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!stats.isFile()) throw new FormatError(`${path}: not a regular file; convkit reads HDF5 from files`);
    const lib = await hdf5();
    return new Hdf5Reader(path, lib, sandboxed([path], `${path}: not a readable HDF5 file`, () => new lib.File(path, 'r')));
  }

  private run<T>(what: string, call: () => T): T {
    return sandboxed([this.path], `${this.path}: ${what}`, call);
  }

  /** The paths of every dataset in the file ('/'-separated, without the leading '/'). */
  datasets(): string[] {
    return this.walk().datasets;
  }

  /** The paths of every group below the root. */
  groups(): string[] {
    return this.walk().groups;
  }

  private walk(): { datasets: string[]; groups: string[] } {
    const datasets: string[] = [];
    const groups: string[] = [];
    const visit = (group: InstanceType<H5['Group']>, prefix: string) => {
      for (const key of this.run('cannot list its contents', () => group.keys())) {
        const entry = this.run(`cannot read '${prefix}${key}'`, () => group.get(key));
        if (entry instanceof this.lib.Dataset) datasets.push(`${prefix}${key}`);
        else if (entry instanceof this.lib.Group && datasets.length + groups.length < 10_000) {
          groups.push(`${prefix}${key}`);
          visit(entry, `${prefix}${key}/`);
        }
      }
    };
    visit(this.file, '');
    return { datasets, groups };
  }

  private dataset(name: string): H5Dataset {
    const entry = this.run(`cannot read '${name}'`, () => this.file.get(name));
    if (!entry || !(entry instanceof this.lib.Dataset)) {
      throw new FormatError(`${this.path}: no dataset '${name}' (the file has: ${this.datasets().join(', ') || 'nothing'})`);
    }
    return entry;
  }

  /**
   * An attribute of the file ('' or '/') or of a group or dataset, as JSON
   * (a string, a number, or a list of them); undefined when there is none.
   * Its size is checked against the allocation limit before it is read.
   */
  attribute(path: string, name: string): unknown {
    const where = path === '' ? '/' : path;
    const entry = where === '/' ? this.file : this.run(`cannot read '${where}'`, () => this.file.get(where));
    if (!entry || !(entry instanceof this.lib.Group || entry instanceof this.lib.Dataset)) return undefined;
    const names = this.run(`cannot read the attributes of '${where}'`, () => Object.keys(entry.attrs));
    if (!names.includes(name)) return undefined;
    const attr = this.run(`cannot read attribute '${name}' of '${where}'`, () => entry.attrs[name]);
    const m = this.run(`cannot read attribute '${name}' of '${where}'`, () => attr.metadata);
    checkAllocation((m.shape ?? []).reduce((a: number, b: number) => a * b, 1), Math.max(1, m.size), `${this.path}: attribute '${name}' of '${where}'`);
    return this.run(`cannot read attribute '${name}' of '${where}'`, () => attr.json_value);
  }

  /** The names inside a group, in the file's order; undefined when path is not a group. */
  keys(path: string): string[] | undefined {
    const entry = path === '' || path === '/' ? this.file : this.run(`cannot read '${path}'`, () => this.file.get(path));
    if (!entry || !(entry instanceof this.lib.Group)) return undefined;
    return this.run(`cannot list '${path}'`, () => entry.keys());
  }

  /** What is at a path, for messages: 'a group', 'a dataset of int64 [4, 2]', 'a dataset of strings', or 'nothing'. */
  describeEntry(name: string): string {
    const entry = this.run(`cannot read '${name}'`, () => this.file.get(name));
    if (entry instanceof this.lib.Group) return 'a group';
    if (!(entry instanceof this.lib.Dataset)) return 'nothing';
    const info = this.infoOf(entry, name);
    const type = info.kind === 'other' ? 'strings or records' : `${info.kind}${info.size * 8}`;
    return `a dataset of ${type} [${info.shape.join(', ')}]`;
  }

  /**
   * A floating-point dataset's values as float32; anything else at the path
   * (a group, integers, strings, nothing) is refused, saying what was found
   * and that `expected` was.
   */
  readFloats(name: string, expected: string): Float32Array {
    const entry = this.run(`cannot read '${name}'`, () => this.file.get(name));
    const info = entry instanceof this.lib.Dataset ? this.infoOf(entry, name) : null;
    if (!info || info.kind !== 'float') throw new FormatError(`${this.path}: '${name}' is ${this.describeEntry(name)}, where ${expected} (a float dataset) is expected`);
    return Float32Array.from(this.read(name) as Float32Array | Float64Array);
  }

  has(name: string): boolean {
    return this.run(`cannot read '${name}'`, () => this.file.get(name)) instanceof this.lib.Dataset;
  }

  info(name: string): DatasetInfo {
    return this.infoOf(this.dataset(name), name);
  }

  private infoOf(d: H5Dataset, name: string): DatasetInfo {
    const m = this.run(`cannot read '${name}'`, () => d.metadata);
    // h5wasm's type codes are libhdf5's classes: 0 integer, 1 float.
    const kind = m.type === 0 ? (m.signed ? 'int' : 'uint') : m.type === 1 ? 'float' : 'other';
    return { shape: [...(m.shape ?? [])], size: m.size, kind };
  }

  /**
   * A numeric dataset's values, as the typed array h5wasm returns (int64
   * arrives as a BigInt64Array). Refused before a byte of data is read: an
   * undecodable filter, a virtual dataset, a size over the allocation limit.
   */
  read(name: string): ArrayBufferView {
    const d = this.dataset(name);
    const info = this.infoOf(d, name);
    if (info.kind === 'other') throw new FormatError(`${this.path}: dataset '${name}' is not numeric`);
    const filters = this.run(`cannot read '${name}'`, () => d.filters) as { id: number; name: string }[];
    const unknown = filters.find((f) => !SUPPORTED_FILTERS.has(f.id));
    if (unknown) throw new FormatError(`${this.path}: dataset '${name}' is compressed with filter ${unknown.id} (${unknown.name || 'unknown'}), which convkit cannot decode; save it with gzip (deflate) or uncompressed`);
    if (this.run(`cannot read '${name}'`, () => d.metadata).virtual_sources?.length) {
      throw new FormatError(`${this.path}: dataset '${name}' is a virtual dataset (its data lives in other files); convkit reads data stored inside the file only`);
    }
    checkAllocation(info.shape.reduce((a, b) => a * b, 1), info.size, `${this.path}: dataset '${name}' (${info.shape.join('×')})`);
    const raw: unknown = this.run(`cannot read '${name}'`, () => d.value);
    if (!ArrayBuffer.isView(raw) || raw instanceof DataView) throw new FormatError(`${this.path}: dataset '${name}' is not numeric`);
    return raw;
  }

  close(): void {
    try {
      this.run('cannot close', () => this.file.close());
    } catch {}
  }
}
