// Reading checkpoints: above model.ts, because it builds the model a file
// describes. Writing them (checkpoint-write.ts) sits below model.ts.
import { join } from 'node:path';
import { FormatError } from '../core/errors.js';
import type { ModelConfig } from './sequential.js';
import type { Model } from './model.js';
import { modelFromConfig } from './from-config.js';
import { Tensor } from '../core/tensor.js';
import { readSafetensors } from '../formats/safetensors.js';
import { type Optimizer, optimizerFromConfig } from '../optim/optimizers.js';
import { compileOptionsFromJson } from './compile.js';
import { OPTIMIZER_FILE, resolveCheckpointPath } from './checkpoint-write.js';

export { CHECKPOINT_FILE, OPTIMIZER_FILE, modelBytes, optimizerBytes, resolveCheckpointPath, saveModel, saveOptimizer } from './checkpoint-write.js';

/**
 * Before any layer is built: every Conv2D and Dense of the architecture must
 * find its weights in the file with the sizes it declares. The tensors are
 * bounded by the file's size, so a 500-byte file cannot make loadModel build
 * and initialise a Dense({units: 15e6}).
 */
function checkArchitectureAgainstTensors(config: ModelConfig, tensors: Record<string, { shape: number[] }>, file: string): void {
  if (!config || typeof config !== 'object' || !Array.isArray(config.layers)) throw new FormatError(`${file}: the architecture has no layers array`);
  const params = Object.keys(tensors).length;
  let expected = 0;
  for (const spec of config.layers) {
    const kind = spec?.kind;
    if (kind === 'BatchNormalization') {
      // weight, bias, running_mean, running_var: all four saved whatever center and scale say.
      const name = String(spec.name);
      for (const w of ['weight', 'bias', 'running_mean', 'running_var']) {
        const t = tensors[`${name}.${w}`];
        if (!t || t.shape.length !== 1) throw new FormatError(`${file}: the architecture's BatchNormalization '${name}' has no 1-D ${w} in the file`);
      }
      expected += 4;
      continue;
    }
    if (kind !== 'Conv2D' && kind !== 'Dense') {
      // Other layers (weightless, or custom ones whose sizes are known only once built): the file's tensors under their name; loadStateDict checks them.
      const prefix = `${String(spec?.name)}.`;
      expected += Object.keys(tensors).filter((k) => k.startsWith(prefix)).length;
      continue;
    }
    const name = String(spec.name);
    const weight = tensors[`${name}.weight`];
    const out = kind === 'Conv2D' ? spec.filters : spec.units;
    if (!weight) throw new FormatError(`${file}: the architecture's ${kind} '${name}' has no weights in the file`);
    if (weight.shape[weight.shape.length - 1] !== out) {
      throw new FormatError(`${file}: the architecture's ${kind} '${name}' declares ${out} outputs but its weights are [${weight.shape.join(', ')}]`);
    }
    if (kind === 'Conv2D') {
      const k = Array.isArray(spec.kernelSize) ? spec.kernelSize : [spec.kernelSize, spec.kernelSize];
      if (weight.shape.length !== 4 || weight.shape[0] !== k[0] || weight.shape[1] !== k[1]) {
        throw new FormatError(`${file}: the architecture's Conv2D '${name}' declares a ${k.join('×')} kernel but its weights are [${weight.shape.join(', ')}]`);
      }
    }
    expected += spec.useBias === false ? 1 : 2;
  }
  if (expected !== params) throw new FormatError(`${file}: the architecture has ${expected} weight and bias arrays, the file ${params}`);
}

/** Rebuilds the model a checkpoint was saved from, with its weights. */
export function loadModel(path: string): Model {
  return loadCheckpoint(path).model;
}

/**
 * A checkpoint read once: the file it resolved to, the model with its
 * weights (as loadModel), and its metadata (what `convkit train` records:
 * zoo, dataset, classes, preprocessing).
 */
export function loadCheckpoint(path: string): { file: string; model: Model; metadata: Record<string, string> } {
  const file = resolveCheckpointPath(path, false);
  const { tensors, metadata } = readSafetensors(file);
  if (!metadata.architecture) throw new FormatError(`${file}: no 'architecture' in the metadata; not a convkit checkpoint`);
  let config: ModelConfig;
  try {
    config = JSON.parse(metadata.architecture) as ModelConfig;
  } catch (error) {
    throw new FormatError(`${file}: the architecture metadata is not valid JSON (${(error as Error).message})`);
  }
  checkArchitectureAgainstTensors(config, tensors, file);
  let model: Model;
  try {
    model = modelFromConfig(config);
  } catch (error) {
    throw new FormatError(`${file}: cannot rebuild the architecture: ${(error as Error).message}`);
  }
  const state: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) state[name] = new Tensor(t.data, t.shape);
  try {
    model.loadStateDict(state);
  } catch (error) {
    throw new FormatError(`${file}: the weights do not match the architecture: ${(error as Error).message}`);
  }
  // A model saved after compile() comes back compiled, as Keras's load_model does.
  if (metadata.training) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(metadata.training) as Record<string, unknown>;
    } catch (error) {
      throw new FormatError(`${file}: the training metadata is not valid JSON (${(error as Error).message})`);
    }
    const options = compileOptionsFromJson(json, file);
    try {
      model.compile(options);
    } catch (error) {
      throw new FormatError(`${file}: the model was compiled with loss ${JSON.stringify(json.loss)}, which cannot be rebuilt here (a custom loss must be registered with registerLoss before loading): ${(error as Error).message}`);
    }
  }
  return { file, model, metadata };
}

/** Rebuilds the optimizer saved in a run directory, with its state. */
export function loadOptimizer(dir: string): Optimizer {
  const file = join(dir, OPTIMIZER_FILE);
  const { tensors, metadata } = readSafetensors(file);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(metadata.optimizer ?? '');
  } catch {
    throw new FormatError(`${file}: no valid 'optimizer' metadata; not a convkit optimizer state`);
  }
  const iterations = Number(metadata.iterations);
  if (!Number.isInteger(iterations) || iterations < 0) throw new FormatError(`${file}: bad 'iterations' metadata ${JSON.stringify(metadata.iterations)}`);
  const optimizer = optimizerFromConfig(config);
  const slots: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(tensors)) slots[key] = t.data;
  optimizer.loadState({ iterations, slots });
  return optimizer;
}
