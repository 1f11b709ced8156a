// One entry for every model file convkit imports, chosen by what the file
// is: a convkit checkpoint, a Keras .h5 / .keras, a tfjs model.json, an ONNX
// model. `convkit train --init` starts from any of them.
import { statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { checkPath, pathFromFileUrl } from '../core/check.js';
import { FormatError, ValueError, describe } from '../core/errors.js';
import { loadModel } from '../models/checkpoint.js';
import { modelFromConfig } from '../models/from-config.js';
import type { Model } from '../models/model.js';
import type { LayerSpec } from '../nn/layers/index.js';
import { loadKerasModel } from './keras/files.js';
import { loadOnnxModel } from './onnx-import.js';
import { loadLayersModel } from './tfjs.js';

/**
 * A model and its weights from any file convkit imports: a convkit
 * checkpoint (.safetensors or a run folder), a Keras model (.h5, .keras), a
 * TensorFlow.js LayersModel (model.json, or its folder) or an ONNX model
 * (.onnx). For a PyTorch state_dict, build the architecture and use
 * loadTorchStateDict.
 * @example
 * ```ts
 * const net = await importModel('mnist_convnet.keras');
 * ```
 */
export async function importModel(path: string): Promise<Model> {
  const file = checkPath(pathFromFileUrl(path, 'path', 'importModel'), 'path', 'importModel');
  let folder = false;
  try {
    folder = statSync(file).isDirectory();
  } catch (error) {
    throw new FormatError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (folder) {
    try {
      if (statSync(join(file, 'model.json')).isFile()) return loadLayersModel(join(file, 'model.json'));
    } catch {}
    return loadModel(file);
  }
  switch (extname(file).toLowerCase()) {
    case '.h5':
    case '.hdf5':
    case '.keras':
      return loadKerasModel(file);
    case '.json':
      return loadLayersModel(file);
    case '.onnx':
      return loadOnnxModel(file);
    case '.safetensors':
      return loadModel(file);
    default:
      throw new FormatError(`${file}: convkit imports convkit checkpoints (.safetensors, a run folder), Keras models (.h5, .keras), tfjs LayersModels (model.json) and ONNX models (.onnx); tell them apart by their extension`);
  }
}

/**
 * The same model with a new final Dense layer of `units` outputs (freshly
 * initialized from `seed`), every other weight and each layer's trainable
 * flag kept: a trained body under a new head for a task of another number
 * of classes. The model is unchanged when it already has that many outputs.
 */
export function withNewHead(model: Model, units: number, seed = 0): Model {
  if (!Number.isInteger(units) || units < 1) throw new ValueError(`withNewHead: units must be a positive integer, got ${describe(units)}`);
  if (model.outputUnits === units) return model;
  const config = structuredClone(model.config()) as { layers: LayerSpec[]; seed?: number };
  const last = config.layers.map((l) => l.kind).lastIndexOf('Dense');
  if (last < 0) throw new ValueError(`withNewHead: ${model.name} has no Dense layer to replace (its output is ${model.outputShape.join('×')})`);
  const head = config.layers[last];
  const { trainable: _frozen, ...spec } = head as LayerSpec & { trainable?: boolean };
  config.layers[last] = { ...spec, units };
  config.seed = seed;
  const next = modelFromConfig(config as never);
  if (next.outputUnits !== units) throw new ValueError(`withNewHead: the last Dense layer '${head.name}' of ${model.name} does not make its output; replace the head with the functional API`);
  const trained = Object.entries(model.stateDict()).filter(([k]) => !k.startsWith(`${head.name}.`));
  next.loadStateDict({ ...next.stateDict(), ...Object.fromEntries(trained) });
  return next;
}
