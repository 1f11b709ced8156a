// The native Backend: each method passes its arguments to the addon in the
// same order (outputs first, then inputs, then options, sizes last, as the
// C++ kernels take them), a geometry packed as one Int32Array, and rethrows
// what the addon raises as a ConvkitError from the caller's frame (a
// try/catch in each method, not a wrapper closure: nothing is allocated per call).
import { BackendError, ConvkitError, DTypeError, ShapeError } from '../core/errors.js';
import { type Backend, type ConvChainBlock, type ConvChainForwardBlock, type ConvChainForwardHead, type ConvChainHead, MAX_CHAIN_BLOCKS } from './backend.js';
import { GEOMETRY_FIELDS, MAX_TILED_POOL_WINDOW, type WindowGeometry } from './geometry.js';

type F = Float32Array;
type Fn = F | null;
/** A geometry as the addon reads it: GEOMETRY_FIELDS in order. */
type Packed = Int32Array;

/** The kernels the addon exports (native/binding/), argument for argument. */
export interface AddonKernels {
  conv2d(y: F, x: F, w: F, b: Fn, g: Packed, relu: boolean): void;
  conv2dBackwardData(dx: F, dy: F, w: F, g: Packed): void;
  conv2dBackwardFilter(dw: F, db: Fn, dy: F, x: F, g: Packed): void;
  conv2dReluPool(convOut: Fn, pooled: F, cells: Uint8Array | null, x: F, w: F, b: Fn, g: Packed, pg: Packed): void;
  conv2dReluPoolBackward(dx: Fn, dw: F, db: Fn, dPooled: F, x: F, w: F, pooled: F, cells: Uint8Array, g: Packed, pg: Packed): void;
  maxPool2d(y: F, x: F, g: Packed): void;
  maxPool2dBackward(dx: F, dy: F, x: F, g: Packed, reluMask: boolean): void;
  avgPool2d(y: F, x: F, g: Packed): void;
  avgPool2dBackward(dx: F, dy: F, g: Packed): void;
  dense(y: F, x: F, w: F, b: Fn, rows: number, inF: number, outF: number): void;
  denseBackward(dx: Fn, dw: F, db: Fn, dy: F, x: F, w: F, rows: number, inF: number, outF: number): void;
  bytesToFloats(y: F, x: Uint8Array, divisor: number): void;
  add(y: F, a: F, b: F): void;
  relu(y: F, x: F): void;
  reluBackward(dx: F, dy: F, x: F): void;
  leakyRelu(y: F, x: F, alpha: number): void;
  leakyReluBackward(dx: F, dy: F, x: F, alpha: number): void;
  sigmoid(y: F, x: F): void;
  sigmoidBackward(dx: F, dy: F, y: F): void;
  tanh(y: F, x: F): void;
  tanhBackward(dx: F, dy: F, y: F): void;
  softmax(y: F, x: F, rows: number, cols: number): void;
  softmaxBackward(dx: F, dy: F, y: F, rows: number, cols: number): void;
  softmaxCrossEntropy(probs: F, dLogits: F, logits: F, labels: Int32Array, rows: number, cols: number): number;
  sigmoidBinaryCrossEntropy(dLogits: F, logits: F, targets: F): number;
  batchNormTrainForward(y: F, mean: F, variance: F, invStd: F, x: F, gamma: F, beta: F, rows: number, channels: number, eps: number): void;
  batchNormInferForward(y: F, x: F, mean: F, variance: F, gamma: F, beta: F, rows: number, channels: number, eps: number): void;
  batchNormBackward(dx: Fn, dgamma: F, dbeta: F, dy: F, x: F, mean: F, invStd: F, gamma: F, rows: number, channels: number): void;
  /** logits, x, headW, headB, classes, then 9 per block (chainBlockArgs). */
  convChainForward(...args: unknown[]): void;
  /** probs, dLogits, logits, headDx, headDw, headDb, x, labels, headW, headB, classes, then 9 per block. */
  convChainTrainPass(...args: unknown[]): number;
  sgdStep(param: F, velocity: Fn, grad: F, lr: number, momentum: number, weightDecay: number, nesterov?: boolean): void;
  adamStep(param: F, m: F, v: F, grad: F, lr: number, beta1: number, beta2: number, eps: number, step: number, weightDecay: number): void;
}

