// convkit models written as Keras topologies, the inverse of layers.ts and
// topology.ts: Keras 3's JSON for an .h5 that Keras loads, Keras 2's (which
// TensorFlow.js reads) for a tfjs LayersModel. A layer Keras has no match
// for, or a padding its 'same' and 'valid' cannot say, is refused by name.
import { ValueError } from '../../core/errors.js';
import { normalizePadding } from '../../ops/geometry.js';
import type { Model } from '../../models/model.js';
import { Sequential } from '../../models/sequential.js';
import type { Layer } from '../../nn/layers/layer.js';
import { Add, AvgPool2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D, Multiply, ReLU, Sigmoid, Softmax, Tanh } from '../../nn/layers/index.js';
import { kerasWeightSlots } from './layers.js';

/** Keras 3 (an .h5 for keras.models.load_model) or Keras 2 (a tfjs LayersModel's modelTopology). */
export type KerasDialect = 'keras3' | 'tfjs';

type Json = Record<string, unknown>;

/** convkit's padding as Keras's 'same' or 'valid', where it is one of them at this layer's input size. */
function kerasPadding(layer: Conv2D | MaxPool2D | AvgPool2D, kernel: readonly [number, number], strides: readonly [number, number]): 'same' | 'valid' {
  const [h, w] = layer.inputShape;
  const pads = normalizePadding(layer.options.padding, h, w, kernel[0], kernel[1], strides[0], strides[1], layer.kind);
  const key = (p: typeof pads) => [p.top, p.bottom, p.left, p.right].join();
  for (const name of ['valid', 'same'] as const) if (key(normalizePadding(name, h, w, kernel[0], kernel[1], strides[0], strides[1], layer.kind)) === key(pads)) return name;
  throw new ValueError(`${layer.kind} '${layer.name}': padding ${JSON.stringify(layer.options.padding)} at input ${h}×${w} is neither Keras's 'same' nor 'valid'; Keras would need a ZeroPadding2D layer, which convkit does not write`);
}

const pair = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

const ACTIVATION = new Map<string, string>([['ReLU', 'relu'], ['Sigmoid', 'sigmoid'], ['Tanh', 'tanh'], ['Softmax', 'softmax']]);

/** A convkit layer as Keras's {class_name, config}. */
export function kerasLayerJson(layer: Layer, dialect: KerasDialect): { class_name: string; config: Json } {
  const base = { name: layer.name, trainable: layer.trainable, dtype: 'float32' };
  const act = ACTIVATION.get(layer.kind);
  if (act && (layer instanceof ReLU || layer instanceof Sigmoid || layer instanceof Tanh || layer instanceof Softmax)) return { class_name: 'Activation', config: { ...base, activation: act } };
  if (layer instanceof Conv2D) {
    const kernel = layer.options.kernelSize;
    const strides = pair(layer.options.strides);
    return {
      class_name: 'Conv2D',
      config: {
        ...base, filters: layer.options.filters, kernel_size: [...kernel], strides, padding: kerasPadding(layer, kernel, strides), data_format: 'channels_last',
        dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: layer.options.useBias,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
        kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      },
    };
  }
  if (layer instanceof Dense) {
    return {
      class_name: 'Dense',
      config: {
        ...base, units: layer.options.units, activation: 'linear', use_bias: layer.options.useBias,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
        kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      },
    };
  }
  if (layer instanceof BatchNormalization) {
    const { momentum, epsilon, center, scale } = layer.options;
    return { class_name: 'BatchNormalization', config: { ...base, axis: -1, momentum, epsilon, center, scale } };
  }
  if (layer instanceof MaxPool2D || layer instanceof AvgPool2D) {
    const size = layer.options.poolSize;
    const strides = pair(layer.options.strides);
    return { class_name: layer instanceof MaxPool2D ? 'MaxPooling2D' : 'AveragePooling2D', config: { ...base, pool_size: [...size], strides, padding: kerasPadding(layer, size, strides), data_format: 'channels_last' } };
  }
  if (layer instanceof GlobalAvgPool2D) return { class_name: 'GlobalAveragePooling2D', config: { ...base, data_format: 'channels_last', keepdims: false } };
  if (layer instanceof Flatten) return { class_name: 'Flatten', config: { ...base, data_format: 'channels_last' } };
  if (layer instanceof Dropout) return { class_name: 'Dropout', config: { ...base, rate: layer.rate } };
  // tfjs and Keras 2 name the slope alpha, Keras 3 negative_slope.
  if (layer instanceof LeakyReLU) return { class_name: 'LeakyReLU', config: { ...base, ...(dialect === 'tfjs' ? { alpha: layer.alpha } : { negative_slope: layer.alpha }) } };
  if (layer instanceof Add) return { class_name: 'Add', config: base };
  if (layer instanceof Multiply) return { class_name: 'Multiply', config: base };
  if (layer instanceof Concatenate) return { class_name: 'Concatenate', config: { ...base, axis: -1 } };
  throw new ValueError(`${layer.kind} '${layer.name}' has no Keras layer to be written as (convkit writes Conv2D, Dense, BatchNormalization, pooling, Flatten, Dropout, activations, Add, Multiply, Concatenate)`);
}

