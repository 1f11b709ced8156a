// A PyTorch state_dict (saved with safetensors) into a convkit model of the
// same architecture. PyTorch's layouts are turned into convkit's: conv
// weights OIHW → HWIO, linear weights [out, in] → [in, out], and the first
// linear layer after a flatten of [C, H, W] (NCHW order) has its rows put in
// convkit's [H, W, C] order. A .pt / .pth file is a pickle, which runs code
// when read; convkit does not read it: save a state_dict with safetensors.
import { checkModel, checkOptions, checkPath } from '../core/check.js';
import { FormatError, ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import type { NamedArray } from '../formats/safetensors.js';
import { readSafetensors } from '../formats/safetensors.js';
import type { Model } from '../models/model.js';
import { BatchNormalization, Conv2D, Dense, Flatten } from '../nn/layers/index.js';
import type { Layer, Parameter } from '../nn/layers/layer.js';

/** Options of `loadTorchStateDict`. */
export interface TorchStateDictOptions {
  /**
   * Which PyTorch module each convkit layer takes its weights from, by
   * layer name: `{ conv2d_1: 'features.0', dense_1: 'classifier' }`. Layers
   * not named here are matched as the default does.
   */
  names?: Record<string, string>;
}

type Kind = 'conv' | 'linear' | 'bn';

/** What a PyTorch module of the state_dict is, from the tensors under its prefix. */
function moduleKind(keys: Map<string, NamedArray>): Kind | null {
  const w = keys.get('weight');
  if (keys.has('running_mean') || keys.has('running_var')) return 'bn';
  if (w?.shape.length === 4) return 'conv';
  if (w?.shape.length === 2) return 'linear';
  return null;
}

const KIND_OF_LAYER = (layer: Layer): Kind | null => (layer instanceof Conv2D ? 'conv' : layer instanceof Dense ? 'linear' : layer instanceof BatchNormalization ? 'bn' : null);

/** Natural order: features.2 before features.10, conv2 before conv10. */
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * The [H, W, C] a Dense layer's input was flattened from, when what feeds it
 * is a Flatten of an image (through layers that keep the shape): its rows
 * then need PyTorch's (c, h, w) order made into convkit's (h, w, c).
 */
function flattenedFrom(model: Model, dense: Layer): readonly number[] | null {
  const graph = model.logitGraph();
  const producer = new Map(graph.nodes.map((n) => [n.output, n] as const));
  let node = graph.nodes.find((n) => n.layer === dense);
  for (let hops = 0; node && hops < 16; hops++) {
    const before = producer.get(node.inputs[0]);
    if (!before) return null;
    if (before.layer instanceof Flatten) return before.layer.inputShape.length === 3 ? before.layer.inputShape : null;
    // Only layers that keep the shape may sit between (Dropout, activations).
    if (before.layer.inputShape.length !== 1 || before.inputs.length !== 1) return null;
    node = before;
  }
  return null;
}

function convert(layer: Layer, kind: Kind, tensors: Map<string, NamedArray>, prefix: string, model: Model, source: string): [Parameter, Float32Array][] {
  const get = (name: string, want: readonly number[]) => {
    const t = tensors.get(name);
    if (!t) throw new FormatError(`${source}: '${prefix}.${name}' is missing, which ${layer.kind} '${layer.name}' needs`);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) throw new ShapeError(`${source}: '${prefix}.${name}' has shape ${formatShape(t.shape)} but ${layer.kind} '${layer.name}' needs ${formatShape(want)} (PyTorch's layout)`);
    return t.data;
  };
  const out: [Parameter, Float32Array][] = [];
  const bias = (p: Parameter | null, units: number) => {
    if (p) out.push([p, get('bias', [units])]);
    else if (tensors.has('bias')) throw new FormatError(`${source}: '${prefix}.bias' is given but ${layer.kind} '${layer.name}' has no bias (useBias: false)`);
  };
  if (kind === 'conv') {
    const conv = layer as Conv2D;
    const [kh, kw, ci, co] = conv.weight.value.shape;
    const oihw = get('weight', [co, ci, kh, kw]);
    const hwio = new Float32Array(oihw.length);
    for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) hwio[((y * kw + x) * ci + i) * co + o] = oihw[((o * ci + i) * kh + y) * kw + x];
    out.push([conv.weight, hwio]);
    bias(conv.bias, co);
  } else if (kind === 'linear') {
    const dense = layer as Dense;
    const [inF, units] = dense.weight.value.shape;
    const w = get('weight', [units, inF]);
    const image = flattenedFrom(model, dense);
    const rows = new Float32Array(w.length);
    // convkit's row of input feature f, and the PyTorch column it is: the same f, or (h, w, c) read from (c, h, w).
    const [H, W, C] = image ?? [1, 1, inF];
    for (let h = 0; h < H; h++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
      const f = (h * W + x) * C + c;
      const torchF = (c * H + h) * W + x;
      for (let u = 0; u < units; u++) rows[f * units + u] = w[u * inF + torchF];
    }
    out.push([dense.weight, rows]);
    bias(dense.bias, units);
  } else {
    const bn = layer as BatchNormalization;
    const c = bn.runningMean.value.shape[0];
    out.push([bn.gamma, bn.options.scale ? get('weight', [c]) : new Float32Array(c).fill(1)]);
    out.push([bn.beta, bn.options.center ? get('bias', [c]) : new Float32Array(c)]);
    out.push([bn.runningMean, get('running_mean', [c])], [bn.runningVar, get('running_var', [c])]);
  }
  return out;
}

