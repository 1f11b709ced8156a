// Making an optimizer by name or from a saved config, and the registry of custom ones.
import { checkOneOf } from '../core/check.js';
import { type Schedule, scheduleFromSpec } from './schedules.js';
import { ValueError, describe } from '../core/errors.js';
import { OPTIMIZER_DEFAULTS, OPTIMIZER_NAMES, type OptimizerName } from '../core/defaults.js';
import { Optimizer } from './optimizer.js';
import { Adam, type AdamOptions, AdamW, SGD, type SGDOptions } from './sgd-adam.js';
import { Adagrad, type AdagradOptions } from './adagrad.js';
import { RMSprop, type RMSpropOptions } from './rmsprop.js';

export { OPTIMIZER_DEFAULTS, OPTIMIZER_NAMES, type OptimizerName } from '../core/defaults.js';
export { type Schedule, type ScheduleSpec, stepDecay, multiStepDecay, cosineDecay, exponentialDecay, oneCycle } from './schedules.js';
export { Optimizer } from './optimizer.js';
export { Adam, type AdamOptions, AdamW, SGD, type SGDOptions } from './sgd-adam.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export type { ClipOptions, ParameterGroup } from './optimizer.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';

const registered = new Map<string, (config: Record<string, unknown>) => Optimizer>();

/**
 * Registers a custom optimizer (a subclass of Optimizer) under its kind, so
 * `compile({optimizer: kind})` makes one and a checkpoint's optimizer state
 * loads back into one: make(config) gets what its config() returned (an
 * empty object when made by name).
 * @example
 * ```ts
 * import { registerOptimizer } from 'convkit';
 * registerOptimizer('signSgd', (config) => new SignSGD(config));
 * ```
 */
export function registerOptimizer(kind: string, make: (config: Record<string, unknown>) => Optimizer): void {
  if (typeof kind !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(kind)) throw new ValueError(`registerOptimizer: kind must be letters, digits and _ starting with a letter, got ${describe(kind)}`);
  if (typeof make !== 'function') throw new ValueError(`registerOptimizer: make must be a function (config) => Optimizer, got ${describe(make)}`);
  if ((OPTIMIZER_NAMES as readonly string[]).includes(kind)) throw new ValueError(`registerOptimizer: '${kind}' is one of convkit's own optimizers; give the custom one another kind`);
  registered.set(kind, make);
}

function makeRegistered(kind: string, config: Record<string, unknown>, fn: string): Optimizer {
  const made = registered.get(kind)!(config);
  if (!(made instanceof Optimizer)) throw new ValueError(`${fn}: the optimizer registered as '${kind}' made ${describe(made)}, not an Optimizer`);
  return made;
}

/** 'sgd' | 'momentum' (0.9) | 'adam' | 'rmsprop' or a registered kind, with an optional learning rate. */
export function createOptimizer(name: OptimizerName | Optimizer | (string & {}) | undefined, learningRate?: number, fn = 'createOptimizer', schedule?: Schedule, weightDecay?: number): Optimizer {
  if (name instanceof Optimizer) {
    if (learningRate !== undefined) throw new ValueError(`${fn}: learningRate is given twice, as an option and inside the ${name.constructor.name} optimizer (learningRate ${name.learningRate}); give it to the optimizer`);
    return name;
  }
  if (typeof name === 'string' && registered.has(name)) {
    if (learningRate !== undefined || schedule !== undefined || weightDecay !== undefined) throw new ValueError(`${fn}: give the options of the registered optimizer '${name}' to it, not beside it`);
    return makeRegistered(name, {}, fn);
  }
  if (name !== undefined) checkOneOf(name, [...OPTIMIZER_NAMES, ...registered.keys()], 'optimizer', fn);
  switch (name ?? 'adam') {
    case 'adam':
      return new Adam({ learningRate, schedule, weightDecay });
    case 'sgd':
      return new SGD({ learningRate, schedule, weightDecay });
    case 'momentum':
      return new SGD({ learningRate: learningRate ?? OPTIMIZER_DEFAULTS.momentum.learningRate, momentum: OPTIMIZER_DEFAULTS.momentum.momentum, schedule, weightDecay });
    case 'rmsprop':
      return new RMSprop({ learningRate, schedule, weightDecay });
    case 'adamw':
      return new AdamW({ learningRate, schedule, weightDecay });
    case 'adagrad':
      return new Adagrad({ learningRate, schedule, weightDecay });
    default:
      throw new ValueError(`optimizer must be one of ${OPTIMIZER_NAMES.join(', ')} or an Optimizer, got ${describe(name)}`);
  }
}

/** Rebuilds an optimizer from its config() (for resuming training). */
export function optimizerFromConfig(config: Record<string, unknown>): Optimizer {
  const schedule = scheduleFromSpec(config.schedule, 'optimizerFromConfig');
  const { kind: _kind, schedule: _spec, ...options } = config;
  if (config.kind === 'adam') return new Adam({ ...(options as AdamOptions), schedule });
  if (config.kind === 'sgd') return new SGD({ ...(options as SGDOptions), schedule });
  if (config.kind === 'rmsprop') return new RMSprop({ ...(options as RMSpropOptions), schedule });
  if (config.kind === 'adamw') return new AdamW({ ...(options as AdamOptions), schedule });
  if (config.kind === 'adagrad') return new Adagrad({ ...(options as AdagradOptions), schedule });
  if (typeof config.kind === 'string' && registered.has(config.kind)) return makeRegistered(config.kind, config, 'optimizerFromConfig');
  throw new ValueError(`optimizerFromConfig: unknown optimizer kind ${describe(config.kind)} (convkit's: ${OPTIMIZER_NAMES.join(', ')}; a custom one must be registered with registerOptimizer before loading)`);
}
