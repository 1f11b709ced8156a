import { getBackend } from '../../backend/select.js';
import { ValueError } from '../../core/errors.js';
import type { Random } from '../../core/random.js';
import { Tensor } from '../../core/tensor.js';
import { Layer, type SampleShape, layerOptions, type LayerOptions } from './layer.js';
import { checkNumber } from '../../core/check.js';

abstract class Elementwise extends Layer {
  protected saved: Tensor | null = null;

  constructor(options: LayerOptions = {}, known: readonly string[] = ['name']) {
    layerOptions(options, known, new.target.name);
    super(options.name, options);
  }

  protected setup(inputShape: SampleShape, _random?: Random): SampleShape {
    return inputShape;
  }

  /** The options that rebuild this layer (JSON), without its name. */
  config(): Record<string, unknown> {
    return {};
  }
}

/** max(x, 0). */
export class ReLU extends Elementwise {
  readonly kind = 'ReLU';
  forward(x: Tensor): Tensor {
    this.saved = x;
    const y = this.reusable('y', x.shape[0], this.outputShape);
    getBackend().relu(y.data, x.data);
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    getBackend().reluBackward(dx.data, dy.data, this.saved!.data);
    return dx;
  }
}

/** x for x > 0, alpha·x otherwise. */
export class LeakyReLU extends Elementwise {
  readonly kind = 'LeakyReLU';
  readonly alpha: number;

  constructor(options: { alpha?: number; name?: string } = {}) {
    super(options, ['alpha', 'name']);
    this.alpha = checkNumber(options.alpha ?? 0.01, 'alpha', 'LeakyReLU');
  }

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    getBackend().leakyRelu(y.data, x.data, this.alpha);
    this.saved = x;
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    getBackend().leakyReluBackward(dx.data, dy.data, this.saved!.data, this.alpha);
    return dx;
  }

  override config(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
}

/** 1 / (1 + e^-x). */
export class Sigmoid extends Elementwise {
  readonly kind = 'Sigmoid';

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    getBackend().sigmoid(y.data, x.data);
    this.saved = y;
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    getBackend().sigmoidBackward(dx.data, dy.data, this.saved!.data);
    return dx;
  }
}

/** tanh, element-wise. Shape: unchanged. */
export class Tanh extends Elementwise {
  readonly kind = 'Tanh';

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    getBackend().tanh(y.data, x.data);
    this.saved = y;
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    getBackend().tanhBackward(dx.data, dy.data, this.saved!.data);
    return dx;
  }
}

/** Softmax over the last axis. (For training, end the model in logits and let the loss apply it.) */
export class Softmax extends Elementwise {
  readonly kind = 'Softmax';

  forward(x: Tensor): Tensor {
    const y = this.reusable('y', x.shape[0], this.outputShape);
    const cols = this.outputShape[this.outputShape.length - 1];
    getBackend().softmax(y.data, x.data, x.size / cols, cols);
    this.saved = y;
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    const cols = this.outputShape[this.outputShape.length - 1];
    getBackend().softmaxBackward(dx.data, dy.data, this.saved!.data, dy.size / cols, cols);
    return dx;
  }
}

/** Inverted dropout: in training zeroes each value with probability rate and scales the rest by 1 / (1 - rate). */
export class Dropout extends Elementwise {
  readonly kind = 'Dropout';
  readonly rate: number;
  private random: Random | null = null;
  private mask: Float32Array | null = null;

  constructor(options: LayerOptions & { rate: number }) {
    if (options === undefined) throw new ValueError('Dropout: options {rate} are required, got undefined');
    super(options, ['rate', 'name']);
    this.rate = checkNumber(options.rate, 'rate', 'Dropout', { min: 0, max: 1, maxExclusive: true });
  }

  protected override setup(inputShape: SampleShape, random: Random): SampleShape {
    this.random = random.fork();
    return inputShape;
  }

  forward(x: Tensor, training: boolean): Tensor {
    if (!training || this.rate === 0) {
      this.mask = null;
      return x;
    }
    const y = this.reusable('y', x.shape[0], this.outputShape);
    const mask = this.buffers.get('mask', x.size);
    const keep = 1 / (1 - this.rate);
    for (let i = 0; i < x.size; i++) {
      mask[i] = this.random!.next() < this.rate ? 0 : keep;
      y.data[i] = x.data[i] * mask[i];
    }
    this.mask = mask;
    return y;
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    if (!need) return null;
    if (!this.mask) return dy;
    const dx = this.reusable('dx', dy.shape[0], this.inputShape);
    for (let i = 0; i < dy.size; i++) dx.data[i] = dy.data[i] * this.mask[i];
    return dx;
  }

  override config(): Record<string, unknown> {
    return { rate: this.rate };
  }
}

/** [N, d1, d2, ...] → [N, d1·d2·...] in row-major (h, w, c) order; a view, no copy. */
export class Flatten extends Elementwise {
  readonly kind = 'Flatten';

  protected override setup(inputShape: SampleShape): SampleShape {
    return [inputShape.reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor): Tensor {
    return new Tensor(x.data, [x.shape[0], ...this.outputShape]);
  }

  backward(dy: Tensor, need: boolean): Tensor | null {
    return need ? new Tensor(dy.data, [dy.shape[0], ...this.inputShape]) : null;
  }
}