const KERNELS: readonly (keyof AddonKernels)[] = [
  'conv2d', 'conv2dBackwardData', 'conv2dBackwardFilter', 'conv2dReluPool', 'conv2dReluPoolBackward',
  'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward', 'dense', 'denseBackward', 'bytesToFloats',
  'add', 'relu', 'reluBackward', 'leakyRelu', 'leakyReluBackward', 'sigmoid', 'sigmoidBackward', 'tanh', 'tanhBackward',
  'softmax', 'softmaxBackward', 'softmaxCrossEntropy', 'sigmoidBinaryCrossEntropy', 'convChainForward', 'convChainTrainPass',
  'sgdStep', 'adamStep', 'batchNormTrainForward', 'batchNormInferForward', 'batchNormBackward',
];

/** The addon throws TypeError for a wrong kind of argument and RangeError for a wrong size. */
function translate(error: unknown, kernel: string): ConvkitError {
  if (error instanceof ConvkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError) return new DTypeError(`native ${kernel}: ${message}`);
  if (error instanceof RangeError) return new ShapeError(`native ${kernel}: ${message}`);
  return new BackendError(`native ${kernel}: ${message}`);
}

const packedGeometries = new WeakMap<WindowGeometry, Packed>();

/** A geometry's fields as one Int32Array, made once per geometry object (layers keep theirs). */
function pack(g: WindowGeometry): Packed {
  let packed = packedGeometries.get(g);
  if (!packed) {
    packed = Int32Array.from(GEOMETRY_FIELDS, (field) => g[field]);
    packedGeometries.set(g, packed);
  }
  return packed;
}

/** A chain's blocks as the addon reads them, 9 each, outputs first: pooled, cells, dx, dw, db, w, b, geometry, pool geometry. */
function chainBlockArgs(args: unknown[], blocks: readonly ConvChainForwardBlock[] | readonly ConvChainBlock[], training: boolean): unknown[] {
  for (const k of blocks) {
    const t = training ? (k as ConvChainBlock) : null;
    args.push(k.pooled, t?.cells ?? null, t?.dx ?? null, t?.dw ?? null, t?.db ?? null, k.w, k.b, pack(k.g), pack(k.pg));
  }
  return args;
}

class NativeBackend implements Backend {
  readonly name = 'native' as const;

  constructor(private readonly k: AddonKernels) {}

