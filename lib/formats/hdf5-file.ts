// HDF5 through h5wasm (libhdf5 compiled to WebAssembly). Reading runs on a
// worker thread with a time limit per call (hdf5-worker.ts), since a damaged
// file can hang libhdf5; writing our own files runs here. Either way libhdf5
// is kept inside the file it was asked to use (hdf5-capture.ts).
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { ConvkitError, FormatError } from '../core/errors.js';
import { checkAllocation } from '../core/limits.js';
import { captureLibhdf5 } from './hdf5-capture.js';
import { Libhdf5Worker, outsideError } from './hdf5-worker.js';

type H5 = typeof import('h5wasm/node').default;
export type H5File = InstanceType<H5['File']>;

let h5: Promise<H5> | null = null;

/** h5wasm on this thread, loaded on first use (it is a 3 MB WebAssembly module): for writing. */
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

/** Runs an h5wasm call on this thread that may open only `allowed` files; a failure of libhdf5's becomes one FormatError starting with `what`. */
function sandboxed<T>(allowed: readonly string[], what: string, call: () => T): T {
  const r = captureLibhdf5(nodeFs(), resolve, allowed, call);
  if (r.ok) return r.value;
  if (r.outside) throw outsideError(what, r.outside);
  if (r.thrown instanceof ConvkitError) throw r.thrown;
  throw new FormatError(`${what} (${r.message}${r.detail ? `; libhdf5: ${r.detail}` : ''})`);
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

/** An HDF5 file opened for reading; every call runs on libhdf5's worker, sandboxed to the file and timed. */
export class Hdf5Reader {
  private constructor(readonly path: string, private readonly box: Libhdf5Worker, private readonly id: number) {}

  static async open(path: string): Promise<Hdf5Reader> {
    let stats: import('node:fs').Stats;
    try {
      stats = statSync(path);
    } catch (error) {
      throw new FormatError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!stats.isFile()) throw new FormatError(`${path}: not a regular file; convkit reads HDF5 from files`);
    const box = Libhdf5Worker.get();
    return new Hdf5Reader(path, box, box.call(`${path}: not a readable HDF5 file`, 'open', 0, resolve(path)) as number);
  }

  private kind(path: string): 'group' | 'dataset' | 'none' {
    return this.box.call(`${this.path}: cannot read '${path || '/'}'`, 'kind', this.id, path) as 'group' | 'dataset' | 'none';
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
    const visit = (group: string, prefix: string) => {
      for (const key of this.box.call(`${this.path}: cannot list its contents`, 'keys', this.id, group) as string[]) {
        const kind = this.kind(`${prefix}${key}`);
        if (kind === 'dataset') datasets.push(`${prefix}${key}`);
        else if (kind === 'group' && datasets.length + groups.length < 10_000) {
          groups.push(`${prefix}${key}`);
          visit(`${prefix}${key}`, `${prefix}${key}/`);
        }
      }
    };
    visit('/', '');
    return { datasets, groups };
  }

  private dataset(name: string): void {
    if (this.kind(name) !== 'dataset') {
      throw new FormatError(`${this.path}: no dataset '${name}' (the file has: ${this.datasets().join(', ') || 'nothing'})`);
    }
  }

  /**
   * An attribute of the file ('' or '/') or of a group or dataset, as JSON
   * (a string, a number, or a list of them); undefined when there is none.
   * Its size is checked against the allocation limit before it is read.
   */
  attribute(path: string, name: string): unknown {
    const where = path === '' ? '/' : path;
    if (where !== '/' && this.kind(where) === 'none') return undefined;
    const what = `${this.path}: cannot read attribute '${name}' of '${where}'`;
    const names = this.box.call(`${this.path}: cannot read the attributes of '${where}'`, 'attrNames', this.id, where) as string[];
    if (!names.includes(name)) return undefined;
    const m = this.box.call(what, 'attrMeta', this.id, where, name) as { shape: number[]; size: number };
    checkAllocation(m.shape.reduce((a, b) => a * b, 1), Math.max(1, m.size), `${this.path}: attribute '${name}' of '${where}'`);
    return this.box.call(what, 'attrValue', this.id, where, name);
  }

  /** The names inside a group, in the file's order; undefined when path is not a group. */
  keys(path: string): string[] | undefined {
    const where = path === '' ? '/' : path;
    if (where !== '/' && this.kind(where) !== 'group') return undefined;
    return this.box.call(`${this.path}: cannot list '${path}'`, 'keys', this.id, where) as string[];
  }

  /** What is at a path, for messages: 'a group', 'a dataset of int64 [4, 2]', 'a dataset of strings', or 'nothing'. */
  describeEntry(name: string): string {
    const kind = this.kind(name);
    if (kind === 'group') return 'a group';
    if (kind !== 'dataset') return 'nothing';
    const info = this.info(name);
    const type = info.kind === 'other' ? 'strings or records' : `${info.kind}${info.size * 8}`;
    return `a dataset of ${type} [${info.shape.join(', ')}]`;
  }

  /**
   * A floating-point dataset's values as float32; anything else at the path
   * (a group, integers, strings, nothing) is refused, saying what was found
   * and that `expected` was.
   */
  readFloats(name: string, expected: string): Float32Array {
    const info = this.kind(name) === 'dataset' ? this.info(name) : null;
    if (!info || info.kind !== 'float') throw new FormatError(`${this.path}: '${name}' is ${this.describeEntry(name)}, where ${expected} (a float dataset) is expected`);
    return Float32Array.from(this.read(name) as Float32Array | Float64Array);
  }

  has(name: string): boolean {
    return this.kind(name) === 'dataset';
  }

  info(name: string): DatasetInfo {
    this.dataset(name);
    return this.meta(name);
  }

  private meta(name: string): DatasetInfo & { virtual: number } {
    const m = this.box.call(`${this.path}: cannot read '${name}'`, 'meta', this.id, name) as { type: number; signed: boolean; size: number; shape: number[]; virtual: number };
    // h5wasm's type codes are libhdf5's classes: 0 integer, 1 float.
    const kind = m.type === 0 ? (m.signed ? 'int' : 'uint') : m.type === 1 ? 'float' : 'other';
    return { shape: m.shape, size: m.size, kind, virtual: m.virtual };
  }

  /**
   * A numeric dataset's values, as the typed array h5wasm returns (int64
   * arrives as a BigInt64Array). Refused before a byte of data is read: an
   * undecodable filter, a virtual dataset, a size over the allocation limit.
   */
  read(name: string): ArrayBufferView {
    this.dataset(name);
    const info = this.meta(name);
    const what = `${this.path}: cannot read '${name}'`;
    if (info.kind === 'other') throw new FormatError(`${this.path}: dataset '${name}' is not numeric`);
    const filters = this.box.call(what, 'filters', this.id, name) as { id: number; name: string }[];
    const unknown = filters.find((f) => !SUPPORTED_FILTERS.has(f.id));
    if (unknown) throw new FormatError(`${this.path}: dataset '${name}' is compressed with filter ${unknown.id} (${unknown.name || 'unknown'}), which convkit cannot decode; save it with gzip (deflate) or uncompressed`);
    if (info.virtual) {
      throw new FormatError(`${this.path}: dataset '${name}' is a virtual dataset (its data lives in other files); convkit reads data stored inside the file only`);
    }
    checkAllocation(info.shape.reduce((a, b) => a * b, 1), info.size, `${this.path}: dataset '${name}' (${info.shape.join('×')})`);
    const raw: unknown = this.box.call(what, 'value', this.id, name);
    if (!ArrayBuffer.isView(raw) || raw instanceof DataView) throw new FormatError(`${this.path}: dataset '${name}' is not numeric`);
    return raw;
  }

  close(): void {
    try {
      this.box.call(`${this.path}: cannot close`, 'close', this.id);
    } catch {}
  }
}
