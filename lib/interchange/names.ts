import { ValueError, describe } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import type { Model } from '../models/model.js';

/**
 * How parameters are named in an exported file: the model's own names
 * (`conv2d_1.weight`), a list of keys in parameter order, a map from
 * parameter name to key, or a scheme:
 * - 'course': the from-scratch courses' keys, w1, b1, w2, b2, ... by dense
 *   layer for MLPs, and w_conv, b_conv, w_fc, b_fc for a one-conv CNN (cnn-14);
 * - 'numbered': W1, b1, W2, b2, ... one pair per layer with weights (and
 *   running_mean3, running_var3 for a BatchNormalization that is layer 3).
 */
export type NameMapping = 'model' | 'course' | 'numbered' | string[] | Record<string, string>;

function numbered(params: Parameter[], weight: (i: number) => string, bias: (i: number) => string): string[] {
  // Layers are numbered by first appearance, so a layer's saved statistics (listed after every trained weight) keep its number.
  const numbers = new Map<string, number>();
  return params.map((p) => {
    const owner = p.name.slice(0, p.name.lastIndexOf('.'));
    if (!numbers.has(owner)) numbers.set(owner, numbers.size + 1);
    const layer = numbers.get(owner)!;
    // A layer's other tensors (BatchNormalization's running_mean and running_var) keep their own name: running_mean3.
    const own = p.name.slice(p.name.lastIndexOf('.') + 1);
    return own === 'bias' ? bias(layer) : own === 'weight' || own === p.name ? weight(layer) : `${own}${layer}`;
  });
}

/** The file key of each of the model's parameters, in parameter order. */
export function parameterKeys(model: Model, names: NameMapping = 'model', op = 'export'): string[] {
  const params = model.weights();
  let keys: string[];
  if (names === 'model') keys = params.map((p) => p.name);
  else if (names === 'numbered') keys = numbered(params, (i) => `W${i}`, (i) => `b${i}`);
  else if (names === 'course') {
    const convs = model.layers.filter((l) => l.kind === 'Conv2D').length;
    const denses = model.layers.filter((l) => l.kind === 'Dense').length;
    if (convs === 1 && denses === 1) {
      keys = params.map((p) => {
        const conv = p.name.startsWith(model.layers.find((l) => l.kind === 'Conv2D')!.name + '.');
        return `${p.name.endsWith('.bias') ? 'b' : 'w'}_${conv ? 'conv' : 'fc'}`;
      });
    } else keys = numbered(params, (i) => `w${i}`, (i) => `b${i}`);
  } else if (Array.isArray(names)) {
    if (names.length !== params.length) {
      throw new ValueError(`${op}: names lists ${names.length} keys but the model has ${params.length} parameters (${params.map((p) => p.name).join(', ')})`);
    }
    keys = names.map(String);
  } else if (names && typeof names === 'object') {
    keys = params.map((p) => names[p.name] ?? p.name);
  } else {
    throw new ValueError(`${op}: names must be 'model', 'course', 'numbered', a list or a map, got ${describe(names)}`);
  }
  if (new Set(keys).size !== keys.length) throw new ValueError(`${op}: the names give two parameters the same key (${keys.join(', ')})`);
  return keys;
}
