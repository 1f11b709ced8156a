import { checkModel, checkPath } from '../core/check.js';
import { createRequire } from 'node:module';
import { ValueError } from '../core/errors.js';
import type { Layer } from '../nn/layers/layer.js';
import type { Conv2D } from '../nn/layers/conv.js';
import type { Dense } from '../nn/layers/dense.js';
import type { AvgPool2D, MaxPool2D } from '../nn/layers/pool.js';
import type { LeakyReLU } from '../nn/layers/activation.js';
import { normalizePadding } from '../ops/geometry.js';
import type { Sequential } from '../models/sequential.js';
import { writeFileAtomic } from '../formats/atomic.js';
import { ONNX_SCHEMA } from './onnx-schema.js';
import { VERSION } from '../core/version.js';

const require = createRequire(import.meta.url);

/** ModelProto from the trimmed schema, parsed by protobufjs on the first export (not at import). */
let modelProto: import('protobufjs').Type | null = null;
function onnxModelProto(): import('protobufjs').Type {
  if (!modelProto) {
    const protobuf = require('protobufjs') as typeof import('protobufjs');
    modelProto = protobuf.parse(ONNX_SCHEMA, { keepCase: false }).root.lookupType('onnx.ModelProto');
  }
  return modelProto;
}

const OPSET = 13;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const; // AttributeProto.AttributeType

interface NodeProto {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

interface Graph {
  nodes: NodeProto[];
  initializers: Record<string, unknown>[];
  /** The current value's name and whether it is NCHW (ONNX's layout) or NHWC (convkit's). */
  value: string;
  layout: 'NHWC' | 'NCHW' | 'flat';
  counter: number;
}

function fresh(graph: Graph, base: string): string {
  return `${base}_${graph.counter++}`;
}

function node(graph: Graph, opType: string, inputs: string[], attributes: Record<string, number | number[] | string> = {}, name = opType): string {
  const output = fresh(graph, name);
  graph.nodes.push({
    opType,
    name: output,
    input: inputs,
    output: [output],
    attribute: Object.entries(attributes).map(([key, v]) =>
      typeof v === 'string'
        ? { name: key, type: ATTRIBUTE.STRING, s: new TextEncoder().encode(v) }
        : Array.isArray(v)
          ? { name: key, type: ATTRIBUTE.INTS, ints: v }
          : Number.isInteger(v) && key !== 'alpha'
            ? { name: key, type: ATTRIBUTE.INT, i: v }
            : { name: key, type: ATTRIBUTE.FLOAT, f: v },
    ),
  });
  graph.value = output;
  return output;
}

function initializer(graph: Graph, name: string, dims: number[], data: Float32Array): string {
  graph.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  return name;
}

function toLayout(graph: Graph, layout: 'NHWC' | 'NCHW'): void {
  if (graph.layout === layout || graph.layout === 'flat') return;
  node(graph, 'Transpose', [graph.value], { perm: layout === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1] }, layout === 'NCHW' ? 'to_nchw' : 'to_nhwc');
  graph.layout = layout;
}

/** ONNX pads are [top, left, bottom, right]. */
function pads(layer: Conv2D | MaxPool2D | AvgPool2D, kH: number, kW: number, sH: number, sW: number): number[] {
  const [h, w] = layer.inputShape;
  const padding = layer instanceof Object && 'options' in layer ? (layer.options as { padding: unknown }).padding : 0;
  const p = normalizePadding(padding, h, w, kH, kW, sH, sW, 'exportOnnx');
  return [p.top, p.left, p.bottom, p.right];
}

function stridePair(stride: unknown): [number, number] {
  return Array.isArray(stride) ? [stride[0], stride[1]] : [stride as number, stride as number];
}