  conv2d(y: F, x: F, w: F, b: Fn, g: WindowGeometry, relu = false): void {
    try {
      this.k.conv2d(y, x, w, b, pack(g), relu);
    } catch (error) {
      throw translate(error, 'conv2d');
    }
  }
  conv2dBackwardData(dx: F, dy: F, w: F, g: WindowGeometry): void {
    try {
      this.k.conv2dBackwardData(dx, dy, w, pack(g));
    } catch (error) {
      throw translate(error, 'conv2dBackwardData');
    }
  }
  conv2dBackwardFilter(dw: F, db: Fn, dy: F, x: F, g: WindowGeometry): void {
    try {
      this.k.conv2dBackwardFilter(dw, db, dy, x, pack(g));
    } catch (error) {
      throw translate(error, 'conv2dBackwardFilter');
    }
  }
  conv2dReluPool(convOut: Fn, pooled: F, cells: Uint8Array | null, x: F, w: F, b: Fn, g: WindowGeometry, pg: WindowGeometry): void {
    try {
      this.k.conv2dReluPool(convOut, pooled, cells, x, w, b, pack(g), pack(pg));
    } catch (error) {
      throw translate(error, 'conv2dReluPool');
    }
  }
  conv2dReluPoolBackward(dx: Fn, dw: F, db: Fn, dPooled: F, x: F, w: F, pooled: F, cells: Uint8Array, g: WindowGeometry, pg: WindowGeometry): void {
    try {
      this.k.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, pack(g), pack(pg));
    } catch (error) {
      throw translate(error, 'conv2dReluPoolBackward');
    }
  }
  maxPool2d(y: F, x: F, g: WindowGeometry): void {
    try {
      this.k.maxPool2d(y, x, pack(g));
    } catch (error) {
      throw translate(error, 'maxPool2d');
    }
  }
  maxPool2dBackward(dx: F, dy: F, x: F, g: WindowGeometry, reluMask = false): void {
    try {
      this.k.maxPool2dBackward(dx, dy, x, pack(g), reluMask);
    } catch (error) {
      throw translate(error, 'maxPool2dBackward');
    }
  }
  avgPool2d(y: F, x: F, g: WindowGeometry): void {
    try {
      this.k.avgPool2d(y, x, pack(g));
    } catch (error) {
      throw translate(error, 'avgPool2d');
    }
  }
  avgPool2dBackward(dx: F, dy: F, g: WindowGeometry): void {
    try {
      this.k.avgPool2dBackward(dx, dy, pack(g));
    } catch (error) {
      throw translate(error, 'avgPool2dBackward');
    }
  }
  dense(y: F, x: F, w: F, b: Fn, rows: number, inF: number, outF: number): void {
    try {
      this.k.dense(y, x, w, b, rows, inF, outF);
    } catch (error) {
      throw translate(error, 'dense');
    }
  }
  denseBackward(dx: Fn, dw: F, db: Fn, dy: F, x: F, w: F, rows: number, inF: number, outF: number): void {
    try {
      this.k.denseBackward(dx, dw, db, dy, x, w, rows, inF, outF);
    } catch (error) {
      throw translate(error, 'denseBackward');
    }
  }
  bytesToFloats(y: F, x: Uint8Array, divisor: number): void {
    try {
      this.k.bytesToFloats(y, x, divisor);
    } catch (error) {
      throw translate(error, 'bytesToFloats');
    }
  }
  add(y: F, a: F, b: F): void {
    try {
      this.k.add(y, a, b);
    } catch (error) {
      throw translate(error, 'add');
    }
  }
  relu(y: F, x: F): void {
    try {
      this.k.relu(y, x);
    } catch (error) {
      throw translate(error, 'relu');
    }
  }
  reluBackward(dx: F, dy: F, x: F): void {
    try {
      this.k.reluBackward(dx, dy, x);
    } catch (error) {
      throw translate(error, 'reluBackward');
    }
  }
  leakyRelu(y: F, x: F, alpha: number): void {
    try {
      this.k.leakyRelu(y, x, alpha);
    } catch (error) {
      throw translate(error, 'leakyRelu');
    }
  }
  leakyReluBackward(dx: F, dy: F, x: F, alpha: number): void {
    try {
      this.k.leakyReluBackward(dx, dy, x, alpha);
    } catch (error) {
      throw translate(error, 'leakyReluBackward');
    }
  }
  sigmoid(y: F, x: F): void {
    try {
      this.k.sigmoid(y, x);
    } catch (error) {
      throw translate(error, 'sigmoid');
    }
  }
  sigmoidBackward(dx: F, dy: F, y: F): void {
    try {
      this.k.sigmoidBackward(dx, dy, y);
    } catch (error) {
      throw translate(error, 'sigmoidBackward');
    }
  }
  tanh(y: F, x: F): void {
    try {
      this.k.tanh(y, x);
    } catch (error) {
      throw translate(error, 'tanh');
    }
  }
  tanhBackward(dx: F, dy: F, y: F): void {
    try {
      this.k.tanhBackward(dx, dy, y);
    } catch (error) {
      throw translate(error, 'tanhBackward');
    }
  }
  softmax(y: F, x: F, rows: number, cols: number): void {
    try {
      this.k.softmax(y, x, rows, cols);
    } catch (error) {
      throw translate(error, 'softmax');
    }
  }
  softmaxBackward(dx: F, dy: F, y: F, rows: number, cols: number): void {
    try {
      this.k.softmaxBackward(dx, dy, y, rows, cols);
    } catch (error) {
      throw translate(error, 'softmaxBackward');
    }
  }
  softmaxCrossEntropy(probs: F, dLogits: F, logits: F, labels: Int32Array, rows: number, cols: number): number {
    try {
      return this.k.softmaxCrossEntropy(probs, dLogits, logits, labels, rows, cols);
    } catch (error) {
      throw translate(error, 'softmaxCrossEntropy');
    }
  }
  sigmoidBinaryCrossEntropy(dLogits: F, logits: F, targets: F): number {
    try {
      return this.k.sigmoidBinaryCrossEntropy(dLogits, logits, targets);
    } catch (error) {
      throw translate(error, 'sigmoidBinaryCrossEntropy');
    }
  }
  convChainForward(blocks: readonly ConvChainForwardBlock[], head: ConvChainForwardHead, x: F, classes: number): void {
    const args = chainBlockArgs([head.logits, x, head.w, head.b, classes], blocks, false);
    try {
      this.k.convChainForward(...args);
    } catch (error) {
      throw translate(error, 'convChainForward');
    }
  }
  convChainTrainPass(blocks: readonly ConvChainBlock[], head: ConvChainHead, probs: F, dLogits: F, x: F, labels: Int32Array, classes: number): number {
    const args = chainBlockArgs([probs, dLogits, head.logits, head.dx, head.dw, head.db, x, labels, head.w, head.b, classes], blocks, true);
    try {
      return this.k.convChainTrainPass(...args);
    } catch (error) {
      throw translate(error, 'convChainTrainPass');
    }
  }
  sgdStep(param: F, velocity: Fn, grad: F, lr: number, momentum: number, weightDecay: number, nesterov = false): void {
    try {
      this.k.sgdStep(param, velocity, grad, lr, momentum, weightDecay, nesterov);
    } catch (error) {
      throw translate(error, 'sgdStep');
    }
  }
  batchNormTrainForward(y: F, mean: F, variance: F, invStd: F, x: F, gamma: F, beta: F, rows: number, channels: number, eps: number): void {
    try {
      this.k.batchNormTrainForward(y, mean, variance, invStd, x, gamma, beta, rows, channels, eps);
    } catch (error) {
      throw translate(error, 'batchNormTrainForward');
    }
  }
  batchNormInferForward(y: F, x: F, mean: F, variance: F, gamma: F, beta: F, rows: number, channels: number, eps: number): void {
    try {
      this.k.batchNormInferForward(y, x, mean, variance, gamma, beta, rows, channels, eps);
    } catch (error) {
      throw translate(error, 'batchNormInferForward');
    }
  }
  batchNormBackward(dx: Fn, dgamma: F, dbeta: F, dy: F, x: F, mean: F, invStd: F, gamma: F, rows: number, channels: number): void {
    try {
      this.k.batchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma, rows, channels);
    } catch (error) {
      throw translate(error, 'batchNormBackward');
    }
  }
  adamStep(param: F, m: F, v: F, grad: F, lr: number, beta1: number, beta2: number, eps: number, step: number, weightDecay: number): void {
    try {
      this.k.adamStep(param, m, v, grad, lr, beta1, beta2, eps, step, weightDecay);
    } catch (error) {
      throw translate(error, 'adamStep');
    }
  }
}

