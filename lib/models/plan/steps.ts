// The steps of an execution plan (compile.ts chooses them). A step runs one
// layer, or several that the backends compute in one call; it owns the
// buffers of what it fuses, so that the layers themselves stay plain and
// know nothing of their neighbours.
import type { ConvChainBlock, ConvChainForwardBlock } from '../../backend/backend.js';
import { poolWindowsTile } from '../../backend/geometry.js';
import { getBackend } from '../../backend/select.js';
import { ValueError } from '../../core/errors.js';
import { Buffers, type Layer } from '../../nn/layers/layer.js';
import type { Conv2D } from '../../nn/layers/conv.js';
import type { Dense } from '../../nn/layers/dense.js';
import type { MaxPool2D } from '../../nn/layers/pool.js';
import type { ReLU } from '../../nn/layers/activation.js';
import { Tensor } from '../../core/tensor.js';

export interface Step {
  /** The layers this step computes, in order. */
  readonly layers: readonly Layer[];
  /** Runs the layers on x; the result is valid until the step runs again. */
  forward(x: Tensor, training: boolean): Tensor;
  /** From the gradient of the last layer's output: fills the parameters' gradients; returns the input's (null unless needInputGrad). */
  backward(dy: Tensor, needInputGrad: boolean): Tensor | null;
}

/** One layer on its own. */
export class LayerStep implements Step {
  readonly layers: readonly Layer[];

  constructor(readonly layer: Layer) {
    this.layers = [layer];
  }

  forward(x: Tensor, training: boolean): Tensor {
    return this.layer.forward(x, training);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return this.layer.backward(dy, needInputGrad);
  }
}

/**
 * A Dense layer whose input the plan tracks itself, so that a whole-model
 * pass (chain.ts), which computes the layer without calling it, leaves the
 * state a later backward reads.
 */
export class DenseStep implements Step {
  readonly layers: readonly Layer[];
  private input: Tensor | null = null;

  constructor(readonly dense: Dense) {
    this.layers = [dense];
  }

  forward(x: Tensor): Tensor {
    this.input = x;
    return this.dense.forward(x);
  }

  /** What a whole-model pass fed this layer. */
  ranOn(x: Tensor): void {
    this.input = x;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return this.dense.backwardFrom(dy.data, this.input!, needInputGrad);
  }
}

function tensorOf(data: Float32Array, batch: number, shape: readonly number[]): Tensor {
  return new Tensor(data, [batch, ...shape]);
}

const sizeOf = (batch: number, shape: readonly number[]) => shape.reduce((a, b) => a * b, batch);

/** Conv2D → ReLU: the ReLU runs in the convolution's epilogue; its backward mask reads the saved output. */
export class ConvReluStep implements Step {
  readonly layers: readonly Layer[];
  private readonly buffers = new Buffers();
  private input: Tensor | null = null;
  private output: Tensor | null = null;

  constructor(readonly conv: Conv2D, relu: ReLU) {
    this.layers = [conv, relu];
  }

  forward(x: Tensor): Tensor {
    const { conv } = this;
    const g = conv.geometryFor(x.shape[0]);
    const y = tensorOf(this.buffers.get('y', sizeOf(g.batch, conv.outputShape)), g.batch, conv.outputShape);
    getBackend().conv2d(y.data, x.data, conv.weight.value.data, conv.bias ? conv.bias.value.data : null, g, true);
    this.input = x;
    this.output = y;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = this.input!;
    // max(z, 0) > 0 exactly where z > 0: the saved output is the mask.
    const dz = this.buffers.get('dz', dy.size);
    getBackend().reluBackward(dz, dy.data, this.output!.data);
    return this.conv.backwardFrom(dz, x, needInputGrad);
  }
}

/**
 * Conv2D → ReLU → MaxPool2D in one call each way. When the pool's windows
 * tile (poolWindowsTile), training keeps only the pooled output and the cell
 * each maximum came from (a byte per output), and the backward is one call
 * too; otherwise it keeps the convolution's output and the pool's backward
 * applies the ReLU's mask. Inference keeps nothing.
 */
