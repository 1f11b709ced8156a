import { getBackend } from '../backend/select.js';
import { checkFunction, checkOneOf, checkOptions } from '../core/check.js';
import { type Schedule, scheduleFromSpec } from './schedules.js';
import { FormatError, ValueError, describe } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import type { Tensor } from '../core/tensor.js';

import { OPTIMIZER_DEFAULTS, OPTIMIZER_NAMES, type OptimizerName } from '../core/defaults.js';

export { OPTIMIZER_DEFAULTS, OPTIMIZER_NAMES, type OptimizerName } from '../core/defaults.js';

export { type Schedule, type ScheduleSpec, stepDecay, cosineDecay } from './schedules.js';

function positive(value: unknown, name: string, op: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ValueError(`${op}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${describe(value)}`);
  }
  return value;
}

/**
 * When params lie back to back in one array (a built Sequential packs them so),
 * a single parameter spanning them all, so one native call updates the model.
 * Its name lists the first and last parameter, so optimizer state stays tied to the model's layout.
 */
function packedView(params: readonly Parameter[]): Parameter | null {
  if (params.length < 2) return null;
  const first = params[0];
  const values = first.value.data;
  const grads = first.grad.data;
  let end = values.byteOffset;
  for (const p of params) {
    const v = p.value.data;
    const g = p.grad.data;
    if (v.buffer !== values.buffer || g.buffer !== grads.buffer || v.byteOffset !== end || g.byteOffset - grads.byteOffset !== v.byteOffset - values.byteOffset) return null;
    end += v.byteLength;
  }
  const count = (end - values.byteOffset) / 4;
  const value = new Float32Array(values.buffer, values.byteOffset, count);
  const grad = new Float32Array(grads.buffer, grads.byteOffset, count);
  return { name: `${first.name}..${params[params.length - 1].name}`, value: { data: value, size: count } as Tensor, grad: { data: grad, size: count } as Tensor };
}

/** Updates parameters from their gradients; holds per-parameter state by parameter name. */
export abstract class Optimizer {
  abstract readonly kind: string;
  readonly learningRate: number;
  readonly schedule: Schedule | null;
  iterations = 0;
  protected readonly slots = new Map<string, Float32Array[]>();

  constructor(learningRate: number, schedule: Schedule | undefined, op: string) {
    this.learningRate = positive(learningRate, 'learningRate', op);
    this.schedule = schedule === undefined || schedule === null ? null : checkFunction<Schedule>(schedule, 'schedule', op, 'a function of the iteration giving a rate multiplier (e.g. stepDecay({every, factor}) or cosineDecay({decaySteps}))');
    this.op = op;
  }

  private readonly op: string;

  /** The rate this step uses. */
  currentLearningRate(): number {
    if (!this.schedule) return this.learningRate;
    const factor = this.schedule(this.iterations);
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
      throw new ValueError(`${this.op}: schedule(${this.iterations}) returned ${describe(factor)}; a schedule must return a finite multiplier >= 0 of the learning rate`);
    }
    return this.learningRate * factor;
  }

  /** Updates every parameter from its gradient, then advances the schedule. */
  step(params: readonly Parameter[]): void {
    const lr = this.currentLearningRate();
    this.iterations++;
    const packed = packedView(params);
    if (packed) this.update(packed, lr);
    else for (const p of params) this.update(p, lr);
  }

  protected slot(p: Parameter, count: number): Float32Array[] {
    let s = this.slots.get(p.name);
    if (!s) {
      s = Array.from({ length: count }, () => new Float32Array(p.value.size));
      this.slots.set(p.name, s);
    }
    return s;
  }

  protected abstract update(p: Parameter, lr: number): void;

  /** Slot arrays kept per parameter (SGD with momentum 1, Adam 2). */
  protected abstract readonly slotCount: number;

  /**
   * Refuses a state that belongs to other parameters: every slot must name
   * these parameters (one packed view of them all, or each by name) and have
   * its size.
   */
  checkStateFor(params: readonly Parameter[], source: string): void {
    const sizes = new Map(params.map((p) => [p.name, p.value.size]));
    const packed = packedView(params);
    if (packed) sizes.set(packed.name, packed.value.size);
    for (const [name, arrays] of this.slots) {
      const size = sizes.get(name);
      if (size === undefined) throw new FormatError(`${source}: the optimizer state is for '${name}', which this model does not have; it belongs to another model`);
      if (arrays[0].length !== size) throw new FormatError(`${source}: the optimizer state for '${name}' holds ${arrays[0].length} values, the model's ${size}`);
    }
  }

  /** State for checkpoints: the iteration count and every slot array by `${param}/${index}`. */
  state(): { iterations: number; slots: Record<string, Float32Array> } {
    const slots: Record<string, Float32Array> = {};
    for (const [name, arrays] of this.slots) arrays.forEach((a, i) => (slots[`${name}/${i}`] = a));
    return { iterations: this.iterations, slots };
  }

  /** Restores iterations and slots that state() returned (resuming from a checkpoint). */
  loadState(state: { iterations: number; slots: Record<string, Float32Array> }): void {
    this.iterations = state.iterations;
    this.slots.clear();
    const grouped = new Map<string, Float32Array[]>();
    for (const [key, array] of Object.entries(state.slots)) {
      const cut = key.lastIndexOf('/');
      const name = key.slice(0, cut);
      const index = Number(key.slice(cut + 1));
      // SGD keeps one slot per parameter, Adam two: a key naming slot 4294967294 is forged, not a state.
      if (cut <= 0 || !/^\d$/.test(key.slice(cut + 1)) || index >= this.slotCount) {
        throw new FormatError(`${this.op}: optimizer state key '${key}' is not '<parameter>/<slot>' with a slot below ${this.slotCount}`);
      }
      if (!(array instanceof Float32Array)) throw new FormatError(`${this.op}: optimizer state '${key}' is not a float32 array`);
      if (!grouped.has(name)) grouped.set(name, []);
      grouped.get(name)![index] = array.slice();
    }
    for (const [name, arrays] of grouped) {
      if (arrays.length !== this.slotCount || arrays.some((a) => a === undefined || a.length !== arrays[0].length)) {
        throw new FormatError(`${this.op}: optimizer state for '${name}' must have ${this.slotCount} slot(s) of one length`);
      }
      this.slots.set(name, arrays);
    }
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  abstract config(): Record<string, unknown>;

  /** The schedule as JSON when it is one convkit can rebuild (stepDecay, cosineDecay), else null. */
  protected scheduleSpec(): unknown {
    return (this.schedule as (Schedule & { spec?: unknown }) | null)?.spec ?? null;
  }
}