function emit(graph: Graph, layer: Layer): void {
  switch (layer.kind) {
    case 'Conv2D': {
      const conv = layer as Conv2D;
      toLayout(graph, 'NCHW');
      const [kh, kw, c, o] = conv.weight.value.shape;
      // HWIO → OIHW
      const w = conv.weight.value.data;
      const oihw = new Float32Array(w.length);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let ci = 0; ci < c; ci++)
            for (let oi = 0; oi < o; oi++) oihw[((oi * c + ci) * kh + i) * kw + j] = w[((i * kw + j) * c + ci) * o + oi];
      const inputs = [graph.value, initializer(graph, `${conv.name}.weight`, [o, c, kh, kw], oihw)];
      if (conv.bias) inputs.push(initializer(graph, `${conv.name}.bias`, [o], conv.bias.value.data));
      const [sh, sw] = stridePair(conv.options.strides);
      node(graph, 'Conv', inputs, { kernel_shape: [kh, kw], strides: [sh, sw], pads: pads(conv, kh, kw, sh, sw), dilations: [1, 1], group: 1 }, conv.name);
      return;
    }
    case 'MaxPool2D':
    case 'AvgPool2D': {
      const pool = layer as MaxPool2D | AvgPool2D;
      toLayout(graph, 'NCHW');
      const [kh, kw] = pool.options.poolSize;
      const [sh, sw] = stridePair(pool.options.strides);
      const attributes: Record<string, number[] | number> = { kernel_shape: [kh, kw], strides: [sh, sw], pads: pads(pool, kh, kw, sh, sw) };
      if (layer.kind === 'AvgPool2D') attributes.count_include_pad = 0;
      node(graph, layer.kind === 'MaxPool2D' ? 'MaxPool' : 'AveragePool', [graph.value], attributes, layer.name);
      return;
    }
    case 'GlobalAvgPool2D':
      toLayout(graph, 'NCHW');
      node(graph, 'GlobalAveragePool', [graph.value], {}, layer.name);
      node(graph, 'Flatten', [graph.value], { axis: 1 }, `${layer.name}_flat`);
      graph.layout = 'flat';
      return;
    case 'Flatten':
      // convkit flattens NHWC in (h, w, c) order: go back to NHWC first.
      toLayout(graph, 'NHWC');
      node(graph, 'Flatten', [graph.value], { axis: 1 }, layer.name);
      graph.layout = 'flat';
      return;
    case 'Dense': {
      const dense = layer as Dense;
      const [inF, outF] = dense.weight.value.shape;
      const inputs = [graph.value, initializer(graph, `${dense.name}.weight`, [inF, outF], dense.weight.value.data)];
      if (dense.bias) inputs.push(initializer(graph, `${dense.name}.bias`, [outF], dense.bias.value.data));
      node(graph, 'Gemm', inputs, { transB: 0 }, dense.name);
      return;
    }
    case 'ReLU':
      node(graph, 'Relu', [graph.value], {}, layer.name);
      return;
    case 'LeakyReLU':
      node(graph, 'LeakyRelu', [graph.value], { alpha: (layer as LeakyReLU).alpha }, layer.name);
      return;
    case 'Sigmoid':
      node(graph, 'Sigmoid', [graph.value], {}, layer.name);
      return;
    case 'Tanh':
      node(graph, 'Tanh', [graph.value], {}, layer.name);
      return;
    case 'Softmax':
      toLayout(graph, 'NHWC');
      node(graph, 'Softmax', [graph.value], { axis: -1 }, layer.name);
      return;
    case 'Dropout':
      return; // identity at inference
    default:
      throw new ValueError(`exportOnnx: layer kind '${layer.kind}' has no ONNX mapping`);
  }
}

/**
 * Encodes the model as ONNX (opset 13): input "input" [N, H, W, C] float32
 * (convkit's NHWC; a Transpose feeds ONNX's NCHW operators), output
 * "logits" [N, classes] — the model's raw outputs, as predictLogits gives.
 */
export function encodeOnnx(model: Sequential): Uint8Array {
  checkModel(model, 'encodeOnnx');
  if (!model.built) throw new ValueError('exportOnnx: the model is not built');
  const graph: Graph = { nodes: [], initializers: [], value: 'input', layout: model.inputShape.length === 3 ? 'NHWC' : 'flat', counter: 0 };
  for (const layer of model.layers) emit(graph, layer);
  if (graph.layout === 'NCHW') toLayout(graph, 'NHWC');
  node(graph, 'Identity', [graph.value], {}, 'logits');
  graph.nodes[graph.nodes.length - 1].output = ['logits'];
  const dims = (shape: readonly number[]) => [{ dimParam: 'N' }, ...shape.map((d) => ({ dimValue: d }))];
  const info = (name: string, shape: readonly number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims(shape) } } } });
  const ModelProto = onnxModelProto();
  const proto = ModelProto.fromObject({
    irVersion: 8,
    producerName: 'convkit',
    producerVersion: VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: [{ key: 'architecture', value: JSON.stringify(model.config()) }],
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [info('input', model.inputShape)],
      output: [info('logits', model.outputShape)],
    },
  });
  return ModelProto.encode(proto).finish();
}

/** Writes encodeOnnx(model) to path (atomically); a promise, like every exporter. */
export async function exportOnnx(model: Sequential, path: string): Promise<void> {
  checkModel(model, 'exportOnnx');
  checkPath(path, 'path', 'exportOnnx');
  writeFileAtomic(path, encodeOnnx(model));
}