export class ConvReluPoolStep implements Step {
  readonly layers: readonly Layer[];
  /** Whether the pool's windows tile the convolution's output. */
  readonly tiles: boolean;
  private readonly buffers = new Buffers();
  private input: Tensor | null = null;
  private pooled: Tensor | null = null;
  private convOut: Float32Array | null = null;
  private cells: Uint8Array | null = null;
  private trained = false;

  constructor(readonly conv: Conv2D, relu: ReLU, readonly pool: MaxPool2D) {
    this.layers = [conv, relu, pool];
    this.tiles = poolWindowsTile(pool.geometryFor(1));
  }

  private pooledFor(batch: number): Tensor {
    return tensorOf(this.buffers.get('pooled', sizeOf(batch, this.pool.outputShape)), batch, this.pool.outputShape);
  }

  private cellsFor(size: number): Uint8Array {
    if (this.cells?.length !== size) this.cells = new Uint8Array(size);
    return this.cells;
  }

  forward(x: Tensor, training: boolean): Tensor {
    const { conv, pool } = this;
    const g = conv.geometryFor(x.shape[0]);
    const pooled = this.pooledFor(g.batch);
    const cells = training && this.tiles ? this.cellsFor(pooled.size) : null;
    const convOut = training && !this.tiles ? this.buffers.get('conv', sizeOf(g.batch, conv.outputShape)) : null;
    getBackend().conv2dReluPool(
      convOut, pooled.data, cells, x.data, conv.weight.value.data, conv.bias ? conv.bias.value.data : null, g, pool.geometryFor(g.batch),
    );
    this.input = x;
    this.pooled = pooled;
    this.convOut = convOut;
    this.trained = training;
    return pooled;
  }

  backward(dPooled: Tensor, needInputGrad: boolean): Tensor | null {
    const { conv, pool } = this;
    const x = this.input;
    if (!x || !this.trained) throw new ValueError(`${conv.name}: backward needs the activations of a forward with training: true, the last forward was for inference`);
    const g = conv.geometryFor(x.shape[0]);
    const pg = pool.geometryFor(g.batch);
    const backend = getBackend();
    if (!this.tiles) {
      const dConv = this.buffers.get('dconv', sizeOf(g.batch, conv.outputShape));
      backend.maxPool2dBackward(dConv, dPooled.data, this.convOut!, pg, true);
      return conv.backwardFrom(dConv, x, needInputGrad);
    }
    const dx = needInputGrad ? this.buffers.get('dx', sizeOf(g.batch, conv.inputShape)) : null;
    backend.conv2dReluPoolBackward(
      dx, conv.weight.grad.data, conv.bias ? conv.bias.grad.data : null, dPooled.data, x.data, conv.weight.value.data,
      this.pooled!.data, this.cells!, g, pg,
    );
    return dx ? tensorOf(dx, g.batch, conv.inputShape) : null;
  }

  /**
   * This step as a block of a whole pass (chain.ts) over x: the buffers the
   * pass writes, and this step's state set as forward sets it, so that its
   * backward reads what the pass wrote.
   */
  chainBlock(x: Tensor, needInputGrad: boolean): ConvChainBlock {
    const block = this.chainForwardBlock(x);
    const batch = block.g.batch;
    this.trained = true;
    return {
      w: block.w, b: block.b, pooled: block.pooled, g: block.g, pg: block.pg,
      cells: this.cellsFor(block.pooled.length),
      dx: needInputGrad ? this.buffers.get('dx', sizeOf(batch, this.conv.inputShape)) : null,
      dw: this.conv.weight.grad.data, db: this.conv.bias ? this.conv.bias.grad.data : null,
    };
  }

  /** This step as a block of an inference pass over x (nothing kept for a backward). */
  chainForwardBlock(x: Tensor): ConvChainForwardBlock {
    const { conv } = this;
    const g = conv.geometryFor(x.shape[0]);
    const pooled = this.pooledFor(g.batch);
    this.input = x;
    this.pooled = pooled;
    this.trained = false;
    return { w: conv.weight.value.data, b: conv.bias ? conv.bias.value.data : null, pooled: pooled.data, g, pg: this.pool.geometryFor(g.batch) };
  }

  /** The output of the last forward or chain block. */
  get lastOutput(): Tensor {
    return this.pooled!;
  }
}
