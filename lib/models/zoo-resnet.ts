// The zoo's residual networks, written with the functional API as a user
// would write them.
import { Add, BatchNormalization, Conv2D, Dense, GlobalAvgPool2D, MaxPool2D, ReLU, Shortcut } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/layers/layer.js';
import { type Functional, input, model } from './functional.js';

export interface ZooFit {
  channels: number;
  classes: number;
  height: number;
  width: number;
}

// PyTorch's BatchNorm2d defaults (momentum 0.1 there is 0.9 here), which the CIFAR ResNet recipes were tuned with.
const bn = () => new BatchNormalization({ momentum: 0.9, epsilon: 1e-5 });
const conv3 = (filters: number, strides = 1) => new Conv2D({ filters, kernelSize: 3, strides, padding: 'same', useBias: false, kernelInitializer: 'he' });

/** conv → BN → ReLU → conv → BN, added to the shortcut, → ReLU (He et al. 2016, figure 2). */
function basicBlock(x: SymbolicTensor, filters: number, strides: number): SymbolicTensor {
  const inChannels = x.shape[2];
  let y = new ReLU().apply(bn().apply(conv3(filters, strides).apply(x)));
  y = bn().apply(conv3(filters).apply(y));
  const skip = strides === 1 && inChannels === filters ? x : new Shortcut({ filters, strides }).apply(x);
  return new ReLU().apply(new Add().apply([skip, y]));
}

/**
 * He et al. 2016, section 4.2: a 3×3 convolution of 16 filters, then three
 * stages of n basic blocks with 16, 32 and 64 filters on 32², 16² and 8²
 * maps (the first block of a stage subsamples by stride 2), identity
 * shortcuts that zero-pad the new channels (option A), global average
 * pooling and a dense layer: 6n + 2 layers (n = 3: ResNet-20, 0.27M
 * parameters; n = 9: ResNet-56).
 */
export function cifarResnet(depth: number, name: string, seed: number, fit: ZooFit): Functional {
  const n = (depth - 2) / 6;
  const x = input({ shape: [fit.height, fit.width, fit.channels], name: 'image' });
  let y = new ReLU().apply(bn().apply(conv3(16).apply(x)));
  [16, 32, 64].forEach((filters, stage) => {
    for (let b = 0; b < n; b++) y = basicBlock(y, filters, stage > 0 && b === 0 ? 2 : 1);
  });
  const logits = new Dense({ units: fit.classes, kernelInitializer: 'glorot' }).apply(new GlobalAvgPool2D().apply(y));
  return model({ inputs: x, outputs: logits, seed, name });
}

/** conv → BN → ReLU, the unit of the DAWNBench-style nets. */
const convBn = (x: SymbolicTensor, filters: number) => new ReLU().apply(bn().apply(conv3(filters).apply(x)));

/**
 * A small fast CIFAR net in the style of the DAWNBench ResNet-9 (Page 2018)
 * at half its width: prep conv 32; conv 64 + pool with a residual pair of
 * conv 64; conv 128 + pool; conv 256 + pool with a residual pair of conv 256;
 * global average pooling (the original takes the maximum); dense.
 */
export function cifarFast(name: string, seed: number, fit: ZooFit): Functional {
  const x = input({ shape: [fit.height, fit.width, fit.channels], name: 'image' });
  const pool = () => new MaxPool2D({ poolSize: 2 });
  const residual = (t: SymbolicTensor, filters: number) => new Add().apply([t, convBn(convBn(t, filters), filters)]);
  let y = convBn(x, 32);
  y = residual(pool().apply(convBn(y, 64)), 64);
  y = pool().apply(convBn(y, 128));
  y = residual(pool().apply(convBn(y, 256)), 256);
  const logits = new Dense({ units: fit.classes, kernelInitializer: 'glorot' }).apply(new GlobalAvgPool2D().apply(y));
  return model({ inputs: x, outputs: logits, seed, name });
}
