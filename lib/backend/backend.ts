import type { WindowGeometry } from './geometry.js';

/** The most Conv2D → ReLU → MaxPool2D blocks convChainForward and convChainTrainPass take (native/kernels/chain/conv_chain.h: kMaxChainBlocks). */
export const MAX_CHAIN_BLOCKS = 16;

/** One Conv2D → ReLU → MaxPool2D block of convChainTrainPass (pool windows that tile). */
export interface ConvChainBlock {
  w: Float32Array;
  b: Float32Array | null;
  /** Written: the pooled output (the next block's input) and each value's window cell. */
  pooled: Float32Array;
  cells: Uint8Array;
  /** Written: the gradient of the block's input; null for the first block. */
  dx: Float32Array | null;
  dw: Float32Array;
  db: Float32Array | null;
  g: WindowGeometry;
  pg: WindowGeometry;
}

/** The Dense head of convChainTrainPass, over the last block's pooled output, flattened. */
export interface ConvChainHead {
  w: Float32Array;
  b: Float32Array | null;
  /** Written: the logits, the gradient of the head's input (the last block's dPooled), dw and db. */
  logits: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array | null;
}

/** A block of convChainForward (inference): no cells, no gradients. */
export type ConvChainForwardBlock = Pick<ConvChainBlock, 'w' | 'b' | 'pooled' | 'g' | 'pg'>;
/** The head of convChainForward. */
export type ConvChainForwardHead = Pick<ConvChainHead, 'w' | 'b' | 'logits'>;

/**
 * The seam between the functional API and the kernels. Every method works on
 * flat row-major arrays that the caller allocated and sized from the
 * geometry (outputs are overwritten, never accumulated into); shapes have
 * already been validated by lib/ops. Two implementations: `reference`
 * (lib/backend/reference.ts) and `native` (the C++ addon).
 *
 * Argument order follows llm.c: a forward is (inputs..., outputs..., sizes),
 * its backward is (dOutput, saved inputs..., dInputs..., sizes).
 */
export interface Backend {
  readonly name: 'reference' | 'native';

  /** y[N,OH,OW,O] = conv(x[N,H,W,C], w[KH,KW,C,O]) + b[O], then max(y, 0) when relu (a fused ReLU). */
  conv2d(y: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array | null, g: WindowGeometry, relu?: boolean): void;
  /** dx[N,H,W,C] from dy[N,OH,OW,O] and w */
  conv2dBackwardData(dx: Float32Array, dy: Float32Array, w: Float32Array, g: WindowGeometry): void;
  /** dw[KH,KW,C,O] and db[O] from dy and x */
  conv2dBackwardFilter(dw: Float32Array, db: Float32Array | null, dy: Float32Array, x: Float32Array, g: WindowGeometry): void;

  /**
   * Conv2D → ReLU → MaxPool2D forward in one call: convOut = max(conv(x, w) + b, 0),
   * pooled = max-pool of convOut (pg), each chunk pooled while still in cache.
   * convOut null: not kept, only pooled is written. cells (windows that
   * tile only): cells[i] = the row-major index, within its window, of the
   * cell pooled[i] came from (the first maximum) — all the backward needs.
   */
  conv2dReluPool(
    convOut: Float32Array | null, pooled: Float32Array, cells: Uint8Array | null, x: Float32Array, w: Float32Array,
    b: Float32Array | null, g: WindowGeometry, pg: WindowGeometry,
  ): void;

  /**
   * The backward of Conv2D → ReLU → MaxPool2D in one call, for pooling
   * windows that tile the convolution's output (pg: stride = kernel, no
   * padding): from dPooled, the saved input x, and the forward's pooled and
   * cells, writes dw, db and (unless null) dx.
   */
  conv2dReluPoolBackward(
    dx: Float32Array | null, dw: Float32Array, db: Float32Array | null, dPooled: Float32Array, x: Float32Array,
    w: Float32Array, pooled: Float32Array, cells: Uint8Array, g: WindowGeometry, pg: WindowGeometry,
  ): void;

  /** y[N,OH,OW,C] = max over each window of x; padding never wins. */
  maxPool2d(y: Float32Array, x: Float32Array, g: WindowGeometry): void;
  /**
   * dx gets each dy at its window's first maximum in row-major order. With
   * reluMask, a maximum that is not positive gets 0 instead: the backward of
   * a ReLU whose output x is, fused in.
   */
  maxPool2dBackward(dx: Float32Array, dy: Float32Array, x: Float32Array, g: WindowGeometry, reluMask?: boolean): void;
  /** y = mean over the window's input cells (padding not counted). */
  avgPool2d(y: Float32Array, x: Float32Array, g: WindowGeometry): void;
  /** dx from dy for an average pool: each output gradient spread evenly over its window. */
  avgPool2dBackward(dx: Float32Array, dy: Float32Array, g: WindowGeometry): void;

