import { checkModel, checkOptions, checkPath } from '../core/check.js';
import { ConvkitError, FormatError, ShapeError, formatShape } from '../core/errors.js';
import { Hdf5Reader, writeHdf5Atomically } from '../formats/hdf5-file.js';
import type { Model } from '../models/model.js';
import { type NameMapping, parameterKeys } from './names.js';

/**
 * Writes the parameters as HDF5 datasets (default keys W1, b1, W2, b2, ...),
 * float32 in convkit's layouts, with the architecture JSON as the file's
 * 'architecture' attribute. h5py and HDFView read it.
 */
export async function exportHdf5(model: Model, path: string, options: { names?: NameMapping } = {}): Promise<string[]> {
  checkOptions(options, ['names'], 'exportHdf5');
  checkModel(model, 'exportHdf5', true);
  checkPath(path, 'path', 'exportHdf5');
  const keys = parameterKeys(model, options.names ?? 'numbered', 'exportHdf5');
  await writeHdf5Atomically(path, (file) => {
    model.weights().forEach((p, i) => file.create_dataset({ name: keys[i], data: p.value.data, shape: [...p.value.shape], dtype: '<f' }));
    file.create_attribute('architecture', JSON.stringify(model.config()));
    file.create_attribute('format', 'convkit');
  });
  return keys;
}

/** Loads parameters from HDF5 datasets under the mapping's keys (default W1, b1, ...). */
export async function importHdf5(model: Model, path: string, options: { names?: NameMapping } = {}): Promise<void> {
  checkOptions(options, ['names'], 'importHdf5');
  checkModel(model, 'importHdf5', true);
  checkPath(path, 'path', 'importHdf5');
  try {
    await readHdf5Into(model, path, options);
  } catch (error) {
    // libhdf5 reports a corrupt file in many ways; every one of them is a bad file.
    if (error instanceof ConvkitError) throw error;
    throw new FormatError(`${path}: not a readable HDF5 weights file (${(error as Error)?.message ?? String(error)})`);
  }
}

async function readHdf5Into(model: Model, path: string, options: { names?: NameMapping }): Promise<void> {
  const keys = parameterKeys(model, options.names ?? 'numbered', 'importHdf5');
  const file = await Hdf5Reader.open(path);
  try {
    const params = model.weights();
    const values = params.map((p, i) => {
      const found = file.describeEntry(keys[i]);
      if (found === 'nothing') throw new FormatError(`${path}: no dataset '${keys[i]}' for ${p.name} (the file has: ${file.datasets().join(', ') || 'nothing'})`);
      if (found === 'a group') throw new FormatError(`${path}: '${keys[i]}' is a group, where the dataset of ${p.name} is expected`);
      const { shape, kind } = file.info(keys[i]);
      if (kind !== 'float') throw new FormatError(`${path}: '${keys[i]}' is ${found}, where ${p.name} (float weights ${formatShape(p.value.shape)}) is expected`);
      if (shape.length !== p.value.shape.length || shape.some((d, j) => d !== p.value.shape[j])) {
        throw new ShapeError(`${path}: '${keys[i]}' has shape ${formatShape(shape)} but ${p.name} is ${formatShape(p.value.shape)}`);
      }
      return file.readFloats(keys[i], p.name);
    });
    params.forEach((p, i) => p.value.data.set(values[i]));
  } finally {
    file.close();
  }
}
