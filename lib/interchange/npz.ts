import { readFileBounded } from '../formats/read.js';
import { checkModel, checkOptions, checkPath } from '../core/check.js';
import { FormatError, ShapeError, formatShape } from '../core/errors.js';
import { encodeNpz, parseNpz, toFloat32 } from '../formats/npy.js';
import type { Model } from '../models/model.js';
import { writeFileAtomic } from '../formats/atomic.js';
import { type NameMapping, parameterKeys } from './names.js';

// Like exportHdf5 (which must wait for its WebAssembly library), the npz and
// ONNX exporters and importers return promises: every file function of
// convkit's model API is awaited the same way.

/**
 * Writes the model's parameters as a NumPy .npz (np.load reads it), under
 * the keys the mapping gives, in convkit's layouts: conv weights HWIO
 * [kh, kw, in, out], dense weights [in, out].
 */
export async function exportNpz(model: Model, path: string, options: { names?: NameMapping; compress?: boolean } = {}): Promise<string[]> {
  checkOptions(options, ['names', 'compress'], 'exportNpz');
  checkModel(model, 'exportNpz', true);
  checkPath(path, 'path', 'exportNpz');
  const keys = parameterKeys(model, options.names, 'exportNpz');
  const arrays: Record<string, { data: Float32Array; shape: readonly number[] }> = {};
  model.weights().forEach((p, i) => (arrays[keys[i]] = { data: p.value.data, shape: p.value.shape }));
  writeFileAtomic(path, encodeNpz(arrays, { compress: options.compress }));
  return keys;
}

/**
 * Loads parameters from a .npz under the mapping's keys. float64 and integer
 * arrays are converted to float32; every key must exist with the parameter's shape.
 */
export async function importNpz(model: Model, path: string, options: { names?: NameMapping; allowNonFinite?: boolean } = {}): Promise<void> {
  checkOptions(options, ['names', 'allowNonFinite'], 'importNpz');
  checkModel(model, 'importNpz', true);
  checkPath(path, 'path', 'importNpz');
  const keys = parameterKeys(model, options.names, 'importNpz');
  const bytes = readFileBounded(path);
  const arrays = parseNpz(bytes, path);
  const params = model.weights();
  const values = params.map((p, i) => {
    const a = arrays[keys[i]];
    if (!a) throw new FormatError(`${path}: no array '${keys[i]}' for ${p.name} (the file has: ${Object.keys(arrays).join(', ') || 'nothing'})`);
    if (a.shape.length !== p.value.shape.length || a.shape.some((d, j) => d !== p.value.shape[j])) {
      throw new ShapeError(`${path}: '${keys[i]}' has shape ${formatShape(a.shape)} but ${p.name} is ${formatShape(p.value.shape)}`);
    }
    const values = toFloat32(a).data;
    // float64 weights past float32's range become Infinity: refused, as NaN is, unless asked for.
    if (!options.allowNonFinite) {
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new FormatError(`${path}: '${keys[i]}' holds ${values[bad]} at element ${bad}${Number.isFinite(Number(a.data[bad])) ? ` (${a.data[bad]} does not fit in float32)` : ''}; pass allowNonFinite: true to load it anyway`);
    }
    return values;
  });
  params.forEach((p, i) => p.value.data.set(values[i]));
}
