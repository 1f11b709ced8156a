import { ValueError, describe } from '../core/errors.js';
import type { FunctionalConfig, ModelConfig, SequentialConfig } from '../nn/layers/index.js';
import { functionalFromConfig } from './functional.js';
import type { Model } from './model.js';
import { sequentialFromConfig } from './sequential.js';

/**
 * Rebuilds a model from its config(): a Sequential from `layers`, a
 * functional model from `inputs`, `layers` and `outputs`. The weights are
 * initialised from its seed; load a state dict after.
 * @example
 * ```ts
 * const copy = modelFromConfig(net.config());
 * copy.loadStateDict(net.stateDict());
 * ```
 */
export function modelFromConfig(config: ModelConfig): Model {
  if (!config || typeof config !== 'object' || !Array.isArray((config as { layers?: unknown }).layers)) {
    throw new ValueError(`modelFromConfig: config must have a layers array, got ${describe(config)}`);
  }
  return 'inputs' in config ? functionalFromConfig(config as FunctionalConfig) : sequentialFromConfig(config as SequentialConfig);
}