/**
 * The model's topology as Keras writes it (every layer, a final Softmax or
 * Sigmoid included), and its weights in Keras's order with Keras's names
 * (`layer/kernel`, ...).
 */
export function kerasTopology(model: Model, dialect: KerasDialect): { topology: Json; weights: { layer: string; name: string; values: Float32Array; shape: readonly number[] }[] } {
  if (!model.built) throw new ValueError(`${model.name}: the model is not built`);
  const graph = model.logitGraph();
  if (graph.outputs.length !== 1) throw new ValueError(`${model.name}: a model of ${graph.outputs.length} outputs; convkit writes Keras models of one output`);
  const folded = model.outputActivation();
  const inputNames = graph.inputs.map((i, k) => (graph.inputs.length === 1 ? 'input_layer' : i.name || `input_${k + 1}`));
  const batchShape = (shape: readonly number[]) => [null, ...shape];
  const inputJson = (k: number) => ({ class_name: 'InputLayer', config: { ...(dialect === 'tfjs' ? { batch_input_shape: batchShape(graph.inputs[k].shape) } : { batch_shape: batchShape(graph.inputs[k].shape) }), dtype: 'float32', sparse: false, name: inputNames[k] } });
  const nodes = [...graph.nodes];
  if (folded) nodes.push({ layer: folded, inputs: [graph.outputs[0]], output: -1 });
  const producer = new Map<number, string>(graph.inputs.map((_, k) => [k, inputNames[k]] as const));
  const shapes = new Map<number, readonly number[]>(graph.inputs.map((i, k) => [k, i.shape] as const));
  for (const n of nodes) {
    producer.set(n.output, n.layer.name);
    shapes.set(n.output, n.layer.outputShape);
  }
  let topology: Json;
  if (model instanceof Sequential) {
    const layers = nodes.map((n) => kerasLayerJson(n.layer, dialect));
    topology = { class_name: 'Sequential', config: { name: model.name, layers: [inputJson(0), ...layers] } };
  } else {
    const tensor = (v: number) => ({ class_name: '__keras_tensor__', config: { shape: batchShape(shapes.get(v)!), dtype: 'float32', keras_history: [producer.get(v)!, 0, 0] } });
    const inbound = (ins: readonly number[]) => dialect === 'tfjs' ? [ins.map((v) => [producer.get(v)!, 0, 0, {}])] : [{ args: ins.length === 1 ? [tensor(ins[0])] : [ins.map(tensor)], kwargs: {} }];
    const layers = [
      ...graph.inputs.map((_, k) => ({ ...inputJson(k), name: inputNames[k], inbound_nodes: [] })),
      ...nodes.map((n) => ({ ...kerasLayerJson(n.layer, dialect), name: n.layer.name, inbound_nodes: inbound(n.inputs) })),
    ];
    const outputs = folded ? [folded.name] : graph.outputs.map((v) => producer.get(v)!);
    topology = { class_name: dialect === 'tfjs' ? 'Model' : 'Functional', config: { name: model.name, layers, input_layers: inputNames.map((n) => [n, 0, 0]), output_layers: outputs.map((n) => [n, 0, 0]) } };
  }
  const weights = nodes.flatMap((n) => kerasWeightSlots(n.layer).map(({ suffix, param }) => ({ layer: n.layer.name, name: `${n.layer.name}/${suffix}`, values: param.value.data, shape: param.value.shape })));
  return { topology, weights };
}
