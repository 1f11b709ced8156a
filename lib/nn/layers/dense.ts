import { getBackend } from '../../backend/select.js';
import { type Initializer, checkInitializer, initialize } from '../initializers.js';
import { checkPositiveInt } from '../../core/check.js';
import type { Random } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { type Activation, Layer, type Parameter, type SampleShape, checkActivation, checkUseBias, layerOptions, parameter, type LayerOptions } from './layer.js';

/** Options of `Dense`. */
export interface DenseOptions extends LayerOptions {
  units: number;
  useBias?: boolean;
  /** Default 'he' (N(0, 2/fanIn)); Keras's and tfjs's default is 'glorotUniform', PyTorch's {name: 'kaimingUniform', a: Math.sqrt(5)}. */
  kernelInitializer?: Initializer;
  /**
   * Default zeros (Keras's and tfjs's); drawn with the weight's fans, so
   * {name: 'kaimingUniform', a: Math.sqrt(5)} gives PyTorch's U(±1/√fanIn).
   */
  biasInitializer?: Initializer;
  /** Applied after the layer, as its own layer that Sequential inserts. */
  activation?: Activation;
  name?: string;
}

const DENSE_OPTIONS = ['units', 'useBias', 'kernelInitializer', 'biasInitializer', 'activation', 'name'];

/** Fully connected: y = x · W + b with W [in, units]. Shape: [N, in] → [N, units]. */
export class Dense extends Layer {
  readonly kind = 'Dense';
  readonly options: { units: number; useBias: boolean; kernelInitializer: Initializer; biasInitializer?: Initializer };
  /** The activation Sequential inserts after this layer (not part of config(): the inserted layer is). */
  readonly activation: Activation | null;
  weight!: Parameter;
  bias: Parameter | null = null;
  private input: Tensor | null = null;

  constructor(options: DenseOptions) {
    layerOptions(options, DENSE_OPTIONS, 'Dense', true);
    super(options.name, options);
    checkPositiveInt(options.units, 'units', 'Dense');
    this.options = {
      units: options.units,
      useBias: checkUseBias(options.useBias, 'Dense'),
      kernelInitializer: checkInitializer(options.kernelInitializer ?? 'he', 'Dense'),
    };
    if (options.biasInitializer !== undefined) this.options.biasInitializer = checkInitializer(options.biasInitializer, 'Dense');
    this.activation = checkActivation(options.activation, 'Dense');
  }

  protected setup(inputShape: SampleShape, random: Random): SampleShape {
    this.expectRank(inputShape, 1, '[features] (add a Flatten layer before it)');
    const inF = inputShape[0];
    this.weight = parameter(`${this.name}.weight`, [inF, this.options.units]);
    initialize(this.options.kernelInitializer, this.weight.value.data, inF, this.options.units, random);
    this.bias = this.options.useBias ? parameter(`${this.name}.bias`, [this.options.units]) : null;
    if (this.bias && this.options.biasInitializer) initialize(this.options.biasInitializer, this.bias.value.data, inF, this.options.units, random);
    return [this.options.units];
  }

  forward(x: Tensor): Tensor {
    const rows = x.shape[0];
    const y = this.reusable('y', rows, this.outputShape);
    getBackend().dense(y.data, x.data, this.weight.value.data, this.bias ? this.bias.value.data : null, rows, this.inputShape[0], this.options.units);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return this.backwardFrom(dy.data, this.input!, needInputGrad);
  }

  /** The backward for output gradient dy and input x: fills dw and db, returns dx (or null). */
  backwardFrom(dy: Float32Array, x: Tensor, needInputGrad: boolean): Tensor | null {
    const rows = x.shape[0];
    const dx = needInputGrad ? this.reusable('dx', rows, this.inputShape) : null;
    getBackend().denseBackward(
      dx ? dx.data : null, this.weight.grad.data, this.bias ? this.bias.grad.data : null, dy, x.data,
      this.weight.value.data, rows, this.inputShape[0], this.options.units,
    );
    return dx;
  }

  override parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}
