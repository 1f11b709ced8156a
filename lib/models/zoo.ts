import { checkOptions, checkPositiveInt, ownEntry } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import { AvgPool2D, Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU } from '../nn/layers/index.js';
import { sequential } from './sequential.js';
import type { Model } from './model.js';
import { cifarFast, cifarResnet } from './zoo-resnet.js';

/** A named architecture: what it is, its input shape and how to build it. */
export interface ZooEntry {
  description: string;
  inputShape: [number, number, number];
  classes: number;
  /** The model for images with `channels` channels in `classes` classes (the entry's own, unless a data set has others). */
  build(seed: number, fit: { channels: number; classes: number; height: number; width: number }): Model;
}

const conv = (filters: number, kernelSize: number, padding: number) => new Conv2D({ filters, kernelSize, padding });

/**
 * Named architectures. Models end in logits; the loss (softmax cross-entropy,
 * or sigmoid BCE for one output) applies the final nonlinearity.
 */
export const ZOO: Record<string, ZooEntry> = {
  'mlp-30': {
    description: 'one hidden layer of 30 ReLU units on 14×14 MNIST (the courses\' MLP)',
    inputShape: [14, 14, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) => sequential([new Flatten(), new Dense({ units: 30 }), new ReLU(), new Dense({ units: classes, kernelInitializer: 'glorot' })], { inputShape: [height, width, channels], seed, name: 'mlp-30' }),
  },
  'cnn-14': {
    description: 'conv 3×3 (3 filters, same) → ReLU → max-pool 2 → flatten 147 → dense 10, on 14×14 MNIST',
    inputShape: [14, 14, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) => sequential([conv(3, 3, 1), new ReLU(), new MaxPool2D({ poolSize: 2 }), new Flatten(), new Dense({ units: classes, kernelInitializer: 'glorot' })], { inputShape: [height, width, channels], seed, name: 'cnn-14' }),
  },
  'mnist-2layer': {
    description: 'conv 5×5 16 (pad 2) → ReLU → pool → conv 5×5 32 (pad 2) → ReLU → pool → dense 1568→10',
    inputShape: [28, 28, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [conv(16, 5, 2), new ReLU(), new MaxPool2D(), conv(32, 5, 2), new ReLU(), new MaxPool2D(), new Flatten(), new Dense({ units: classes, kernelInitializer: 'glorot' })],
        { inputShape: [height, width, channels], seed, name: 'mnist-2layer' },
      ),
  },
  'mnist-3layer': {
    description: 'conv 3×3 16/32/64 (pad 1), each → ReLU → max-pool 2 → dense 576→10',
    inputShape: [28, 28, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [
          conv(16, 3, 1), new ReLU(), new MaxPool2D(),
          conv(32, 3, 1), new ReLU(), new MaxPool2D(),
          conv(64, 3, 1), new ReLU(), new MaxPool2D(),
          new Flatten(), new Dense({ units: classes, kernelInitializer: 'glorot' }),
        ],
        { inputShape: [height, width, channels], seed, name: 'mnist-3layer' },
      ),
  },
  'mnist-gap': {
    // The last convolutions stay at 14×14, not 7×7: class activation maps are
    // as sharp as the feature maps they come from.
    description: 'conv 3×3 16 → pool → conv 3×3 32 → conv 3×3 64 (14×14) → global average pool → dense 10 (for class activation maps)',
    inputShape: [28, 28, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [
          conv(16, 3, 1), new ReLU(), new MaxPool2D(),
          conv(32, 3, 1), new ReLU(),
          conv(64, 3, 1), new ReLU(), new GlobalAvgPool2D(),
          new Dense({ units: classes, kernelInitializer: 'glorot' }),
        ],
        { inputShape: [height, width, channels], seed, name: 'mnist-gap' },
      ),
  },
  lenet5: {
    description: 'LeNet-5: conv 5×5 6 (pad 2) → ReLU → avg-pool → conv 5×5 16 → ReLU → avg-pool → dense 120 → 84 → 10',
    inputShape: [28, 28, 1],
    classes: 10,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [
          conv(6, 5, 2), new ReLU(), new AvgPool2D(),
          conv(16, 5, 0), new ReLU(), new AvgPool2D(),
          new Flatten(), new Dense({ units: 120 }), new ReLU(), new Dense({ units: 84 }), new ReLU(), new Dense({ units: classes, kernelInitializer: 'glorot' }),
        ],
        { inputShape: [height, width, channels], seed, name: 'lenet5' },
      ),
  },
  'signs-cnn': {
    description: 'the SIGNS hand-sign model: conv 4×4 8 (same) → ReLU → max-pool 8 → conv 2×2 16 (same) → ReLU → max-pool 4 → dense 6',
    inputShape: [64, 64, 3],
    classes: 6,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [
          new Conv2D({ filters: 8, kernelSize: 4, padding: 'same' }), new ReLU(), new MaxPool2D({ poolSize: 8 }),
          new Conv2D({ filters: 16, kernelSize: 2, padding: 'same' }), new ReLU(), new MaxPool2D({ poolSize: 4 }),
          new Flatten(), new Dense({ units: classes, kernelInitializer: 'glorot' }),
        ],
        { inputShape: [height, width, channels], seed, name: 'signs-cnn' },
      ),
  },
  'xray-binary': {
    description: 'chest X-ray binary classifier on 32×32×1: conv 3×3 16/32 (pad 1) with pools → dense 2048→1 (sigmoid)',
    inputShape: [32, 32, 1],
    classes: 2,
    build: (seed, { channels, classes, height, width }) =>
      sequential(
        [conv(16, 3, 1), new ReLU(), new MaxPool2D(), conv(32, 3, 1), new ReLU(), new MaxPool2D(), new Flatten(), new Dense({ units: classes === 2 ? 1 : classes, kernelInitializer: 'glorot' })],
        { inputShape: [height, width, channels], seed, name: 'xray-binary' },
      ),
  },
  'resnet-20': {
    description: 'ResNet-20 for CIFAR-10 (He et al. 2016, 4.2): conv 16, 3 stages × 3 basic blocks of 16/32/64 filters with BatchNorm, zero-padded identity shortcuts, global average pool, dense 10; 0.27M parameters',
    inputShape: [32, 32, 3],
    classes: 10,
    build: (seed, fit) => cifarResnet(20, 'resnet-20', seed, fit),
  },
  'resnet-56': {
    description: 'ResNet-56 for CIFAR-10 (He et al. 2016, 4.2): as resnet-20 with 9 blocks a stage; 0.85M parameters',
    inputShape: [32, 32, 3],
    classes: 10,
    build: (seed, fit) => cifarResnet(56, 'resnet-56', seed, fit),
  },
  'cifar-fast': {
    description: 'a fast CIFAR net in the DAWNBench ResNet-9 style at half width: conv-BN-ReLU 32, 64 + pool + residual pair, 128 + pool, 256 + pool + residual pair, global average pool, dense 10',
    inputShape: [32, 32, 3],
    classes: 10,
    build: (seed, fit) => cifarFast('cifar-fast', seed, fit),
  },
};

