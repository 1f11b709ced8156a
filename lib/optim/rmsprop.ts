// RMSprop as Keras and tfjs define it (epsilon under the root).
import { checkOptions } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import { OPTIMIZER_DEFAULTS } from '../core/defaults.js';
import { CLIP_OPTIONS, type ClipOptions, Optimizer, positive } from './optimizer.js';
import type { Schedule } from './schedules.js';

/** Options of `RMSprop`, with Keras's and tfjs's names and defaults. */
export interface RMSpropOptions extends ClipOptions {
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
    checkOptions(options, ['learningRate', 'rho', 'momentum', 'epsilon', 'centered', 'weightDecay', 'schedule', ...CLIP_OPTIONS], 'RMSprop');
    const d = OPTIMIZER_DEFAULTS.rmsprop;
    super(options.learningRate ?? d.learningRate, options.schedule, 'RMSprop', options);
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
    return { kind: this.kind, learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered, weightDecay: this.weightDecay, schedule: this.scheduleSpec(), ...this.clipConfig() };
  }
}
