// SGD (with momentum and Nesterov) and Adam, whose steps run in the backend's kernels.
import { getBackend } from '../backend/select.js';
import { checkOptions } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import { OPTIMIZER_DEFAULTS } from '../core/defaults.js';
import { CLIP_OPTIONS, type ClipOptions, Optimizer, positive } from './optimizer.js';
import type { Schedule } from './schedules.js';

/** Options of `SGD`: learning rate, momentum (plain or Nesterov), weight decay (L2, added to the gradient as PyTorch's SGD does), schedule and clipping. */
export interface SGDOptions extends ClipOptions {
  learningRate?: number;
  momentum?: number;
  /** Nesterov momentum, PyTorch's form (needs momentum > 0); default false. */
  nesterov?: boolean;
  weightDecay?: number;
  schedule?: Schedule;
}

/** Stochastic gradient descent, with optional momentum (PyTorch's form: v = μv + g; p -= lr·v, or p -= lr·(g + μv) with Nesterov). */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  protected readonly slotCount = 1;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(options: SGDOptions = {}) {
    checkOptions(options, ['learningRate', 'momentum', 'nesterov', 'weightDecay', 'schedule', ...CLIP_OPTIONS], 'SGD');
    super(options.learningRate ?? OPTIMIZER_DEFAULTS.sgd.learningRate, options.schedule, 'SGD', options);
    this.momentum = positive(options.momentum ?? 0, 'momentum', 'SGD', true);
    this.weightDecay = positive(options.weightDecay ?? 0, 'weightDecay', 'SGD', true);
    if (this.momentum >= 1) throw new ValueError(`SGD: momentum must be below 1, got ${this.momentum}`);
    if (options.nesterov !== undefined && typeof options.nesterov !== 'boolean') throw new ValueError(`SGD: nesterov must be true or false, got ${describe(options.nesterov)}`);
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && this.momentum === 0) throw new ValueError('SGD: nesterov needs a momentum above 0 (as PyTorch)');
  }

  protected update(p: Parameter, lr: number): void {
    const velocity = this.momentum > 0 ? this.slot(p, 1)[0] : null;
    getBackend().sgdStep(p.value.data, velocity, p.grad.data, lr, this.momentum, this.weightDecay, this.nesterov);
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, momentum: this.momentum, ...(this.nesterov ? { nesterov: true } : {}), weightDecay: this.weightDecay, schedule: this.scheduleSpec(), ...this.clipConfig() };
  }
}

/** Options of `Adam` and `AdamW`: learning rate, betas, epsilon, weight decay, schedule and clipping. */
export interface AdamOptions extends ClipOptions {
  /** Default 0.001 (Keras, tfjs and PyTorch alike). */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8, PyTorch's; Keras and tfjs use 1e-7 (give epsilon: 1e-7 to match them). */
  epsilon?: number;
  /**
   * Adam: L2 weight decay added to the gradient before the moments, as
   * PyTorch's Adam(weight_decay) does (default 0). AdamW: decoupled, the
   * weights shrunk by lr·weightDecay before each step, as PyTorch's AdamW and
   * Keras's weight_decay (default 0.01, PyTorch's).
   */
  weightDecay?: number;
  schedule?: Schedule;
}

const ADAM_OPTIONS = ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'schedule', ...CLIP_OPTIONS];

/** Adam (Kingma & Ba 2015) with bias correction. */
export class Adam extends Optimizer {
  readonly kind: string = 'adam';
  protected readonly slotCount = 2;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(options: AdamOptions = {}, op = 'Adam', defaultDecay = 0) {
    checkOptions(options, ADAM_OPTIONS, op);
    super(options.learningRate ?? OPTIMIZER_DEFAULTS.adam.learningRate, options.schedule, op, options);
    this.beta1 = positive(options.beta1 ?? OPTIMIZER_DEFAULTS.adam.beta1, 'beta1', op, true);
    this.beta2 = positive(options.beta2 ?? OPTIMIZER_DEFAULTS.adam.beta2, 'beta2', op, true);
    this.epsilon = positive(options.epsilon ?? OPTIMIZER_DEFAULTS.adam.epsilon, 'epsilon', op);
    this.weightDecay = positive(options.weightDecay ?? defaultDecay, 'weightDecay', op, true);
    if (this.beta1 >= 1 || this.beta2 >= 1) throw new ValueError(`${op}: beta1 and beta2 must be below 1, got ${this.beta1}, ${this.beta2}`);
  }

  protected update(p: Parameter, lr: number): void {
    const [m, v] = this.slot(p, 2);
    getBackend().adamStep(p.value.data, m, v, p.grad.data, lr, this.beta1, this.beta2, this.epsilon, this.iterations, this.weightDecay);
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, schedule: this.scheduleSpec(), ...this.clipConfig() };
  }
}

/** AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, p ← p·(1 − lr·λ) before the Adam step, as PyTorch's AdamW. */
export class AdamW extends Adam {
  override readonly kind = 'adamw';

  constructor(options: AdamOptions = {}) {
    super(options, 'AdamW', OPTIMIZER_DEFAULTS.adamw.weightDecay);
  }

  protected override update(p: Parameter, lr: number): void {
    const [m, v] = this.slot(p, 2);
    const w = p.value.data;
    const keep = 1 - lr * this.weightDecay;
    if (keep !== 1) for (let i = 0; i < w.length; i++) w[i] *= keep;
    getBackend().adamStep(w, m, v, p.grad.data, lr, this.beta1, this.beta2, this.epsilon, this.iterations, 0);
  }
}
