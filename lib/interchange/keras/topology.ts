// A Keras model's topology (the JSON of model.to_json(), an .h5's
// model_config, a .keras file's config.json, a tfjs model.json's
// modelTopology) made into a convkit Sequential or functional model, and a
// list of weights put into it by Keras's names. Keras 2 and tfjs write a
// layer's inputs as [[name, node, tensor, kwargs]], Keras 3 as
// {args: [keras tensors]}; both are read.
import { FormatError, ShapeError, describe, formatShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { Layer, SymbolicTensor } from '../../nn/layers/layer.js';
import { input, model as functionalModel } from '../../models/functional.js';
import type { Model } from '../../models/model.js';
import { Sequential } from '../../models/sequential.js';
import { type KerasLayerJson, kerasLayer, kerasWeightSlots } from './layers.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The per-sample shape of a batch shape [null, h, w, c]. */
function sampleShape(batchShape: unknown, who: string): number[] {
  if (!Array.isArray(batchShape) || batchShape.length < 2 || batchShape.slice(1).some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FormatError(`${who}: the input shape must be [batch, ...positive sizes], got ${describe(batchShape)}`);
  }
  return batchShape.slice(1) as number[];
}

function inputShapeOf(config: Json, who: string): number[] | null {
  const shape = config.batch_shape ?? config.batch_input_shape;
  return shape === undefined || shape === null ? null : sampleShape(shape, who);
}

/** The layer names a functional layer's one call takes, in order. */
function inboundNames(layer: Json, who: string): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) throw new FormatError(`${who}: inbound_nodes must be a list, got ${describe(nodes)}`);
  if (nodes.length === 0) return [];
  if (nodes.length > 1) throw new FormatError(`${who}: the layer is called ${nodes.length} times (a shared layer); convkit's graphs call each layer once`);
  const node = nodes[0];
  const names: string[] = [];
  if (Array.isArray(node)) {
    // Keras 2 / tfjs: [[name, node index, tensor index, kwargs], ...]
    for (const entry of node) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new FormatError(`${who}: an inbound node entry must be [layer name, node, tensor, kwargs], got ${describe(entry)}`);
      if (entry[1] !== 0 || entry[2] !== 0) throw new FormatError(`${who}: takes output ${entry[2]} of call ${entry[1]} of '${entry[0]}'; convkit's layers have one call and one output`);
      names.push(entry[0]);
    }
    return names;
  }
  if (!isObject(node) || !Array.isArray(node.args)) throw new FormatError(`${who}: an inbound node must be a list or {args, kwargs}, got ${describe(node)}`);
  // Keras 3: the keras tensors in args, wherever they are nested (Add's args are [[a, b]]).
  const visit = (v: unknown, depth: number) => {
    if (depth > 4) return;
    if (Array.isArray(v)) v.forEach((e) => visit(e, depth + 1));
    else if (isObject(v) && v.class_name === '__keras_tensor__') {
      const history = (v.config as Json | undefined)?.keras_history;
      if (!Array.isArray(history) || typeof history[0] !== 'string') throw new FormatError(`${who}: a keras tensor without keras_history`);
      if (history[1] !== 0 || history[2] !== 0) throw new FormatError(`${who}: takes output ${history[2]} of call ${history[1]} of '${history[0]}'; convkit's layers have one call and one output`);
      names.push(history[0]);
    }
  };
  visit(node.args, 0);
  return names;
}

/** The layer names of input_layers / output_layers ([[name, 0, 0], ...], or one [name, 0, 0]). */
function endpointNames(v: unknown, key: string, who: string): string[] {
  const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || list.some((e) => !Array.isArray(e) || typeof e[0] !== 'string')) throw new FormatError(`${who}: ${key} must list [layer name, 0, 0] entries, got ${describe(v)}`);
  return list.map((e) => e[0] as string);
}

/** The model a Keras topology describes, with fresh weights (loadKerasWeights puts them in). */
export function modelFromKerasTopology(topology: unknown, source: string): Model {
  if (!isObject(topology)) throw new FormatError(`${source}: the model topology must be an object, got ${describe(topology)}`);
  // tfjs's modelTopology may wrap the model as {model_config: {...}} (the Keras .h5 layout).
  const top = isObject(topology.model_config) ? topology.model_config : topology;
  const className = top.class_name;
  const config = top.config;
  if (className === 'Sequential') {
    // Keras < 2.2.3 wrote a Sequential's config as the list of layers itself.
    const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(layers)) throw new FormatError(`${source}: a Sequential's config must have a layers list, got ${describe(config)}`);
    return sequentialFrom(layers, isObject(config) && typeof config.name === 'string' ? config.name : 'sequential', source);
  }
  if (className === 'Functional' || className === 'Model') {
    if (!isObject(config) || !Array.isArray(config.layers)) throw new FormatError(`${source}: a functional model's config must have a layers list, got ${describe(config)}`);
    return functionalFrom(config, source);
  }
  throw new FormatError(`${source}: the model is a ${describe(className)}; convkit imports Sequential and functional (Functional / Model) Keras models`);
}

