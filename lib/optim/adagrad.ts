// Adagrad (Duchi et al. 2011) in PyTorch's form.
import { checkOptions } from '../core/check.js';
import type { Parameter } from '../nn/layers/layer.js';
import { OPTIMIZER_DEFAULTS } from '../core/defaults.js';
import { CLIP_OPTIONS, type ClipOptions, Optimizer, positive } from './optimizer.js';
import type { Schedule } from './schedules.js';

/** Options of `Adagrad`, with PyTorch's names and defaults. */
export interface AdagradOptions extends ClipOptions {
  /** Default 0.01 (PyTorch's; Keras's is 0.001). */
  learningRate?: number;
  /** The rate falls as lr / (1 + (t − 1)·lrDecay); default 0. */
  lrDecay?: number;
  /** L2 weight decay added to the gradient; default 0. */
  weightDecay?: number;
  /** The sum of squares starts here; default 0 (Keras's is 0.1). */
  initialAccumulatorValue?: number;
  /** Added after the root; default 1e-10 (Keras adds 1e-7 under it). */
  epsilon?: number;
  schedule?: Schedule;
}

/** Adagrad: s += g², p −= lr·g / (√s + ε), as torch.optim.Adagrad. */
export class Adagrad extends Optimizer {
  readonly kind = 'adagrad';
  protected readonly slotCount = 1;
  readonly lrDecay: number;
  readonly weightDecay: number;
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;

  constructor(options: AdagradOptions = {}) {
    checkOptions(options, ['learningRate', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'epsilon', 'schedule', ...CLIP_OPTIONS], 'Adagrad');
    const d = OPTIMIZER_DEFAULTS.adagrad;
    super(options.learningRate ?? d.learningRate, options.schedule, 'Adagrad', options);
    this.lrDecay = positive(options.lrDecay ?? 0, 'lrDecay', 'Adagrad', true);
    this.weightDecay = positive(options.weightDecay ?? d.weightDecay, 'weightDecay', 'Adagrad', true);
    this.initialAccumulatorValue = positive(options.initialAccumulatorValue ?? 0, 'initialAccumulatorValue', 'Adagrad', true);
    this.epsilon = positive(options.epsilon ?? d.epsilon, 'epsilon', 'Adagrad');
  }

  protected update(p: Parameter, lr: number): void {
    const fresh = !this.slots.has(p.name);
    const [sum] = this.slot(p, 1);
    if (fresh && this.initialAccumulatorValue) sum.fill(this.initialAccumulatorValue);
    const rate = lr / (1 + (this.iterations - 1) * this.lrDecay);
    const w = p.value.data;
    const g = p.grad.data;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + this.weightDecay * w[i];
      sum[i] += gi * gi;
      w[i] -= (rate * gi) / (Math.sqrt(sum[i]) + this.epsilon);
    }
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  config() {
    return { kind: this.kind, learningRate: this.learningRate, lrDecay: this.lrDecay, weightDecay: this.weightDecay, initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon, schedule: this.scheduleSpec(), ...this.clipConfig() };
  }
}