/** The numbers both sides define, as TypeScript has them (the addon reports its own in info().limits). */
export const SHARED_LIMITS: Readonly<Record<'geometryFields' | 'maxTiledPoolWindow' | 'maxChainBlocks', number>> = { geometryFields: GEOMETRY_FIELDS.length, maxTiledPoolWindow: MAX_TILED_POOL_WINDOW, maxChainBlocks: MAX_CHAIN_BLOCKS };

/**
 * The native backend over a loaded addon. Refuses an addon that lacks a
 * kernel or disagrees with TypeScript on a shared limit (an old or foreign
 * build): a wrong pool predicate or geometry layout would not crash, it
 * would give wrong numbers.
 */
export function createNativeBackend(addon: AddonKernels, limits?: Partial<Record<keyof typeof SHARED_LIMITS, number>>): Backend {
  for (const kernel of KERNELS) {
    if (typeof addon[kernel] !== 'function') throw new BackendError(`the native addon lacks the kernel '${kernel}'; rebuild it (npm run build:native)`);
  }
  for (const [name, value] of Object.entries(SHARED_LIMITS)) {
    const native = limits?.[name as keyof typeof SHARED_LIMITS];
    if (native !== value) throw new BackendError(`the native addon's ${name} is ${native}, TypeScript's ${value}; rebuild it (npm run build:native)`);
  }
  return new NativeBackend(addon);
}
