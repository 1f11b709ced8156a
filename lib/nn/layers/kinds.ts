// Every layer kind a model file may name: convkit's own and the registered
// custom ones, looked up by kind when a model is rebuilt from its config.
import { Conv2D } from './conv.js';
import { Dense } from './dense.js';
import { Dropout, Flatten, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './activation.js';
import { BatchNormalization } from './norm.js';
import { AvgPool2D, GlobalAvgPool2D, MaxPool2D } from './pool.js';
import { Add, Concatenate, Multiply, Shortcut } from './merge.js';
import { ValueError, describe } from '../../core/errors.js';
import type { Layer, Parameter } from './layer.js';

// Maps, not objects: a kind read from a file such as 'constructor' must not find Object's.
const KINDS = new Map<string, (o: never) => Layer>([
  ['Conv2D', (o) => new Conv2D(o)], ['Dense', (o) => new Dense(o)], ['MaxPool2D', (o) => new MaxPool2D(o)],
  ['AvgPool2D', (o) => new AvgPool2D(o)], ['GlobalAvgPool2D', (o) => new GlobalAvgPool2D(o)], ['ReLU', (o) => new ReLU(o)],
  ['LeakyReLU', (o) => new LeakyReLU(o)], ['Sigmoid', (o) => new Sigmoid(o)], ['Tanh', (o) => new Tanh(o)],
  ['Softmax', (o) => new Softmax(o)], ['Dropout', (o) => new Dropout(o)], ['Flatten', (o) => new Flatten(o)],
  ['BatchNormalization', (o) => new BatchNormalization(o)], ['Add', (o) => new Add(o)], ['Multiply', (o) => new Multiply(o)],
  ['Concatenate', (o) => new Concatenate(o)], ['Shortcut', (o) => new Shortcut(o)],
]);

/** Layers registered by their users (Keras's register_keras_serializable, tfjs's serialization.registerClass). */
const CUSTOM = new Map<string, (config: Record<string, unknown>) => Layer>();

/**
 * Registers a custom layer kind so that models holding it save, load and
 * rebuild from their config: `make(config)` gets what the layer's config()
 * returned, with its name, and returns the layer. The layer's `kind` must be
 * the name registered. Register before loadModel or modelFromConfig.
 * @example
 * ```ts
 * class Scale extends Layer { readonly kind = 'Scale'; ... }
 * registerLayer('Scale', (config) => new Scale(config));
 * ```
 */
export function registerLayer(kind: string, make: (config: Record<string, unknown>) => Layer): void {
  if (typeof kind !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(kind)) throw new ValueError(`registerLayer: kind must be a name of letters, digits and _ starting with a letter, got ${describe(kind)}`);
  if (typeof make !== 'function') throw new ValueError(`registerLayer: make must be a function (config) => layer, got ${describe(make)}`);
  if (KINDS.has(kind)) throw new ValueError(`registerLayer: '${kind}' is one of convkit's own layers; give the custom layer another kind`);
  CUSTOM.set(kind, make);
}

/**
 * The parameters whose gradients a backward adds into rather than writes:
 * those of layers not convkit's own (a custom backward may accumulate, as
 * PyTorch's do), which a model zeroes before each backward.
 */
export function accumulatedParameters(layers: readonly Layer[]): Parameter[] {
  return layers.filter((l) => !KINDS.has(l.kind)).flatMap((l) => l.parameters());
}

export function layerMaker(kind: unknown): ((o: never) => Layer) | undefined {
  if (typeof kind !== 'string') return undefined;
  return KINDS.get(kind) ?? (CUSTOM.get(kind) as ((o: never) => Layer) | undefined);
}

/** The kinds a model file may name: convkit's own and the registered ones. */
export function layerKinds(): { builtIn: string[]; custom: string[] } {
  return { builtIn: [...KINDS.keys()], custom: [...CUSTOM.keys()] };
}
