// Keras's layer configs (as Keras 2 and 3, and TensorFlow.js's LayersModel,
// write them) turned into convkit layers, and each layer's weights in the
// order Keras lists them. What convkit cannot compute the same way is
// refused by name, never dropped or approximated.
import { FormatError, describe } from '../../core/errors.js';
import type { Layer, Parameter } from '../../nn/layers/layer.js';
import {
  Add, AvgPool2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D, Multiply, ReLU, Sigmoid, Softmax, Tanh,
} from '../../nn/layers/index.js';

/** One layer of a Keras topology: its class and config (Keras's JSON, snake_case keys). */
export interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

type Config = Record<string, unknown>;

/** The convkit layers one Keras layer becomes (an `activation` option adds its activation layer after), in order. */
type Maker = (config: Config, who: string) => Layer[];

const pair = (v: unknown, key: string, who: string): [number, number] => {
  const list = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(list) || list.length !== 2 || list.some((d) => !Number.isInteger(d) || d < 1)) throw new FormatError(`${who}: ${key} must be a positive integer or a pair of them, got ${describe(v)}`);
  return [list[0], list[1]];
};

function channelsLast(config: Config, who: string): void {
  const format = config.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw new FormatError(`${who}: data_format ${describe(format)} is not supported; convkit's images are channels_last (NHWC)`);
}

function padding(config: Config, who: string): 'same' | 'valid' {
  const p = config.padding ?? 'valid';
  if (p !== 'same' && p !== 'valid') throw new FormatError(`${who}: padding must be 'same' or 'valid', got ${describe(p)}`);
  return p;
}

/** Keras's activation names (and tfjs's camelCase ones) that convkit computes exactly as Keras does. */
function activationLayers(name: unknown, who: string, layerName: string): Layer[] {
  const n = `${layerName}_activation`;
  switch (name ?? 'linear') {
    case 'linear': return [];
    case 'relu': return [new ReLU({ name: n })];
    case 'sigmoid': return [new Sigmoid({ name: n })];
    case 'tanh': return [new Tanh({ name: n })];
    case 'softmax': return [new Softmax({ name: n })];
    // Keras 3's leaky_relu activation has negative_slope 0.2.
    case 'leaky_relu': return [new LeakyReLU({ alpha: 0.2, name: n })];
    default: throw new FormatError(`${who}: activation ${describe(name)} is not supported; supported: linear, relu, sigmoid, tanh, softmax, leaky_relu`);
  }
}

function refuseSet(config: Config, keys: readonly string[], who: string): void {
  for (const key of keys) {
    const v = config[key];
    if (v !== undefined && v !== null && v !== false) throw new FormatError(`${who}: ${key} ${describe(v)} is not supported (a model trained with it would not compute the same here)`);
  }
}

const nameOf = (config: Config) => String(config.name);

