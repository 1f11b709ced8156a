// Callbacks for fit() that need more than the training loop knows: saving.
// (They live above model.ts and io/, so that train.ts does not import files.)
import { checkBoolean, checkOptions, checkString } from '../core/check.js';
import { ValueError } from '../core/errors.js';
import { saveModel } from './checkpoint.js';
import type { Model } from './model.js';
import { type Callbacks, type EpochLogs, type Monitor, monitorField } from './train.js';

/** When `modelCheckpoint` saves: which value it watches and whether only the best epoch is kept. */
export interface ModelCheckpointOptions {
  /** A .safetensors file, or a folder that gets model.safetensors. */
  path: string;
  /** What "best" means: 'valLoss' ('val_loss', the default), 'valAccuracy', 'loss' or 'accuracy'. */
  monitor?: Monitor;
  /** Save only when the monitored value improves (default true); false saves after every epoch. */
  saveBestOnly?: boolean;
}

/**
 * Keras's ModelCheckpoint: after each epoch, saves the model (atomically) when
 * the monitored value is the best so far, so the file always holds the best
 * epoch's weights. `checkpoint.best` tells which epoch that was (its index, from 0).
 */
export function modelCheckpoint(model: Model, options: ModelCheckpointOptions): Callbacks & { best: { epoch: number; value: number } | null } {
  if (options === undefined) throw new ValueError('modelCheckpoint: options {path} are required, got undefined');
  checkOptions(options, ['path', 'monitor', 'saveBestOnly'], 'modelCheckpoint');
  const path = checkString(options.path, 'path', 'modelCheckpoint');
  const field = monitorField(options.monitor ?? 'valLoss', 'modelCheckpoint');
  const bestOnly = options.saveBestOnly === undefined ? true : checkBoolean(options.saveBestOnly, 'saveBestOnly', 'modelCheckpoint');
  const higherIsBetter = field === 'accuracy' || field === 'valAccuracy';
  const state = {
    best: null as { epoch: number; value: number } | null,
    onEpochEnd(epoch: number, logs: EpochLogs) {
      const value = logs[field];
      if (value === undefined) throw new ValueError(`modelCheckpoint: the epoch logs have no ${field} (monitoring a validation value needs validation data)`);
      const better = state.best === null || (higherIsBetter ? value > state.best.value : value < state.best.value);
      if (better) state.best = { epoch, value };
      if (better || !bestOnly) saveModel(model, path);
    },
  };
  return state;
}