/** Options of `SGD`: learning rate, momentum, weight decay (L2, added to the gradient as PyTorch's SGD does) and schedule. */
export interface SGDOptions {
  learningRate?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: Schedule;
}

/** Stochastic gradient descent, with optional momentum (PyTorch's form: v = μv + g; p -= lr·v). */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  protected readonly slotCount = 1;
  readonly momentum: number;
  readonly weightDecay: number;

  constructor(options: SGDOptions = {}) {
    checkOptions(options, ['learningRate', 'momentum', 'weightDecay', 'schedule'], 'SGD');
    super(options.learningRate ?? OPTIMIZER_DEFAULTS.sgd.learningRate, options.schedule, 'SGD');
    this.momentum = positive(options.momentum ?? 0, 'momentum', 'SGD', true);
    this.weightDecay = positive(options.weightDecay ?? 0, 'weightDecay', 'SGD', true);
    if (this.momentum >= 1) throw new ValueError(`SGD: momentum must be below 1, got ${this.momentum}`);
  }

  protected update(p: Parameter, lr: number): void {
    const velocity = this.momentum > 0 ? this.slot(p, 1)[0] : null;
    getBackend().sgdStep(p.value.data, velocity, p.grad.data, lr, this.momentum, this.weightDecay);
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, momentum: this.momentum, weightDecay: this.weightDecay, schedule: this.scheduleSpec() };
  }
}

/** Options of `Adam`: learning rate, betas, epsilon, weight decay and schedule. */
export interface AdamOptions {
  /** Default 0.001 (Keras, tfjs and PyTorch alike). */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8, PyTorch's; Keras and tfjs use 1e-7 (give epsilon: 1e-7 to match them). */
  epsilon?: number;
  /**
   * L2 weight decay added to the gradient before the moments, as PyTorch's
   * Adam(weight_decay) does; not decoupled (that is AdamW / Keras's
   * weight_decay, which convkit does not have yet). Default 0.
   */
  weightDecay?: number;
  schedule?: Schedule;
}