const MAKERS = new Map<string, Maker>([
  ['Conv2D', (c, who) => {
    channelsLast(c, who);
    const dilation = pair(c.dilation_rate ?? 1, 'dilation_rate', who);
    if (dilation[0] !== 1 || dilation[1] !== 1) throw new FormatError(`${who}: dilation_rate ${describe(c.dilation_rate)} is not supported yet (only 1)`);
    if ((c.groups ?? 1) !== 1) throw new FormatError(`${who}: groups ${describe(c.groups)} is not supported yet (only 1)`);
    const filters = c.filters;
    if (!Number.isInteger(filters) || (filters as number) < 1) throw new FormatError(`${who}: filters must be a positive integer, got ${describe(filters)}`);
    const conv = new Conv2D({ name: nameOf(c), filters: filters as number, kernelSize: pair(c.kernel_size, 'kernel_size', who), strides: pair(c.strides ?? 1, 'strides', who), padding: padding(c, who), useBias: c.use_bias !== false });
    return [conv, ...activationLayers(c.activation, who, nameOf(c))];
  }],
  ['Dense', (c, who) => {
    const units = c.units;
    if (!Number.isInteger(units) || (units as number) < 1) throw new FormatError(`${who}: units must be a positive integer, got ${describe(units)}`);
    return [new Dense({ name: nameOf(c), units: units as number, useBias: c.use_bias !== false }), ...activationLayers(c.activation, who, nameOf(c))];
  }],
  ['BatchNormalization', (c, who) => {
    const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
    if (axis !== -1 && axis !== 3 && axis !== 1) throw new FormatError(`${who}: axis ${describe(c.axis)} is not supported; convkit normalizes over the last (channel) axis`);
    refuseSet(c, ['renorm', 'synchronized'], who);
    return [new BatchNormalization({ name: nameOf(c), momentum: Number(c.momentum ?? 0.99), epsilon: Number(c.epsilon ?? 1e-3), center: c.center !== false, scale: c.scale !== false })];
  }],
  ['MaxPooling2D', (c, who) => {
    channelsLast(c, who);
    const size = pair(c.pool_size ?? 2, 'pool_size', who);
    return [new MaxPool2D({ name: nameOf(c), poolSize: size, strides: c.strides == null ? size : pair(c.strides, 'strides', who), padding: padding(c, who) })];
  }],
  ['AveragePooling2D', (c, who) => {
    channelsLast(c, who);
    const size = pair(c.pool_size ?? 2, 'pool_size', who);
    return [new AvgPool2D({ name: nameOf(c), poolSize: size, strides: c.strides == null ? size : pair(c.strides, 'strides', who), padding: padding(c, who) })];
  }],
  ['GlobalAveragePooling2D', (c, who) => {
    channelsLast(c, who);
    if (c.keepdims === true) throw new FormatError(`${who}: keepdims true is not supported (convkit's GlobalAvgPool2D gives [N, C])`);
    return [new GlobalAvgPool2D({ name: nameOf(c) })];
  }],
  ['Flatten', (c, who) => {
    channelsLast(c, who);
    return [new Flatten({ name: nameOf(c) })];
  }],
  ['Dropout', (c, who) => {
    refuseSet(c, ['noise_shape'], who);
    return [new Dropout({ name: nameOf(c), rate: Number(c.rate ?? 0) })];
  }],
  ['Activation', (c, who) => {
    const layers = activationLayers(c.activation, who, nameOf(c));
    if (layers.length === 0) throw new FormatError(`${who}: a linear Activation layer does nothing; convkit has no identity layer to stand for it`);
    layers[0].name = nameOf(c);
    return layers;
  }],
  ['ReLU', (c, who) => {
    if (c.max_value !== undefined && c.max_value !== null) throw new FormatError(`${who}: max_value ${describe(c.max_value)} is not supported (ReLU6 and other capped ReLUs)`);
    if (Number(c.threshold ?? 0) !== 0) throw new FormatError(`${who}: threshold ${describe(c.threshold)} is not supported (only 0)`);
    const slope = Number(c.negative_slope ?? 0);
    return [slope === 0 ? new ReLU({ name: nameOf(c) }) : new LeakyReLU({ name: nameOf(c), alpha: slope })];
  }],
  // Keras 2 and tfjs call the slope alpha (default 0.3), Keras 3 negative_slope (default 0.3).
  ['LeakyReLU', (c) => [new LeakyReLU({ name: nameOf(c), alpha: Number(c.negative_slope ?? c.alpha ?? 0.3) })]],
  ['Softmax', (c, who) => {
    const axis = c.axis ?? -1;
    if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) throw new FormatError(`${who}: axis ${describe(axis)} is not supported (only the last axis)`);
    return [new Softmax({ name: nameOf(c) })];
  }],
  ['Add', (c) => [new Add({ name: nameOf(c) })]],
  ['Multiply', (c) => [new Multiply({ name: nameOf(c) })]],
  ['Concatenate', (c) => [new Concatenate({ name: nameOf(c), axis: Number(c.axis ?? -1) })]],
]);

/** The Keras layer classes convkit imports (InputLayer besides). */
export const KERAS_LAYERS: readonly string[] = [...MAKERS.keys()];

/** The convkit layers a Keras layer becomes: the first is named as the Keras layer and holds its weights. */
export function kerasLayer(json: KerasLayerJson, source: string): Layer[] {
  const className = json?.class_name;
  const config = json?.config;
  if (typeof className !== 'string' || !config || typeof config !== 'object') throw new FormatError(`${source}: a layer must have a class_name and a config, got ${describe(json)}`);
  if (typeof config.name !== 'string' || config.name === '') throw new FormatError(`${source}: ${className} has no name in its config`);
  const who = `${source}: layer '${config.name}' (${className})`;
  const make = MAKERS.get(className);
  if (!make) throw new FormatError(`${who} is not supported; convkit imports InputLayer, ${KERAS_LAYERS.join(', ')}`);
  let made: Layer[];
  try {
    made = make(config, who);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError(`${who}: ${(error as Error).message}`);
  }
  if (config.trainable === false) made[0].trainable = false;
  return made;
}

/** A convkit layer's weights in Keras's order, with the names Keras gives them (kernel, bias; gamma, beta, moving_mean, moving_variance). */
export function kerasWeightSlots(layer: Layer): { suffix: string; param: Parameter }[] {
  if (layer instanceof Conv2D || layer instanceof Dense) return [{ suffix: 'kernel', param: layer.weight }, ...(layer.bias ? [{ suffix: 'bias', param: layer.bias }] : [])];
  if (layer instanceof BatchNormalization) {
    const { scale, center } = layer.options;
    return [...(scale ? [{ suffix: 'gamma', param: layer.gamma }] : []), ...(center ? [{ suffix: 'beta', param: layer.beta }] : []), { suffix: 'moving_mean', param: layer.runningMean }, { suffix: 'moving_variance', param: layer.runningVar }];
  }
  return [];
}
