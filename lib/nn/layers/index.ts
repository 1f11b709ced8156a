import { type Conv2DOptions, Conv2D } from './conv.js';
import { type DenseOptions, Dense } from './dense.js';
import { Dropout, Flatten, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './activation.js';
import { type BatchNormalizationOptions, BatchNormalization } from './norm.js';
import { AvgPool2D, GlobalAvgPool2D, MaxPool2D, type Pool2DOptions } from './pool.js';
import { Add, Concatenate, MergeLayer, Multiply, Shortcut, type ShortcutOptions } from './merge.js';
import { ValueError, describe } from '../../core/errors.js';
import { layerKinds, layerMaker } from './kinds.js';
import { Layer as LayerBase, type LayerOptions } from './layer.js';
import type { Layer, Parameter } from './layer.js';

export { Layer, Buffers, SymbolicTensor, parameter } from './layer.js';
export type { Parameter, SampleShape } from './layer.js';
export { Conv2D, Dense, MaxPool2D, AvgPool2D, GlobalAvgPool2D, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Dropout, Flatten };
export { BatchNormalization, Add, Concatenate, Multiply, Shortcut };
export type { MergeLayer };
export type { Conv2DOptions, DenseOptions, Pool2DOptions, BatchNormalizationOptions, ShortcutOptions };

// Keras-style factories: layers.conv2d({...}) is new layers.Conv2D({...}).
/**
 * A `Conv2D` layer.
 * @example
 * ```ts
 * layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' })
 * ```
 */
export const conv2d = (o: Conv2DOptions) => new Conv2D(o);
/**
 * A `Dense` layer.
 * @example
 * ```ts
 * layers.dense({ units: 10, activation: 'softmax' })
 * ```
 */
export const dense = (o: DenseOptions) => new Dense(o);
/**
 * A `MaxPool2D` layer.
 * @example
 * ```ts
 * layers.maxPool2d({ poolSize: 2 })
 * ```
 */
export const maxPool2d = (o: Pool2DOptions = {}) => new MaxPool2D(o);
/**
 * An `AvgPool2D` layer.
 * @example
 * ```ts
 * layers.avgPool2d({ poolSize: 2 })
 * ```
 */
export const avgPool2d = (o: Pool2DOptions = {}) => new AvgPool2D(o);
/**
 * A `GlobalAvgPool2D` layer: the mean of each channel.
 * @example
 * ```ts
 * layers.globalAvgPool2d()
 * ```
 */
export const globalAvgPool2d = (o: LayerOptions = {}) => new GlobalAvgPool2D(o);
/**
 * A `ReLU` layer.
 * @example
 * ```ts
 * layers.relu()
 * ```
 */
export const relu = (o: LayerOptions = {}) => new ReLU(o);
/**
 * A `LeakyReLU` layer.
 * @example
 * ```ts
 * layers.leakyRelu({ alpha: 0.1 })
 * ```
 */
export const leakyRelu = (o: { alpha?: number; name?: string } = {}) => new LeakyReLU(o);
/**
 * A `Sigmoid` layer.
 * @example
 * ```ts
 * layers.sigmoid()
 * ```
 */
export const sigmoid = (o: LayerOptions = {}) => new Sigmoid(o);
/**
 * A `Tanh` layer.
 * @example
 * ```ts
 * layers.tanh()
 * ```
 */
export const tanh = (o: LayerOptions = {}) => new Tanh(o);
/**
 * A `Softmax` layer over the last axis.
 * @example
 * ```ts
 * layers.softmax()
 * ```
 */
export const softmax = (o: LayerOptions = {}) => new Softmax(o);
/**
 * A `Dropout` layer (active only while training).
 * @example
 * ```ts
 * layers.dropout({ rate: 0.25 })
 * ```
 */
export const dropout = (o: LayerOptions & { rate: number }) => new Dropout(o);
/**
 * A `BatchNormalization` layer over the last axis.
 * @example
 * ```ts
 * layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 })
 * ```
 */
export const batchNormalization = (o: BatchNormalizationOptions = {}) => new BatchNormalization(o);
/**
 * An `Add` layer: the sum of its inputs (a residual block's join).
 * @example
 * ```ts
 * layers.add().apply([shortcut, residual])
 * ```
 */
export const add = (o: LayerOptions = {}) => new Add(o);
/**
 * A `Multiply` layer: the elementwise product of its inputs.
 * @example
 * ```ts
 * layers.multiply().apply([features, gate])
 * ```
 */
export const multiply = (o: LayerOptions = {}) => new Multiply(o);
/**
 * A `Concatenate` layer: its inputs joined along the last (channel) axis.
 * @example
 * ```ts
 * layers.concatenate().apply([branch1, branch2])
 * ```
 */
export const concatenate = (o: { axis?: number; name?: string } = {}) => new Concatenate(o);
/**
 * A `Shortcut` layer: a residual block's parameter-free shortcut that subsamples and zero-pads channels (He et al.'s option A).
 * @example
 * ```ts
 * layers.shortcut({ filters: 32, strides: 2 }).apply(x)
 * ```
 */
export const shortcut = (o: ShortcutOptions) => new Shortcut(o);
/**
 * A `Flatten` layer: [N, H, W, C] to [N, H*W*C] in row-major (h, w, c) order.
 * @example
 * ```ts
 * layers.flatten()
 * ```
 */
export const flatten = (o: LayerOptions = {}) => new Flatten(o);

/** What a layer's config() gives, with its kind: enough to rebuild it (checkpoints). */
export interface LayerSpec {
  kind: string;
  name?: string;
  [option: string]: unknown;
}

export { registerLayer } from './kinds.js';

/** A Sequential's architecture as JSON: enough to rebuild it (checkpoints keep it in their metadata). */
export interface SequentialConfig {
  name: string;
  inputShape: number[];
  seed: number;
  layers: LayerSpec[];
}

/** A layer of a functional model's config: its spec and the names of what it takes (inputs' or layers'). */
export interface GraphLayerSpec extends LayerSpec {
  inbound: string[];
}

/** A functional model's architecture as JSON: its inputs, its layers in order with what each takes, its outputs. */
export interface FunctionalConfig {
  name: string;
  seed: number;
  inputs: { name: string; shape: number[] }[];
  layers: GraphLayerSpec[];
  outputs: string[];
}

/** The architecture of either kind of model (a functional one has `inputs`). */
export type ModelConfig = SequentialConfig | FunctionalConfig;

/**
 * Builds a layer from its spec (`{kind, ...options}`, as `layerSpec` or a model file gives it).
 * @example
 * ```ts
 * const conv = layers.layerFromSpec({ kind: 'Conv2D', filters: 8, kernelSize: 3 });
 * ```
 */
export function layerFromSpec(spec: LayerSpec): Layer {
  const make = spec && typeof spec === 'object' ? layerMaker(spec.kind) : undefined;
  if (!make) {
    const { builtIn, custom: registered } = layerKinds();
    const custom = registered.length ? `; registered: ${registered.join(', ')}` : '';
    throw new ValueError(`unknown layer kind ${describe(spec?.kind)}; known: ${builtIn.join(', ')}${custom} (a custom layer loads once registerLayer('${typeof spec?.kind === 'string' ? spec.kind : 'Kind'}', (config) => new Kind(config)) has run)`);
  }
  const { kind, trainable, ...options } = spec as LayerSpec & { trainable?: unknown };
  if (trainable !== undefined && typeof trainable !== 'boolean') throw new ValueError(`layerFromSpec: ${kind} '${String(options.name ?? '')}': trainable must be true or false, got ${describe(trainable)}`);
  const layer = make(options as never);
  if (!(layer instanceof LayerBase)) throw new ValueError(`layerFromSpec: the function registered for '${kind}' returned ${describe(layer)}, not a Layer`);
  if (layer.kind !== kind) throw new ValueError(`layerFromSpec: the function registered for '${kind}' made a layer of kind '${layer.kind}'`);
  if (trainable === false) layer.trainable = false;
  return layer;
}

/** A layer's kind, name and options as JSON. */
export function layerSpec(layer: Layer): LayerSpec {
  if (!(layer instanceof LayerBase)) throw new ValueError(`layerSpec: layer must be a Layer, got ${describe(layer)}`);
  // Written only when frozen, so that the configs of trainable models are as before.
  return { kind: layer.kind, name: layer.name, ...layer.config(), ...(layer.trainable ? {} : { trainable: false }) };
}