/**
 * Loads a PyTorch state_dict saved as safetensors
 * (`safetensors.torch.save_file(net.state_dict(), path)`) into a convkit
 * model of the same architecture, converting PyTorch's layouts to convkit's.
 *
 * Each convkit layer with weights takes one PyTorch module: the one `names`
 * gives it; else the module of its own name (`conv1.weight` for a layer
 * named 'conv1'); else, layers of each kind (Conv2D ↔ Conv2d, Dense ↔
 * Linear, BatchNormalization ↔ BatchNorm2d/1d) in model order take that
 * kind's remaining modules in natural name order (features.2 before
 * features.10). Every module must be used; num_batches_tracked is ignored.
 * BatchNormalization layers should have PyTorch's epsilon (1e-5) for the
 * same outputs.
 * @example
 * ```ts
 * const net = sequential([layers.conv2d({ filters: 8, kernelSize: 3, name: 'conv1', inputShape: [28, 28, 1] }), ...]);
 * loadTorchStateDict(net, 'mnist_cnn.safetensors');
 * ```
 */
export function loadTorchStateDict(model: Model, path: string, options: TorchStateDictOptions = {}): void {
  checkModel(model, 'loadTorchStateDict', true);
  checkPath(path, 'path', 'loadTorchStateDict');
  checkOptions(options, ['names'], 'loadTorchStateDict');
  const names = options.names ?? {};
  if (!names || typeof names !== 'object' || Object.values(names).some((v) => typeof v !== 'string')) throw new ValueError(`loadTorchStateDict: names must map layer names to PyTorch module names, got ${describe(options.names)}`);
  if (/\.(pt|pth|bin|ckpt)$/i.test(path)) throw new FormatError(`${path}: a PyTorch pickle, which runs code when read; convkit reads state_dicts saved with safetensors (safetensors.torch.save_file(net.state_dict(), 'model.safetensors'))`);
  const { tensors } = readSafetensors(path, { nonFloat: 'skip' });
  // The state_dict's modules: the tensors under each prefix.
  const modules = new Map<string, Map<string, NamedArray>>();
  for (const [key, t] of Object.entries(tensors)) {
    const dot = key.lastIndexOf('.');
    if (dot < 0) throw new FormatError(`${path}: '${key}' is not module.tensor, not a state_dict key`);
    const prefix = key.slice(0, dot);
    if (!modules.has(prefix)) modules.set(prefix, new Map());
    modules.get(prefix)!.set(key.slice(dot + 1), t);
  }
  const kinds = new Map([...modules].map(([p, m]) => [p, moduleKind(m)] as const));
  const unknown = [...kinds].filter(([, k]) => k === null).map(([p]) => p);
  if (unknown.length) throw new FormatError(`${path}: modules ${unknown.join(', ')} are not Conv2d, Linear or BatchNorm (convkit imports those)`);
  const weighted = model.layers.filter((l) => KIND_OF_LAYER(l) !== null);
  for (const name of Object.keys(names)) if (!weighted.some((l) => l.name === name)) throw new ValueError(`loadTorchStateDict: names gives '${name}', which is not a layer with weights (those are ${weighted.map((l) => l.name).join(', ')})`);
  const taken = new Set<string>();
  const assigned = new Map<Layer, string>();
  for (const layer of weighted) {
    const chosen = names[layer.name] ?? (modules.has(layer.name) && kinds.get(layer.name) === KIND_OF_LAYER(layer) ? layer.name : undefined);
    if (chosen === undefined) continue;
    if (!modules.has(chosen)) throw new FormatError(`${path}: no module '${chosen}' (for layer '${layer.name}'); the state_dict has ${[...modules.keys()].join(', ')}`);
    if (taken.has(chosen)) throw new ValueError(`loadTorchStateDict: module '${chosen}' is given to two layers`);
    taken.add(chosen);
    assigned.set(layer, chosen);
  }
  for (const kind of ['conv', 'linear', 'bn'] as const) {
    const free = [...modules.keys()].filter((p) => kinds.get(p) === kind && !taken.has(p)).sort(natural);
    const layers = weighted.filter((l) => KIND_OF_LAYER(l) === kind && !assigned.has(l));
    if (free.length !== layers.length) {
      const what = { conv: 'Conv2d', linear: 'Linear', bn: 'BatchNorm' }[kind];
      throw new FormatError(`${path}: the state_dict has ${free.length} ${what} module(s) left (${free.join(', ') || 'none'}) for ${layers.length} layer(s) (${layers.map((l) => l.name).join(', ') || 'none'}); the architectures differ, or give names`);
    }
    layers.forEach((l, i) => assigned.set(l, free[i]));
  }
  const fills = weighted.flatMap((layer) => convert(layer, KIND_OF_LAYER(layer)!, modules.get(assigned.get(layer)!)!, assigned.get(layer)!, model, path));
  for (const [param, values] of fills) param.value.data.set(values);
}