function sequentialFrom(list: unknown[], name: string, source: string): Model {
  let shape: number[] | null = null;
  const made: Layer[] = [];
  list.forEach((entry, i) => {
    const json = entry as KerasLayerJson;
    const who = `${source}: layers[${i}]`;
    if (!isObject(json) || !isObject(json.config)) throw new FormatError(`${who} must be {class_name, config}, got ${describe(entry)}`);
    const declared = inputShapeOf(json.config, `${who} (${json.class_name})`);
    if (declared && made.length > 0) throw new FormatError(`${who} (${json.class_name}) declares an input shape but is not first`);
    if (declared) shape = declared;
    if (json.class_name === 'InputLayer') return;
    made.push(...kerasLayer(json, source));
  });
  if (!shape) throw new FormatError(`${source}: the Sequential model has no input shape (no InputLayer and no batch_input_shape on its first layer); convkit builds a model for a known input shape`);
  if (made.length === 0) throw new FormatError(`${source}: the Sequential model has no layers`);
  return new Sequential(made, { inputShape: shape, name: safeName(name) });
}

function functionalFrom(config: Json, source: string): Model {
  const layers = config.layers as unknown[];
  const tensors = new Map<string, SymbolicTensor>();
  const inputs: SymbolicTensor[] = [];
  for (const [i, entry] of layers.entries()) {
    if (!isObject(entry) || !isObject(entry.config)) throw new FormatError(`${source}: layers[${i}] must be {class_name, config, inbound_nodes}, got ${describe(entry)}`);
    const name = (entry.name ?? entry.config.name) as unknown;
    if (typeof name !== 'string' || name === '') throw new FormatError(`${source}: layers[${i}] has no name`);
    if (tensors.has(name)) throw new FormatError(`${source}: two layers are named '${name}'`);
    const who = `${source}: layer '${name}' (${String(entry.class_name)})`;
    if (entry.class_name === 'InputLayer') {
      const shape = inputShapeOf(entry.config, who);
      if (!shape) throw new FormatError(`${who} has no batch_shape`);
      const t = input({ shape, name });
      tensors.set(name, t);
      inputs.push(t);
      continue;
    }
    const from = inboundNames(entry, who).map((n) => {
      const t = tensors.get(n);
      if (!t) throw new FormatError(`${who}: takes '${n}', which is not a layer before it`);
      return t;
    });
    if (from.length === 0) throw new FormatError(`${who}: takes no input`);
    const made = kerasLayer({ class_name: entry.class_name as string, config: { ...entry.config, name } }, source);
    let t: SymbolicTensor | SymbolicTensor[] = from.length === 1 ? from[0] : from;
    for (const layer of made) {
      try {
        t = layer.apply(t);
      } catch (error) {
        if (error instanceof ShapeError) throw new ShapeError(`${who}: ${error.message}`);
        throw error;
      }
    }
    tensors.set(name, t as SymbolicTensor);
  }
  const pick = (names: string[]) => names.map((n) => {
    const t = tensors.get(n);
    if (!t) throw new FormatError(`${source}: the model names '${n}' as an input or output, but no layer has that name`);
    return t;
  });
  const declaredInputs = pick(endpointNames(config.input_layers, 'input_layers', source));
  const outputs = pick(endpointNames(config.output_layers, 'output_layers', source));
  return functionalModel({ inputs: declaredInputs.length === 1 ? declaredInputs[0] : declaredInputs, outputs: outputs.length === 1 ? outputs[0] : outputs, name: safeName(typeof config.name === 'string' ? config.name : 'model') });
}

const safeName = (name: string) => (name.length > 0 && name.length <= 200 ? name : 'model');

/** A weight by Keras's name: `layer/kernel`, `layer/moving_mean`, ... */
export interface KerasWeight {
  layer: string;
  suffix: string;
  shape: readonly number[];
  values: () => Float32Array;
}

/**
 * Puts Keras's weights into the model made from the same topology: every
 * weight of every layer must be there with its shape, and nothing else may
 * be left over (a weight convkit would ignore means the model differs).
 */
export function putKerasWeights(model: Model, weights: readonly KerasWeight[], source: string): void {
  const byKey = new Map<string, KerasWeight>();
  for (const w of weights) {
    const key = `${w.layer}/${w.suffix}`;
    if (byKey.has(key)) throw new FormatError(`${source}: the weight '${key}' is given twice`);
    byKey.set(key, w);
  }
  const fills: [Tensor, KerasWeight][] = [];
  for (const layer of model.layers) {
    for (const { suffix, param } of kerasWeightSlots(layer)) {
      const key = `${layer.name}/${suffix}`;
      const w = byKey.get(key);
      if (!w) throw new FormatError(`${source}: the weight '${key}' of ${layer.kind} '${layer.name}' is missing (have: ${[...byKey.keys()].join(', ') || 'none'})`);
      const want = param.value.shape;
      if (w.shape.length !== want.length || w.shape.some((d, i) => d !== want[i])) throw new ShapeError(`${source}: the weight '${key}' has shape ${formatShape(w.shape)} but ${layer.kind} '${layer.name}' needs ${formatShape(want)}`);
      fills.push([param.value, w]);
      byKey.delete(key);
    }
  }
  if (byKey.size > 0) throw new FormatError(`${source}: weights ${[...byKey.keys()].join(', ')} belong to no layer of the model`);
  // Read only after every name and shape agreed, and written only after every read succeeded: a bad file leaves the model as it was.
  const read = fills.map(([tensor, w]) => {
    const values = w.values();
    if (values.length !== tensor.size) throw new FormatError(`${source}: the weight '${w.layer}/${w.suffix}' holds ${values.length} values, its shape ${formatShape(w.shape)} needs ${tensor.size}`);
    return values;
  });
  fills.forEach(([tensor], i) => tensor.data.set(read[i]));
}
