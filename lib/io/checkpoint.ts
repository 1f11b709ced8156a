import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../errors.js';
import { type ModelConfig, type Sequential, modelFromConfig } from '../model.js';
import { Tensor } from '../tensor.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

export const CHECKPOINT_FILE = 'model.safetensors';

/**
 * Saves the weights as safetensors with the architecture (model.config())
 * as JSON in the metadata, written atomically. A run directory gets
 * model.safetensors inside it.
 */
export function saveModel(model: Sequential, path: string, extra: Record<string, string> = {}, hooks: { beforeRename?: () => void } = {}): string {
  const file = resolveCheckpointPath(path, true);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of model.parameters()) tensors[p.name] = { shape: [...p.value.shape], data: p.value.data };
  writeSafetensors(file, tensors, { format: 'convkit', version: '1', architecture: JSON.stringify(model.config()), ...extra }, hooks);
  return file;
}

function resolveCheckpointPath(path: string, writing: boolean): string {
  if (existsSync(path) && statSync(path).isDirectory()) return join(path, CHECKPOINT_FILE);
  if (!writing && !existsSync(path)) throw new FormatError(`${path}: no such checkpoint file or run directory`);
  return path;
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
