// An exponential moving average of the weights, kept beside training and
// swapped in at its end: Keras's optimizer option use_ema / ema_momentum, and
// torch's AveragedModel with get_ema_multi_avg_fn. The averaged weights
// usually evaluate better than the last step's, at no cost to training.
import { checkBoolean, checkNumber, checkOptions } from '../core/check.js';
import { ValueError } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import type { Callbacks } from './train-options.js';

/** How `weightAverage` averages. */
export interface WeightAverageOptions {
  /** The weight of the old average at each step, in [0, 1) (Keras's ema_momentum; default 0.99). */
  momentum?: number;
  /** Copy the average into the model when fit ends (default true, as Keras does); false leaves that to `average.apply()`. */
  overwriteAtEnd?: boolean;
}

/** The callback `weightAverage` returns: it averages after every batch, and `apply()` copies the average into the model. */
export interface WeightAverage extends Callbacks {
  /** Steps averaged so far. */
  readonly steps: number;
  /** Copies the averaged weights into the model's parameters. */
  apply(): void;
}

/**
 * Keeps avg ← momentum·avg + (1 − momentum)·w for every parameter after each
 * batch's step; the first step copies the weights (torch's AveragedModel). At
 * the end of fit the model gets the average, as under Keras's `use_ema`.
 * Moving BatchNorm statistics are not parameters: they stay the model's own,
 * as in both libraries by default.
 * @example
 * ```ts
 * const ema = weightAverage(model, { momentum: 0.999 });
 * await model.fit(x, y, { epochs: 10, callbacks: [ema] });  // the model now holds the average
 * ```
 */
export function weightAverage(model: { parameters(): Parameter[] }, options: WeightAverageOptions = {}): WeightAverage {
  const op = 'weightAverage';
  checkOptions(options, ['momentum', 'overwriteAtEnd'], op);
  const momentum = options.momentum === undefined ? 0.99 : checkNumber(options.momentum, 'momentum', op);
  if (!(momentum >= 0 && momentum < 1)) throw new ValueError(`${op}: momentum must be in [0, 1), got ${momentum}`);
  const overwrite = options.overwriteAtEnd === undefined ? true : checkBoolean(options.overwriteAtEnd, 'overwriteAtEnd', op);
  let params: Parameter[] = [];
  let averages: Float32Array[] = [];
  let steps = 0;
  const callback: WeightAverage = {
    get steps() {
      return steps;
    },
    onTrainBegin() {
      // Parameters exist once the model is built, which fit ensures before this.
      params = model.parameters();
      if (averages.length !== params.length || averages.some((a, i) => a.length !== params[i].value.size)) {
        averages = params.map((p) => new Float32Array(p.value.size));
        steps = 0;
      }
    },
    onBatchEnd() {
      const first = steps === 0;
      for (let k = 0; k < params.length; k++) {
        const w = params[k].value.data;
        const a = averages[k];
        if (first) a.set(w);
        else for (let i = 0; i < a.length; i++) a[i] = momentum * a[i] + (1 - momentum) * w[i];
      }
      steps++;
    },
    onTrainEnd() {
      if (overwrite) callback.apply();
    },
    apply() {
      if (steps === 0) throw new ValueError(`${op}: nothing averaged yet; pass the callback to fit and train at least one batch`);
      params.forEach((p, k) => p.value.data.set(averages[k]));
    },
  };
  return callback;
}
