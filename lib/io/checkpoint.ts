import { checkModel, checkPath } from '../check.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, ValueError, describe } from '../errors.js';
import { type ModelConfig, type Sequential, modelFromConfig } from '../model.js';
import { Tensor } from '../tensor.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { type Optimizer, optimizerFromConfig } from '../optimizers.js';

export const CHECKPOINT_FILE = 'model.safetensors';

/**
 * Saves the weights as safetensors with the architecture (model.config())
 * as JSON in the metadata, written atomically. A run directory gets
 * model.safetensors inside it.
 */
export function saveModel(model: Sequential, path: string, extra: Record<string, string> = {}, hooks: { beforeRename?: () => void } = {}): string {
  checkModel(model, 'saveModel');
  checkPath(path, 'path', 'saveModel');
  const file = resolveCheckpointPath(path, true);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of model.parameters()) tensors[p.name] = { shape: [...p.value.shape], data: p.value.data };
  writeSafetensors(file, tensors, { format: 'convkit', version: '1', architecture: JSON.stringify(model.config()), ...extra }, hooks);
  return file;
}

/**
 * A checkpoint's file: PATH itself when it names a .safetensors file, else
 * model.safetensors in the folder PATH (created, with its parents, on save).
 */
function resolveCheckpointPath(path: string, writing: boolean): string {
  checkPath(path, 'path', writing ? 'saveModel' : 'loadModel');
  if (existsSync(path) && statSync(path).isDirectory()) return join(path, CHECKPOINT_FILE);
  if (writing && !path.endsWith('.safetensors')) return join(path, CHECKPOINT_FILE);
  if (!writing && !existsSync(path)) throw new FormatError(`${path}: no such checkpoint file or run directory`);
  return path;
}

/** A checkpoint's metadata (what `convkit train` records: zoo, dataset, classes) without building the model. */
export function checkpointMetadata(path: string): { file: string; metadata: Record<string, string> } {
  const file = resolveCheckpointPath(path, false);
  return { file, metadata: readSafetensors(file).metadata };
}

/** Rebuilds the model a checkpoint was saved from, with its weights. */
export function loadModel(path: string): Sequential {
  const file = resolveCheckpointPath(path, false);
  const { tensors, metadata } = readSafetensors(file);
  if (!metadata.architecture) throw new FormatError(`${file}: no 'architecture' in the metadata; not a convkit checkpoint`);
  let config: ModelConfig;
  try {
    config = JSON.parse(metadata.architecture) as ModelConfig;
  } catch (error) {
    throw new FormatError(`${file}: the architecture metadata is not valid JSON (${(error as Error).message})`);
  }
  let model: Sequential;
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
  return model;
}

export const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Saves the optimizer's slots and iteration count next to a checkpoint (atomically). */
export function saveOptimizer(optimizer: Optimizer, dir: string, hooks: { beforeRename?: () => void } = {}): string {
  const { iterations, slots } = optimizer.state();
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [key, data] of Object.entries(slots)) tensors[key] = { shape: [data.length], data };
  const file = join(dir, OPTIMIZER_FILE);
  writeSafetensors(file, tensors, { format: 'convkit-optimizer', optimizer: JSON.stringify(optimizer.config()), iterations: String(iterations) }, hooks);
  return file;
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
