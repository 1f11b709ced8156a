// TensorFlow.js's LayersModel format, as tf.loadLayersModel reads it: a
// model.json with the Keras topology (modelTopology) and a weights manifest,
// and the binary shards it names beside it. Nothing in it is trusted: shard
// paths stay in the model's folder, every declared size is checked before a
// byte is read, and the shards must hold exactly what the manifest says.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { checkPath, pathFromFileUrl } from '../core/check.js';
import { FormatError, LimitError, describe } from '../core/errors.js';
import { checkAllocation, getAllocationLimit } from '../core/limits.js';
import { readFileBounded } from '../formats/read.js';
import type { Model } from '../models/model.js';
import { type KerasWeight, modelFromKerasTopology, putKerasWeights } from './keras/topology.js';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A manifest's shard path, resolved inside the model's folder (no absolute paths, no '..', no URLs). */
function shardPath(folder: string, p: unknown, source: string): string {
  if (typeof p !== 'string' || p === '') throw new FormatError(`${source}: a weights path must be a file name, got ${describe(p)}`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || isAbsolute(p)) throw new FormatError(`${source}: the weights path '${p}' is not relative to the model's folder; convkit reads shards that lie beside model.json`);
  const rel = normalize(p);
  if (rel === '..' || rel.startsWith(`..${sep}`)) throw new FormatError(`${source}: the weights path '${p}' leaves the model's folder`);
  return join(folder, rel);
}

function weightSpecs(group: unknown, g: number, source: string): WeightSpec[] {
  if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new FormatError(`${source}: weightsManifest[${g}] must be {paths, weights}, got ${describe(group)}`);
  return group.weights.map((w: unknown, i: number) => {
    const at = `${source}: weightsManifest[${g}].weights[${i}]`;
    if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw new FormatError(`${at} must be {name, shape, dtype}, got ${describe(w)}`);
    if (w.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) throw new FormatError(`${at} ('${w.name}'): shape must list non-negative integers, got ${describe(w.shape)}`);
    if (w.quantization !== undefined) throw new FormatError(`${at} ('${w.name}'): quantized weights are not supported; save the model without quantization (float32)`);
    const dtype = w.dtype ?? 'float32';
    if (dtype !== 'float32') throw new FormatError(`${at} ('${w.name}'): dtype ${describe(dtype)} is not supported; convkit's weights are float32`);
    return { name: w.name, shape: w.shape as number[], dtype };
  });
}

/**
 * A TensorFlow.js LayersModel (what `model.save('file://dir')` writes and
 * `tf.loadLayersModel` reads): `path` is its model.json (or the folder
 * holding it; a `file://` prefix is taken as tfjs-node takes it). The model
 * comes back with its weights, Sequential or functional, and predicts what
 * TensorFlow.js predicts. Layers convkit does not have are refused by name.
 * @example
 * ```ts
 * const net = await loadLayersModel('file://./my-model/model.json');
 * const probabilities = net.predict(images);
 * ```
 */
export async function loadLayersModel(path: string): Promise<Model> {
  let file = checkPath(pathFromFileUrl(path, 'path', 'loadLayersModel'), 'path', 'loadLayersModel');
  try {
    if (statSync(file).isDirectory()) file = join(file, 'model.json');
  } catch {}
  const source = file;
  let json: unknown;
  try {
    json = JSON.parse(readFileBounded(file).toString('utf8'));
  } catch (error) {
    if (error instanceof FormatError || error instanceof LimitError) throw error;
    throw new FormatError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json)) throw new FormatError(`${source}: a model.json must be an object, got ${describe(json)}`);
  if (json.format === 'graph-model') throw new FormatError(`${source}: a tfjs GraphModel (converted from a SavedModel or frozen graph); convkit imports LayersModels (format 'layers-model', made by model.save or tfjs_converter --output_format tfjs_layers_model)`);
  if (json.format !== undefined && json.format !== 'layers-model') throw new FormatError(`${source}: format ${describe(json.format)}; convkit imports 'layers-model'`);
  if (!isObject(json.modelTopology)) throw new FormatError(`${source}: no modelTopology; not a LayersModel model.json`);
  const model = modelFromKerasTopology(json.modelTopology, source);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new FormatError(`${source}: weightsManifest must be a list of {paths, weights} groups, got ${describe(manifest)}`);
  const folder = dirname(file);
  const weights: KerasWeight[] = [];
  // Declared sizes add up before any shard is read.
  let declared = 0;
  const groups = manifest.map((group, g) => {
    const specs = weightSpecs(group, g, source);
    const bytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
    declared += bytes;
    if (declared > getAllocationLimit()) checkAllocation(declared / 4, 4, `${source}: the weights the manifest declares`);
    const paths = ((group as { paths: unknown[] }).paths).map((p) => shardPath(folder, p, source));
    return { specs, bytes, paths };
  });
  for (const { specs, bytes, paths } of groups) {
    let data: Uint8Array | null = null;
    // A group's weights lie back to back across its shards, in order.
    const load = () => {
      if (data) return data;
      const shards = paths.map((p) => readFileBounded(p));
      const total = shards.reduce((n, s) => n + s.length, 0);
      if (total !== bytes) throw new FormatError(`${source}: the shards ${paths.map((p) => `'${p}'`).join(', ')} hold ${total} bytes; the manifest's weights need ${bytes}`);
      const joined = new Uint8Array(total);
      let at = 0;
      for (const s of shards) {
        joined.set(s, at);
        at += s.length;
      }
      return (data = joined);
    };
    let offset = 0;
    for (const spec of specs) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const start = offset;
      offset += count * 4;
      const parts = spec.name.split('/');
      if (parts.length < 2) throw new FormatError(`${source}: the weight name '${spec.name}' is not layer/weight`);
      weights.push({
        layer: parts[parts.length - 2],
        suffix: parts[parts.length - 1].replace(/:\d+$/, ''),
        shape: spec.shape,
        values: () => {
          const bytesOf = load();
          const copy = bytesOf.slice(start, start + count * 4);
          return new Float32Array(copy.buffer, 0, count);
        },
      });
    }
  }
  putKerasWeights(model, weights, source);
  return model;
}
