// Keras's model files: the HDF5 `model.save('x.h5')` writes (model_config
// and model_weights, Keras 2 and 3), the Keras 3 `.keras` zip (config.json
// and model.weights.h5) and `save_weights('x.weights.h5')`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel, checkPath } from '../../core/check.js';
import { ConvkitError, FormatError } from '../../core/errors.js';
import { Hdf5Reader } from '../../formats/hdf5-file.js';
import { readFileBounded } from '../../formats/read.js';
import { unzipChecked } from '../../formats/zip.js';
import type { Model } from '../../models/model.js';
import { kerasWeightSlots } from './layers.js';
import { type KerasWeight, modelFromKerasTopology, putKerasWeights } from './topology.js';

function parseJson(text: unknown, what: string): unknown {
  if (typeof text !== 'string') throw new FormatError(`${what} is not a JSON string`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${what} is not valid JSON (${(error as Error).message})`);
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : typeof v === 'string' ? [v] : []);

/** A weight's name without its scopes and ':0' (Keras 2's 'conv/kernel:0', Keras 3's 'model/conv/kernel'). */
const suffixOf = (name: string) => name.slice(name.lastIndexOf('/') + 1).replace(/:\d+$/, '');

const floats = (file: Hdf5Reader, path: string): Float32Array => file.readFloats(path, 'a weight');

/** The legacy layout: model_weights/<layer> with weight_names attributes (Keras 2 and 3's .h5). */
function legacyWeights(file: Hdf5Reader, root: string): KerasWeight[] {
  const prefix = root ? `${root}/` : '';
  const layers = strings(file.attribute(root, 'layer_names'));
  return layers.flatMap((layer) => strings(file.attribute(`${prefix}${layer}`, 'weight_names')).map((name) => {
    const path = `${prefix}${layer}/${name}`;
    if (!file.has(path)) throw new FormatError(`${file.path}: the weight '${name}' of layer '${layer}' is listed but '${path}' is ${file.describeEntry(path)}`);
    return { layer, suffix: suffixOf(name), shape: file.info(path).shape, values: () => floats(file, path) };
  }));
}

/** The path name Keras 3 gives the n-th layer of a class in a weights file (conv2d, conv2d_1, ...). */
const KERAS3_PATH = new Map([['Conv2D', 'conv2d'], ['Dense', 'dense'], ['BatchNormalization', 'batch_normalization']]);

/**
 * The Keras 3 layout: layers/<path name>/vars/<i>, the layer's own name in
 * the vars group's `name` attribute, its weights in Keras's order. A layer is
 * found by its name, else (a model of the same architecture named otherwise)
 * by its place among the layers of its class, as Keras's load_weights does.
 */
function keras3Weights(file: Hdf5Reader, model: Model): KerasWeight[] {
  const groups = file.keys('layers') ?? [];
  const named = new Map<string, string>();
  for (const g of groups) {
    const name = file.attribute(`layers/${g}/vars`, 'name');
    named.set(typeof name === 'string' ? name : g, g);
  }
  const varsOf = (g: string) => (file.keys(`layers/${g}/vars`) ?? []).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
  const used = new Set<string>();
  const seen = new Map<string, number>();
  const out: KerasWeight[] = [];
  for (const layer of model.layers) {
    const slots = kerasWeightSlots(layer);
    if (slots.length === 0) continue;
    const n = seen.get(layer.kind) ?? 0;
    seen.set(layer.kind, n + 1);
    const base = KERAS3_PATH.get(layer.kind);
    const byPlace = base === undefined ? undefined : n === 0 ? base : `${base}_${n}`;
    const group = named.get(layer.name) ?? (byPlace !== undefined && groups.includes(byPlace) ? byPlace : undefined);
    if (group === undefined) continue; // reported as missing by putKerasWeights
    used.add(group);
    const vars = varsOf(group);
    if (vars.length !== slots.length) throw new FormatError(`${file.path}: layer '${layer.name}' stores ${vars.length} weights, a ${layer.kind} like it has ${slots.length} (${slots.map((s) => s.suffix).join(', ')})`);
    vars.forEach((v, i) => {
      const path = `layers/${group}/vars/${v}`;
      out.push({ layer: layer.name, suffix: slots[i].suffix, shape: file.info(path).shape, values: () => floats(file, path) });
    });
  }
  const extra = groups.filter((g) => !used.has(g) && varsOf(g).length > 0);
  if (extra.length) throw new FormatError(`${file.path}: weights of layers ${extra.join(', ')}, which the model does not have`);
  return out;
}

async function withHdf5<T>(path: string, read: (file: Hdf5Reader) => T): Promise<T> {
  const file = await Hdf5Reader.open(path);
  try {
    return read(file);
  } catch (error) {
    if (error instanceof ConvkitError) throw error;
    throw new FormatError(`${path}: not a readable Keras file (${(error as Error)?.message ?? String(error)})`);
  } finally {
    file.close();
  }
}

/** Reads a zip member that is an HDF5 file through a private temporary copy (libhdf5 reads files, not memory). */
async function withInnerHdf5<T>(bytes: Uint8Array, name: string, read: (file: Hdf5Reader) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-keras-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes, { mode: 0o600 });
    return await withHdf5(path, read);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Keras model saved by `model.save()`, with its weights: an HDF5 `.h5`
 * (Keras 2 or 3) or a Keras 3 `.keras` file. Sequential and functional
 * models of the layers convkit has; any other layer, option or activation is
 * refused by name, with the list of what is supported. A layer saved with
 * `trainable: false` comes back frozen. The predictions are Keras's.
 * @example
 * ```ts
 * const net = await loadKerasModel('mnist_cnn.h5');
 * net.summary();
 * ```
 */
export async function loadKerasModel(path: string): Promise<Model> {
  checkPath(path, 'path', 'loadKerasModel');
  const head = readFileBounded(path);
  if (head[0] === 0x50 && head[1] === 0x4b) {
    const members = unzipChecked(head, path, (n) => n === 'config.json' || n === 'model.weights.h5');
    if (!members['config.json']) throw new FormatError(`${path}: a zip without config.json, not a Keras 3 .keras file`);
    const model = modelFromKerasTopology(parseJson(new TextDecoder().decode(members['config.json']), `${path}: config.json`), path);
    if (!members['model.weights.h5']) throw new FormatError(`${path}: no model.weights.h5 inside; the file holds no weights`);
    await withInnerHdf5(members['model.weights.h5'], 'model.weights.h5', (file) => putKerasWeights(model, keras3Weights(file, model), `${path}: model.weights.h5`));
    return model;
  }
  return withHdf5(path, (file) => {
    const config = file.attribute('', 'model_config');
    if (config === undefined) throw new FormatError(`${path}: an HDF5 file without a model_config attribute: not a Keras model.save() file (for weights alone, build the model and use loadKerasWeights)`);
    const model = modelFromKerasTopology(parseJson(config, `${path}: model_config`), path);
    putKerasWeights(model, legacyWeights(file, file.keys('model_weights') ? 'model_weights' : ''), path);
    return model;
  });
}

/**
 * Keras weights into a convkit model of the same architecture, by layer
 * name: a `.weights.h5` from Keras 3's `save_weights`, or the weights of a
 * Keras `.h5` (Keras 2's `save_weights` or `model.save`). Every weight must
 * be there with its Keras shape (HWIO kernels, [in, out] dense kernels,
 * which are convkit's layouts too).
 */
export async function loadKerasWeights(model: Model, path: string): Promise<void> {
  checkModel(model, 'loadKerasWeights', true);
  checkPath(path, 'path', 'loadKerasWeights');
  await withHdf5(path, (file) => {
    if (file.keys('layers')) return putKerasWeights(model, keras3Weights(file, model), path);
    const root = file.keys('model_weights') ? 'model_weights' : '';
    if (file.attribute(root, 'layer_names') === undefined) throw new FormatError(`${path}: neither Keras 3 weights (layers/...) nor Keras 2 weights (a layer_names attribute)`);
    return putKerasWeights(model, legacyWeights(file, root), path);
  });
}