/** Adam (Kingma & Ba 2015) with bias correction. */
export class Adam extends Optimizer {
  readonly kind = 'adam';
  protected readonly slotCount = 2;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(options: AdamOptions = {}) {
    checkOptions(options, ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'schedule'], 'Adam');
    super(options.learningRate ?? OPTIMIZER_DEFAULTS.adam.learningRate, options.schedule, 'Adam');
    this.beta1 = positive(options.beta1 ?? OPTIMIZER_DEFAULTS.adam.beta1, 'beta1', 'Adam', true);
    this.beta2 = positive(options.beta2 ?? OPTIMIZER_DEFAULTS.adam.beta2, 'beta2', 'Adam', true);
    this.epsilon = positive(options.epsilon ?? OPTIMIZER_DEFAULTS.adam.epsilon, 'epsilon', 'Adam');
    this.weightDecay = positive(options.weightDecay ?? 0, 'weightDecay', 'Adam', true);
    if (this.beta1 >= 1 || this.beta2 >= 1) throw new ValueError(`Adam: beta1 and beta2 must be below 1, got ${this.beta1}, ${this.beta2}`);
  }

  protected update(p: Parameter, lr: number): void {
    const [m, v] = this.slot(p, 2);
    getBackend().adamStep(p.value.data, m, v, p.grad.data, lr, this.beta1, this.beta2, this.epsilon, this.iterations, this.weightDecay);
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, schedule: this.scheduleSpec() };
  }
}


/** Options of `RMSprop`, with Keras's and tfjs's names and defaults. */
export interface RMSpropOptions {
  /** Default 0.001. */
  learningRate?: number;
  /** Decay of the running mean of squared gradients (Keras's rho, tfjs's decay, torch's alpha); default 0.9 (torch's is 0.99). */
  rho?: number;
  /** Momentum of the update; default 0. */
  momentum?: number;
  /** Added to the mean square under the root, as Keras and tfjs do (torch adds its 1e-8 after the root); default 1e-7. */
  epsilon?: number;
  /** Divide by the variance (mean square less the squared mean gradient) instead of the mean square; default false. */
  centered?: boolean;
  /** L2 weight decay added to the gradient (torch's weight_decay); default 0. */
  weightDecay?: number;
  schedule?: Schedule;
}

/**
 * RMSprop (Hinton's lecture 6e), as Keras and tfjs define it:
 * ms = ρ·ms + (1 − ρ)·g², v = μ·v + lr·g / √(ms + ε), p −= v.
 */
export class RMSprop extends Optimizer {
  readonly kind = 'rmsprop';
  protected readonly slotCount: number;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly weightDecay: number;

  constructor(options: RMSpropOptions = {}) {
    checkOptions(options, ['learningRate', 'rho', 'momentum', 'epsilon', 'centered', 'weightDecay', 'schedule'], 'RMSprop');
    const d = OPTIMIZER_DEFAULTS.rmsprop;
    super(options.learningRate ?? d.learningRate, options.schedule, 'RMSprop');
    this.rho = positive(options.rho ?? d.rho, 'rho', 'RMSprop', true);
    this.momentum = positive(options.momentum ?? d.momentum, 'momentum', 'RMSprop', true);
    this.epsilon = positive(options.epsilon ?? d.epsilon, 'epsilon', 'RMSprop');
    this.weightDecay = positive(options.weightDecay ?? d.weightDecay, 'weightDecay', 'RMSprop', true);
    if (options.centered !== undefined && typeof options.centered !== 'boolean') throw new ValueError(`RMSprop: centered must be true or false, got ${describe(options.centered)}`);
    this.centered = options.centered ?? false;
    if (this.rho >= 1 || this.momentum >= 1) throw new ValueError(`RMSprop: rho and momentum must be below 1, got ${this.rho}, ${this.momentum}`);
    // Slots: the mean square, then the momentum buffer and the mean gradient where used.
    this.slotCount = 1 + (this.momentum > 0 ? 1 : 0) + (this.centered ? 1 : 0);
  }

  protected update(p: Parameter, lr: number): void {
    const slots = this.slot(p, this.slotCount);
    const ms = slots[0];
    const mom = this.momentum > 0 ? slots[1] : null;
    const mg = this.centered ? slots[this.slotCount - 1] : null;
    const w = p.value.data;
    const g = p.grad.data;
    const { rho, momentum, epsilon, weightDecay } = this;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + weightDecay * w[i];
      ms[i] = rho * ms[i] + (1 - rho) * gi * gi;
      let denom = ms[i];
      if (mg) {
        mg[i] = rho * mg[i] + (1 - rho) * gi;
        denom -= mg[i] * mg[i];
      }
      const step = (lr * gi) / Math.sqrt(denom + epsilon);
      if (mom) {
        mom[i] = momentum * mom[i] + step;
        w[i] -= mom[i];
      } else {
        w[i] -= step;
      }
    }
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered, weightDecay: this.weightDecay, schedule: this.scheduleSpec() };
  }
}

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
  if (typeof config.kind === 'string' && registered.has(config.kind)) return makeRegistered(config.kind, config, 'optimizerFromConfig');
  throw new ValueError(`optimizerFromConfig: unknown optimizer kind ${describe(config.kind)} (convkit's: ${OPTIMIZER_NAMES.join(', ')}; a custom one must be registered with registerOptimizer before loading)`);
}