/** The names `zooModel` and `--model` accept. */
export const ZOO_NAMES = Object.keys(ZOO);

/**
 * A zoo model by name, its weights initialised from the seed; channels and
 * classes adapt it to a data set (RGB input, 2 or 6 classes). A 2-class
 * binary model ends in one sigmoid output; height and width build it for
 * another image size (the layers after Flatten take their sizes from it).
 */
export function zooModel(name: string, options: { seed?: number; channels?: number; classes?: number; height?: number; width?: number } = {}): Model {
  checkOptions(options, ['seed', 'channels', 'classes', 'height', 'width'], 'zooModel');
  const entry = ownEntry(ZOO, name);
  if (!entry) throw new ValueError(`unknown model ${describe(name)}; the zoo has: ${ZOO_NAMES.join(', ')}`);
  const channels = options.channels === undefined ? entry.inputShape[2] : checkPositiveInt(options.channels, 'channels', 'zooModel');
  const classes = options.classes === undefined ? entry.classes : checkPositiveInt(options.classes, 'classes', 'zooModel');
  if (classes < 2) throw new ValueError(`zooModel: classes must be at least 2, got ${classes}`);
  const height = options.height === undefined ? entry.inputShape[0] : checkPositiveInt(options.height, 'height', 'zooModel');
  const width = options.width === undefined ? entry.inputShape[1] : checkPositiveInt(options.width, 'width', 'zooModel');
  return entry.build(options.seed ?? 0, { channels, classes, height, width });
}
