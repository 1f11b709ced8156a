// Mean squared error for a regression output (fitAll's 'meanSquaredError'):
// targets are values, not class labels, so it is no Loss of labels.
import { Buffers } from './layers/layer.js';
import { Tensor } from '../core/tensor.js';

/** The mean of (y − t)² over every unit of every sample, as Keras's mean_squared_error and torch's MSELoss. */
export class MeanSquaredError {
  readonly name = 'meanSquaredError' as const;
  private readonly buffers = new Buffers();

  /** The mean loss over the batch and dLoss/dOutputs (in a reused buffer). */
  compute(outputs: Tensor, targets: Tensor): { loss: number; dLogits: Tensor } {
    const count = outputs.size;
    const d = this.buffers.get('d', outputs.size);
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      const e = outputs.data[i] - targets.data[i];
      sum += e * e;
      d[i] = (2 * e) / count;
    }
    return { loss: sum / count, dLogits: new Tensor(d, outputs.shape) };
  }
}