  /** y[rows,outF] = x[rows,inF] · w[inF,outF] + b[outF] */
  dense(y: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array | null, rows: number, inF: number, outF: number): void;
  /** dx = dy · wᵀ, dw = xᵀ · dy, db = column sums of dy; dx may be null (first layer). */
  denseBackward(
    dx: Float32Array | null, dw: Float32Array, db: Float32Array | null,
    dy: Float32Array, x: Float32Array, w: Float32Array,
    rows: number, inF: number, outF: number,
  ): void;

  /** y[i] = x[i] / divisor (image bytes to floats, a whole data set at a time). */
  bytesToFloats(y: Float32Array, x: Uint8Array, divisor: number): void;

  /** y = a + b, element-wise; y may be a (a residual join, gradients that fan in). */
  add(y: Float32Array, a: Float32Array, b: Float32Array): void;
  /** y = max(x, 0), element-wise (NaN passes through). */
  relu(y: Float32Array, x: Float32Array): void;
  /** dx = dy where x > 0, else 0. */
  reluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array): void;
  /** y = x for x > 0, else alpha * x. */
  leakyRelu(y: Float32Array, x: Float32Array, alpha: number): void;
  /** dx = dy where x > 0, else alpha * dy. */
  leakyReluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array, alpha: number): void;
  /** y = 1 / (1 + exp(-x)). */
  sigmoid(y: Float32Array, x: Float32Array): void;
  /** Takes the forward's output y = sigmoid(x). */
  sigmoidBackward(dx: Float32Array, dy: Float32Array, y: Float32Array): void;
  /** y = tanh(x). */
  tanh(y: Float32Array, x: Float32Array): void;
  /** Takes the forward's output y = tanh(x). */
  tanhBackward(dx: Float32Array, dy: Float32Array, y: Float32Array): void;
  /** Softmax over the last axis of a [rows, cols] array. */
  softmax(y: Float32Array, x: Float32Array, rows: number, cols: number): void;
  /** dx from dy through a softmax over rows of cols values, given its output y. */
  softmaxBackward(dx: Float32Array, dy: Float32Array, y: Float32Array, rows: number, cols: number): void;

  /**
   * Batch normalization's training forward over [rows, channels] (NHWC,
   * rows = N·H·W): writes the batch's mean, biased variance and
   * invStd = 1 / sqrt(var + eps), and y = (x − mean)·invStd·gamma + beta.
   */
  batchNormTrainForward(
    y: Float32Array, mean: Float32Array, variance: Float32Array, invStd: Float32Array, x: Float32Array,
    gamma: Float32Array, beta: Float32Array, rows: number, channels: number, eps: number,
  ): void;
  /** Batch normalization with given (moving) statistics: y = (x − mean) / sqrt(var + eps)·gamma + beta. */
  batchNormInferForward(
    y: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array, beta: Float32Array,
    rows: number, channels: number, eps: number,
  ): void;
  /** The training forward's backward, from its saved mean and invStd: overwrites dgamma and dbeta, writes dx unless null. */
  batchNormBackward(
    dx: Float32Array | null, dgamma: Float32Array, dbeta: Float32Array, dy: Float32Array, x: Float32Array,
    mean: Float32Array, invStd: Float32Array, gamma: Float32Array, rows: number, channels: number,
  ): void;

  /**
   * Mean softmax cross-entropy over rows; writes the probabilities and
   * dLoss/dLogits (already divided by rows). Labels are in [0, cols).
   */
  softmaxCrossEntropy(
    probs: Float32Array, dLogits: Float32Array, logits: Float32Array, labels: Int32Array, rows: number, cols: number,
  ): number;
  /**
   * Inference through blocks → Dense head: the same numbers as
   * conv2dReluPool for each block (no conv output, no cells) and dense, in
   * one call (native: one parallel region). Writes each block's pooled
   * output and the logits.
   */
  convChainForward(blocks: readonly ConvChainForwardBlock[], head: ConvChainForwardHead, x: Float32Array, classes: number): void;
  /**
   * A whole training pass of blocks → Dense head → softmax cross-entropy:
   * the same numbers as conv2dReluPool for each block, dense,
   * softmaxCrossEntropy, denseBackward and conv2dReluPoolBackward for each
   * block in reverse, in one call (native: one parallel region, each thread
   * carrying its images through every layer). Block k > 0 reads block k-1's
   * pooled output; the first reads x. Returns the mean loss.
   */
  convChainTrainPass(
    blocks: readonly ConvChainBlock[], head: ConvChainHead, probs: Float32Array, dLogits: Float32Array, x: Float32Array,
    labels: Int32Array, classes: number,
  ): number;
  /** Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]; writes dLoss/dLogits. */
  sigmoidBinaryCrossEntropy(dLogits: Float32Array, logits: Float32Array, targets: Float32Array): number;

  /** v = momentum·v + g + wd·p; p -= lr·v  (velocity null: plain SGD). */
  sgdStep(param: Float32Array, velocity: Float32Array | null, grad: Float32Array, lr: number, momentum: number, weightDecay: number, nesterov?: boolean): void;
  /** Adam with bias correction; step counts from 1. */
  adamStep(
    param: Float32Array, m: Float32Array, v: Float32Array, grad: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, step: number, weightDecay: number,
  ): void;
}
