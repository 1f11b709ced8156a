import { checkModel, checkOptions, checkPath } from '../check.js';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { ConvkitError, FormatError, ShapeError, formatShape } from '../errors.js';
import type { Sequential } from '../model.js';
import { type NameMapping, parameterKeys } from './names.js';

type H5Module = typeof import('h5wasm/node');

let h5: Promise<H5Module['default']> | null = null;

/** h5wasm (HDF5 compiled to WebAssembly), loaded on first use. */
async function hdf5() {
  h5 ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5;
}

/**
 * Runs an h5wasm call with libhdf5's diagnostic printing (dozens of
 * HDF5-DIAG lines on stderr for one bad file) caught: an error becomes one
 * FormatError carrying libhdf5's most specific line, and nothing is printed.
 */
function quietly<T>(what: string, call: () => T): T {
  // h5wasm's file system is Node's own (NODERAWFS): libhdf5 writes its diagnostics with fs.writeSync(2, ...).
  const fs = nodeFs();
  const writeSync = fs.writeSync;
  const caught: string[] = [];
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
  try {
    return call();
  } catch (error) {
    if (error instanceof ConvkitError) throw error;
    const detail = caught.join('').split('\n').map((l) => l.trim()).find((l) => /^major:|^minor:/.test(l) === false && /#\d+:/.test(l));
    throw new FormatError(`${what} (${(error as Error)?.message ?? String(error)}${detail ? `; libhdf5: ${detail.replace(/^#\d+:\s*\S+ line \d+ in /, '')}` : ''})`);
  } finally {
    fs.writeSync = writeSync;
  }
}

const nodeFs = () => createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/** HDF5 filters convkit reads through h5wasm: deflate, shuffle, fletcher32. Others (LZF, Blosc, ...) h5wasm lacks, and would hand back compressed bytes. */
const SUPPORTED_FILTERS = new Set([1, 2, 3]);

/**
 * Writes the parameters as HDF5 datasets (default keys W1, b1, W2, b2, ...),
 * float32 in convkit's layouts, with the architecture JSON as the file's
 * 'architecture' attribute. h5py and HDFView read it.
 */
export async function exportHdf5(model: Sequential, path: string, options: { names?: NameMapping } = {}): Promise<string[]> {
  checkOptions(options, ['names'], 'exportHdf5');
  checkModel(model, 'exportHdf5');
  checkPath(path, 'path', 'exportHdf5');
  const keys = parameterKeys(model, options.names ?? 'numbered', 'exportHdf5');
  const lib = await hdf5();
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    quietly(`${path}: cannot write`, () => {
      const file = new lib.File(temp, 'w');
      try {
        model.parameters().forEach((p, i) => file.create_dataset({ name: keys[i], data: p.value.data, shape: [...p.value.shape], dtype: '<f' }));
        file.create_attribute('architecture', JSON.stringify(model.config()));
        file.create_attribute('format', 'convkit');
      } finally {
        file.close();
      }
    });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return keys;
}

/** Loads parameters from HDF5 datasets under the mapping's keys (default W1, b1, ...). */
export async function importHdf5(model: Sequential, path: string, options: { names?: NameMapping } = {}): Promise<void> {
  checkOptions(options, ['names'], 'importHdf5');
  checkModel(model, 'importHdf5');
  checkPath(path, 'path', 'importHdf5');
  try {
    await readHdf5Into(model, path, options);
  } catch (error) {
    // libhdf5 reports a corrupt file in many ways; every one of them is a bad file.
    if (error instanceof ConvkitError) throw error;
    throw new FormatError(`${path}: not a readable HDF5 weights file (${(error as Error)?.message ?? String(error)})`);
  }
}

async function readHdf5Into(model: Sequential, path: string, options: { names?: NameMapping }): Promise<void> {
  const keys = parameterKeys(model, options.names ?? 'numbered', 'importHdf5');
  if (!existsSync(path)) throw new FormatError(`${path}: no such file`);
  const lib = await hdf5();
  const file = quietly(`${path}: not a readable HDF5 file`, () => new lib.File(path, 'r'));
  try {
    const params = model.parameters();
    const values = params.map((p, i) => {
      const entry = quietly(`${path}: cannot read '${keys[i]}'`, () => file.get(keys[i]));
      if (!entry || !(entry instanceof lib.Dataset)) {
        const names = quietly(`${path}: cannot list its datasets`, () => file.keys());
        throw new FormatError(`${path}: no dataset '${keys[i]}' for ${p.name} (the file has: ${names.join(', ') || 'nothing'})`);
      }
      const shape = entry.shape ?? [];
      if (shape.length !== p.value.shape.length || shape.some((d, j) => d !== p.value.shape[j])) {
        throw new ShapeError(`${path}: '${keys[i]}' has shape ${formatShape(shape)} but ${p.name} is ${formatShape(p.value.shape)}`);
      }
      const filters = quietly(`${path}: cannot read '${keys[i]}'`, () => (entry as InstanceType<typeof lib.Dataset>).filters) as { id: number; name: string }[];
      const unknown = filters.find((f) => !SUPPORTED_FILTERS.has(f.id));
      if (unknown) throw new FormatError(`${path}: dataset '${keys[i]}' is compressed with filter ${unknown.id} (${unknown.name || 'unknown'}), which convkit cannot decode; save it with gzip (deflate) or uncompressed`);
      if (quietly(`${path}: cannot read '${keys[i]}'`, () => (entry as InstanceType<typeof lib.Dataset>).metadata).virtual_sources?.length) {
        throw new FormatError(`${path}: dataset '${keys[i]}' is a virtual dataset (its data lives in other files); convkit reads data stored inside the file only`);
      }
      const raw: unknown = quietly(`${path}: cannot read '${keys[i]}'`, () => (entry as InstanceType<typeof lib.Dataset>).value);
      if (!ArrayBuffer.isView(raw) || raw instanceof DataView) throw new FormatError(`${path}: dataset '${keys[i]}' is not numeric`);
      return Float32Array.from(raw as unknown as ArrayLike<number>);
    });
    params.forEach((p, i) => p.value.data.set(values[i]));
  } finally {
    try {
      quietly(`${path}: cannot close`, () => file.close());
    } catch {}
  }
}
