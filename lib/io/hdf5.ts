import { checkModel, checkOptions, checkPath } from '../check.js';
import { existsSync, renameSync, rmSync } from 'node:fs';
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
    const file = new lib.File(temp, 'w');
    try {
      model.parameters().forEach((p, i) => file.create_dataset({ name: keys[i], data: p.value.data, shape: [...p.value.shape], dtype: '<f' }));
      file.create_attribute('architecture', JSON.stringify(model.config()));
      file.create_attribute('format', 'convkit');
    } finally {
      file.close();
    }
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
  let file: InstanceType<typeof lib.File>;
  try {
    file = new lib.File(path, 'r');
  } catch (error) {
    throw new FormatError(`${path}: not a readable HDF5 file (${(error as Error).message})`);
  }
  try {
    const params = model.parameters();
    const values = params.map((p, i) => {
      let entry: ReturnType<typeof file.get>;
      try {
        entry = file.get(keys[i]);
      } catch (error) {
        throw new FormatError(`${path}: cannot read '${keys[i]}' (${(error as Error).message})`);
      }
      if (!entry || !(entry instanceof lib.Dataset)) throw new FormatError(`${path}: no dataset '${keys[i]}' for ${p.name} (the file has: ${file.keys().join(', ')})`);
      const shape = entry.shape ?? [];
      if (shape.length !== p.value.shape.length || shape.some((d, j) => d !== p.value.shape[j])) {
        throw new ShapeError(`${path}: '${keys[i]}' has shape ${formatShape(shape)} but ${p.name} is ${formatShape(p.value.shape)}`);
      }
      let raw: unknown;
      try {
        raw = entry.value;
      } catch (error) {
        throw new FormatError(`${path}: cannot read '${keys[i]}' (${(error as Error).message})`);
      }
      if (!ArrayBuffer.isView(raw) || raw instanceof DataView) throw new FormatError(`${path}: dataset '${keys[i]}' is not numeric`);
      return Float32Array.from(raw as unknown as ArrayLike<number>);
    });
    params.forEach((p, i) => p.value.data.set(values[i]));
  } finally {
    file.close();
  }
}
