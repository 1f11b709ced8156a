import type { ConvChainForwardHead, ConvChainHead } from '../backend/backend.js';
import { getBackend } from '../backend/select.js';
import { type Initializer, checkInitializer, initialize } from '../initializers.js';
import { checkPositiveInt } from '../check.js';
import type { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import { type Activation, Layer, type Parameter, type SampleShape, checkActivation, checkUseBias, layerOptions, parameter } from './layer.js';

export interface DenseOptions {
  units: number;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  /** Applied after the layer, as its own layer that Sequential inserts. */
  activation?: Activation;
  name?: string;
}

const DENSE_OPTIONS = ['units', 'useBias', 'kernelInitializer', 'activation', 'name'];

/** Fully connected: y = x · W + b with W [in, units]. Shape: [N, in] → [N, units]. */
export class Dense extends Layer {
  readonly kind = 'Dense';
  readonly options: { units: number; useBias: boolean; kernelInitializer: Initializer };
  /** The activation Sequential inserts after this layer (not part of config(): the inserted layer is). */
  readonly activation: Activation | null;
  weight!: Parameter;
  bias: Parameter | null = null;
  private input: Tensor | null = null;

  constructor(options: DenseOptions) {
    layerOptions(options, DENSE_OPTIONS, 'Dense', true);
    super(options.name);
    checkPositiveInt(options.units, 'units', 'Dense');
    this.options = {
      units: options.units,
      useBias: checkUseBias(options.useBias, 'Dense'),
      kernelInitializer: checkInitializer(options.kernelInitializer ?? 'he', 'Dense'),
    };
    this.activation = checkActivation(options.activation, 'Dense');
  }

  protected setup(inputShape: SampleShape, random: Random): SampleShape {
    this.expectRank(inputShape, 1, '[features] (add a Flatten layer before it)');
    const inF = inputShape[0];
    this.weight = parameter(`${this.name}.weight`, [inF, this.options.units]);
    initialize(this.options.kernelInitializer, this.weight.value.data, inF, this.options.units, random);
    this.bias = this.options.useBias ? parameter(`${this.name}.bias`, [this.options.units]) : null;
    return [this.options.units];
  }

  forward(x: Tensor): Tensor {
    const rows = x.shape[0];
    const y = this.output('y', rows, this.outputShape);
    getBackend().dense(x.data, this.weight.value.data, this.bias ? this.bias.value.data : null, y.data, rows, this.inputShape[0], this.options.units);
    this.input = x;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.input!;
    const rows = x.shape[0];
    const dx = needInputGrad ? this.output('dx', rows, this.inputShape) : null;
    getBackend().denseBackward(
      dy.data, x.data, this.weight.value.data, dx ? dx.data : null, this.weight.grad.data,
      this.bias ? this.bias.grad.data : null, rows, this.inputShape[0], this.options.units,
    );
    return dx;
  }

  /**
   * This layer as the head of a whole training pass (Sequential.trainPass)
   * over x: the buffers the pass writes, its saved input set as forward sets it.
   */
  chainHead(x: Tensor): { head: ConvChainHead; logits: Tensor } {
    const { head, logits } = this.chainForwardHead(x);
    const dx = this.output('dx', x.shape[0], this.inputShape).data;
    // Not {...head}: object spread showed in a training step's profile (see Conv2D.chainBlock).
    return { head: { w: head.w, b: head.b, logits: head.logits, dx, dw: this.weight.grad.data, db: this.bias ? this.bias.grad.data : null }, logits };
  }

  /** This layer as the head of an inference pass over x (Sequential.forwardInPlace). */
  chainForwardHead(x: Tensor): { head: ConvChainForwardHead; logits: Tensor } {
    const logits = this.output('y', x.shape[0], this.outputShape);
    this.input = x;
    return { head: { w: this.weight.value.data, b: this.bias ? this.bias.value.data : null, logits: logits.data }, logits };
  }

  override parameters(): Parameter[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }
}
