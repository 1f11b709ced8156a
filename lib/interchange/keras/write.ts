// Writing convkit models in the formats of Keras and TensorFlow.js: an .h5
// as Keras's model.save wrote it (model_config and model_weights, which
// keras.models.load_model reads) and a tfjs LayersModel folder (model.json
// and one weights.bin, which tf.loadLayersModel reads).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkModel, checkPath } from '../../core/check.js';
import { writeFileAtomic } from '../../formats/atomic.js';
import { writeHdf5Atomically } from '../../formats/hdf5-file.js';
import type { Model } from '../../models/model.js';
import { VERSION } from '../../core/version.js';
import { kerasTopology } from './export.js';

/**
 * Writes the model as a TensorFlow.js LayersModel: `dir/model.json` (Keras's
 * topology and the weights manifest) and `dir/weights.bin`, the layout
 * tfjs-node's `model.save('file://dir')` writes, for `tf.loadLayersModel` in
 * a browser or in Node. A final Softmax or Sigmoid is written as the
 * model's last layer, so tfjs predicts what convkit's predict() gives.
 * @example
 * ```ts
 * await saveLayersModel(net, 'web/model'); // then tf.loadLayersModel('model/model.json')
 * ```
 */
export async function saveLayersModel(model: Model, dir: string): Promise<string> {
  checkModel(model, 'saveLayersModel', true);
  checkPath(dir, 'dir', 'saveLayersModel');
  const { topology, weights } = kerasTopology(model, 'tfjs');
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.values.length * 4, 0));
  let at = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), at);
    at += w.values.byteLength;
  }
  const json = {
    format: 'layers-model',
    generatedBy: `convkit ${VERSION}`,
    convertedBy: null,
    modelTopology: { ...topology, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' })) }],
  };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'weights.bin'), bytes);
  writeFileAtomic(join(dir, 'model.json'), new TextEncoder().encode(JSON.stringify(json)));
  return join(dir, 'model.json');
}

/**
 * Writes the model as a Keras HDF5 file (the legacy format of
 * `model.save('x.h5')`), which `keras.models.load_model` reads in Keras 3
 * (and loadKerasModel here): the topology as `model_config`, the weights
 * under `model_weights`. A final Softmax or Sigmoid is written as the last
 * layer.
 */
export async function exportKerasH5(model: Model, path: string): Promise<void> {
  checkModel(model, 'exportKerasH5', true);
  checkPath(path, 'path', 'exportKerasH5');
  const { topology, weights } = kerasTopology(model, 'keras3');
  const layers = model.layers.map((l) => l.name);
  await writeHdf5Atomically(path, (file) => {
    file.create_attribute('keras_version', '3.15.1');
    file.create_attribute('backend', 'tensorflow');
    file.create_attribute('model_config', JSON.stringify(topology));
    const root = file.create_group('model_weights');
    root.create_attribute('layer_names', layers);
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', '3.15.1');
    for (const name of layers) {
      const mine = weights.filter((w) => w.layer === name);
      const group = root.create_group(name);
      // h5py writes an empty list as a float array; Keras reads either.
      group.create_attribute('weight_names', mine.length ? mine.map((w) => w.name) : new Float64Array(0));
      // Each weight at <layer>/<weight name>, its name's scope a group of its own (h5wasm makes no intermediate groups).
      const scope = mine.length ? group.create_group(name) : null;
      for (const w of mine) scope!.create_dataset({ name: w.name.slice(name.length + 1), data: w.values, shape: [...w.shape], dtype: '<f' });
    }
  });
}
