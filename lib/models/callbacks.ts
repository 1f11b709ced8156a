// Callbacks for fit() that need more than the training loop knows: saving.
// (They live above model.ts and io/, so that train.ts does not import files.)
import { checkBoolean, checkNonNegativeInt, checkNumber, checkOptions, checkString } from '../core/check.js';
import type { Optimizer } from '../optim/optimizers.js';
import { ValueError } from '../core/errors.js';
import { saveModel } from './checkpoint.js';
import type { Model } from './model.js';
import { type BatchLogs, type Callbacks, type EpochLogs, type Monitor, monitorField } from './train.js';

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

/** When `reduceLROnPlateau` lowers the rate, as Keras's ReduceLROnPlateau. */
export interface ReduceLROnPlateauOptions {
  /** Default 'valLoss' ('val_loss'); 'valAccuracy', 'loss' or 'accuracy' (accuracies must rise). */
  monitor?: Monitor;
  /** The rate is multiplied by this; default 0.1. */
  factor?: number;
  /** Epochs without improvement before lowering; default 10. */
  patience?: number;
  /** An improvement must beat the best by this much; default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a lowering before counting again; default 0. */
  cooldown?: number;
  /** The rate is not lowered below this; default 0. */
  minLr?: number;
  /** Say each lowering on stderr; default false. */
  verbose?: boolean;
}

/**
 * Keras's ReduceLROnPlateau (PyTorch's with threshold_mode 'abs'): after each
 * epoch, when the monitored value has not improved by minDelta for patience
 * epochs, multiplies the model's optimizer's learningRate by factor (a
 * schedule then multiplies the lowered rate). `plateau.lowered` lists the
 * epochs at which it lowered the rate.
 */
export function reduceLROnPlateau(model: { optimizer?: Optimizer | null }, options: ReduceLROnPlateauOptions = {}): Callbacks & { lowered: number[] } {
  checkOptions(options, ['monitor', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr', 'verbose'], 'reduceLROnPlateau');
  const field = monitorField(options.monitor ?? 'valLoss', 'reduceLROnPlateau');
  const factor = checkNumber(options.factor ?? 0.1, 'factor', 'reduceLROnPlateau', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const patience = checkNonNegativeInt(options.patience ?? 10, 'patience', 'reduceLROnPlateau');
  const minDelta = checkNumber(options.minDelta ?? 1e-4, 'minDelta', 'reduceLROnPlateau', { min: 0 });
  const cooldown = checkNonNegativeInt(options.cooldown ?? 0, 'cooldown', 'reduceLROnPlateau');
  const minLr = checkNumber(options.minLr ?? 0, 'minLr', 'reduceLROnPlateau', { min: 0 });
  const verbose = options.verbose === undefined ? false : checkBoolean(options.verbose, 'verbose', 'reduceLROnPlateau');
  const rising = field === 'accuracy' || field === 'valAccuracy';
  let best = rising ? -Infinity : Infinity;
  let wait = 0;
  let coolingFor = 0;
  const state = {
    lowered: [] as number[],
    onEpochEnd(epoch: number, logs: EpochLogs) {
      const value = logs[field];
      if (value === undefined) throw new ValueError(`reduceLROnPlateau: the epoch logs have no ${field} (monitoring a validation value needs validation data)`);
      const optimizer = model.optimizer;
      if (!optimizer) throw new ValueError('reduceLROnPlateau: the model has no optimizer (fit sets one)');
      if (coolingFor > 0) {
        coolingFor--;
        wait = 0;
      }
      if (rising ? value > best + minDelta : value < best - minDelta) {
        best = value;
        wait = 0;
      } else if (coolingFor === 0 && ++wait >= patience) {
        const next = Math.max(optimizer.learningRate * factor, minLr);
        if (next < optimizer.learningRate) {
          optimizer.learningRate = next;
          state.lowered.push(epoch);
          if (verbose) process.stderr.write(`reduceLROnPlateau: epoch ${epoch + 1}: learning rate lowered to ${next}\n`);
          coolingFor = cooldown;
          wait = 0;
        }
      }
    },
  };
  return state;
}

/**
 * Keras's TerminateOnNaN: stops training at the first batch whose loss is NaN
 * or infinite (fit ends after that batch, as Keras's does), and records where
 * (`callback.at`). It sees a NaN only with fit's `checkFinite: false`: by
 * default fit throws a NonFiniteError before the optimizer touches the weights.
 */
export function terminateOnNaN(model: { stopTraining: boolean }): Callbacks & { at: { epoch: number; batch: number } | null } {
  const state = {
    at: null as { epoch: number; batch: number } | null,
    onBatchEnd(batch: number, logs: BatchLogs) {
      if (state.at || Number.isFinite(logs.loss)) return;
      state.at = { epoch: logs.epoch, batch };
      model.stopTraining = true;
      process.stderr.write(`terminateOnNaN: the loss became ${logs.loss} at epoch ${logs.epoch + 1}, batch ${batch + 1}; training stops after this batch\n`);
    },
  };
  return state;
}
