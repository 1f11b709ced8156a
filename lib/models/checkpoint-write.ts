// Writing checkpoints: below model.ts (Sequential.save calls it), so it
// knows a model only by what it saves. Reading one back builds a model and
// lives above model.ts, in checkpoint.ts.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkModel, checkPath, pathFromFileUrl } from '../core/check.js';
import { FormatError } from '../core/errors.js';
import type { ModelConfig, Parameter } from '../nn/layers/index.js';
import type { Optimizer } from '../optim/optimizers.js';
import { writeFileAtomic } from '../formats/atomic.js';
import { encodeSafetensors, writeSafetensors } from '../formats/safetensors.js';

/** What a checkpoint holds of a model: its weights and its architecture. */
export interface SavableModel {
  /** Every weight to save (trainable and not), by name. */
  weights(): Parameter[];
  /** The architecture to save beside them. */
  config(): ModelConfig;
  /** What compile() set, as JSON (Keras's training_config), or null. */
  trainingConfig?(): Record<string, unknown> | null;
}

export const CHECKPOINT_FILE = 'model.safetensors';

/**
 * Saves the weights as safetensors with the architecture (model.config())
 * as JSON in the metadata, written atomically. A run directory gets
 * model.safetensors inside it.
 */
export function saveModel(model: SavableModel, path: string, extra: Record<string, string> = {}, hooks: { beforeRename?: () => void } = {}): string {
  checkModel(model, 'saveModel', true);
  const file = resolveCheckpointPath(path, true);
  writeFileAtomic(file, modelChunks(model, extra), hooks);
  return file;
}

function modelChunks(model: SavableModel, extra: Record<string, string>): Uint8Array[] {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of model.weights()) tensors[p.name] = { shape: [...p.value.shape], data: p.value.data };
  const training = model.trainingConfig?.() ?? null;
  return encodeSafetensors(tensors, { format: 'convkit', version: '1', architecture: JSON.stringify(model.config()), ...(training ? { training: JSON.stringify(training) } : {}), ...extra });
}

/** A checkpoint file's bytes (for a run directory's generation). */
export function modelBytes(model: SavableModel, extra: Record<string, string> = {}): Uint8Array {
  return Buffer.concat(modelChunks(model, extra));
}

/** An optimizer state file's bytes (for a run directory's generation). */
export function optimizerBytes(optimizer: Optimizer): Uint8Array {
  const { iterations, slots } = optimizer.state();
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [key, data] of Object.entries(slots)) tensors[key] = { shape: [data.length], data };
  return Buffer.concat(encodeSafetensors(tensors, { format: 'convkit-optimizer', optimizer: JSON.stringify(optimizer.config()), iterations: String(iterations) }));
}

/**
 * A checkpoint's file: PATH itself when it names a .safetensors file, else
 * model.safetensors in the folder PATH (created, with its parents, on save).
 */
export function resolveCheckpointPath(given: string, writing: boolean): string {
  const fn = writing ? 'saveModel' : 'loadModel';
  const path = checkPath(pathFromFileUrl(given, 'path', fn), 'path', fn);
  if (existsSync(path) && statSync(path).isDirectory()) return join(path, CHECKPOINT_FILE);
  if (writing && !path.endsWith('.safetensors')) return join(path, CHECKPOINT_FILE);
  if (!writing && !existsSync(path)) throw new FormatError(`${path}: no such checkpoint file or run directory`);
  return path;
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

