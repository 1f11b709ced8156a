import { getBackend } from '../../backend/select.js';
import { checkBoolean, checkNumber } from '../../core/check.js';
import type { Random } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { Layer, type Parameter, type SampleShape, layerOptions, parameter, type LayerOptions } from './layer.js';

/** Options of `BatchNormalization` (Keras's names and defaults). */
export interface BatchNormalizationOptions extends LayerOptions {
  /** The moving statistics' decay: moving = momentum · moving + (1 − momentum) · batch (Keras's sense; PyTorch's momentum is 1 − this). Default 0.99. */
  momentum?: number;
  /** Added to the variance before its square root. Default 0.001 (Keras; PyTorch's is 1e-5). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  name?: string;
}

const BN_OPTIONS = ['momentum', 'epsilon', 'center', 'scale', 'name'];

/**
 * Batch normalization over the last axis (the channels of NHWC images, the
 * features of [N, F]): training normalizes by the batch's mean and variance
 * and updates the moving statistics; inference (evaluate, predict) uses the
 * moving ones. The moving variance takes the batch's unbiased variance, as
 * PyTorch's BatchNorm2d does (Keras takes the biased one).
 *
 * Weights, named as in a PyTorch state_dict: `weight` (gamma) and `bias`
 * (beta), trained; `running_mean` and `running_var`, saved in checkpoints
 * but not trained.
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * sequential([layers.conv2d({ filters: 16, kernelSize: 3, useBias: false }), layers.batchNormalization(), layers.relu()])
 * ```
 */
export class BatchNormalization extends Layer {
  readonly kind = 'BatchNormalization';
  readonly options: { momentum: number; epsilon: number; center: boolean; scale: boolean };
  gamma!: Parameter;
  beta!: Parameter;
  runningMean!: Parameter;
  runningVar!: Parameter;
  private channels = 0;
  private input: Tensor | null = null;
  /** Whether the last forward was for training (batch statistics) or inference (the moving ones). */
  private trained = false;
  private stats = { mean: new Float32Array(0), variance: new Float32Array(0), invStd: new Float32Array(0), dgamma: new Float32Array(0), dbeta: new Float32Array(0) };

  constructor(options: BatchNormalizationOptions = {}) {
    layerOptions(options, BN_OPTIONS, 'BatchNormalization');
    super(options.name, options);
    const momentum = options.momentum ?? 0.99;
    checkNumber(momentum, 'momentum', 'BatchNormalization', { min: 0, max: 1 });
    const epsilon = options.epsilon ?? 1e-3;
    checkNumber(epsilon, 'epsilon', 'BatchNormalization', { min: Number.MIN_VALUE });
    this.options = {
      momentum,
      epsilon,
      center: options.center === undefined ? true : checkBoolean(options.center, 'center', 'BatchNormalization'),
      scale: options.scale === undefined ? true : checkBoolean(options.scale, 'scale', 'BatchNormalization'),
    };
  }

  protected setup(inputShape: SampleShape, _random: Random): SampleShape {
    const c = inputShape[inputShape.length - 1];
    this.channels = c;
    this.gamma = parameter(`${this.name}.weight`, [c]);
    this.gamma.value.data.fill(1);
    this.beta = parameter(`${this.name}.bias`, [c]);
    this.runningMean = parameter(`${this.name}.running_mean`, [c]);
    this.runningVar = parameter(`${this.name}.running_var`, [c]);
    this.runningVar.value.data.fill(1);
    this.stats = { mean: new Float32Array(c), variance: new Float32Array(c), invStd: new Float32Array(c), dgamma: new Float32Array(c), dbeta: new Float32Array(c) };
    return inputShape;
  }

  forward(x: Tensor, trainingPass: boolean): Tensor {
    // Keras: a frozen BatchNormalization normalizes by its moving statistics, and leaves them alone, in training too.
    const training = trainingPass && this.trainable;
    const rows = x.size / this.channels;
    const y = this.reusable('y', x.shape[0], this.outputShape);
    const { epsilon, momentum } = this.options;
    const b = getBackend();
    this.trained = training;
    if (!training) {
      this.input = x;
      b.batchNormInferForward(y.data, x.data, this.runningMean.value.data, this.runningVar.value.data, this.gamma.value.data, this.beta.value.data, rows, this.channels, epsilon);
      return y;
    }
    const s = this.stats;
    b.batchNormTrainForward(y.data, s.mean, s.variance, s.invStd, x.data, this.gamma.value.data, this.beta.value.data, rows, this.channels, epsilon);
    const unbiased = rows > 1 ? rows / (rows - 1) : 1;
    const rm = this.runningMean.value.data;
    const rv = this.runningVar.value.data;
    for (let c = 0; c < this.channels; c++) {
      rm[c] = momentum * rm[c] + (1 - momentum) * s.mean[c];
      rv[c] = momentum * rv[c] + (1 - momentum) * s.variance[c] * unbiased;
    }
    this.input = x;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.trained) return this.inferenceBackward(dy, needInputGrad);
    const x = this.input!;
    const rows = x.size / this.channels;
    const dx = needInputGrad ? this.reusable('dx', x.shape[0], this.inputShape) : null;
    const s = this.stats;
    getBackend().batchNormBackward(dx ? dx.data : null, s.dgamma, s.dbeta, dy.data, x.data, s.mean, s.invStd, this.gamma.value.data, rows, this.channels);
    if (this.options.scale) this.gamma.grad.data.set(s.dgamma);
    if (this.options.center) this.beta.grad.data.set(s.dbeta);
    return dx;
  }

  /**
   * The backward of the inference form, y = x · gamma / sqrt(moving var + eps)
   * + shift, an affine map per channel (what Grad-CAM and input gradients of a
   * model in inference mode go through): dx = dy · that scale; dgamma and
   * dbeta as that form has them.
   */
  private inferenceBackward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.input!;
    const c = this.channels;
    const { epsilon } = this.options;
    const gamma = this.gamma.value.data;
    const mean = this.runningMean.value.data;
    const invStd = Float64Array.from(this.runningVar.value.data, (v) => 1 / Math.sqrt(v + epsilon));
    const dg = this.gamma.grad.data;
    const db = this.beta.grad.data;
    dg.fill(0);
    db.fill(0);
    const dx = needInputGrad ? this.reusable('dx', x.shape[0], this.inputShape) : null;
    for (let i = 0; i < dy.size; i++) {
      const k = i % c;
      db[k] += dy.data[i];
      dg[k] += dy.data[i] * (x.data[i] - mean[k]) * invStd[k];
      if (dx) dx.data[i] = dy.data[i] * gamma[k] * invStd[k];
    }
    return dx;
  }

  /** gamma and beta, where scale and center keep them (a fixed 1 and 0 otherwise). */
  override parameters(): Parameter[] {
    return [...(this.options.scale ? [this.gamma] : []), ...(this.options.center ? [this.beta] : [])];
  }

  /** The moving mean and variance, plus a fixed gamma or beta: saved and loaded, never trained. */
  override stateTensors(): Parameter[] {
    return [...(this.options.scale ? [] : [this.gamma]), ...(this.options.center ? [] : [this.beta]), this.runningMean, this.runningVar];
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}
