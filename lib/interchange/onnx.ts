import { checkModel, checkPath } from '../core/check.js';
import { createRequire } from 'node:module';
import { ValueError } from '../core/errors.js';
import { OnnxGraph, type OnnxValue, emitLayer } from './onnx-emit.js';
import type { Model } from '../models/model.js';
import { writeFileAtomic } from '../formats/atomic.js';
import { ONNX_SCHEMA } from './onnx-schema.js';
import { VERSION } from '../core/version.js';

const require = createRequire(import.meta.url);

/** ModelProto from the trimmed schema, parsed by protobufjs on the first export or import (not when convkit loads). */
let modelProto: import('protobufjs').Type | null = null;
export function onnxModelProto(): import('protobufjs').Type {
  if (!modelProto) {
    const protobuf = require('protobufjs') as typeof import('protobufjs');
    modelProto = protobuf.parse(ONNX_SCHEMA, { keepCase: false }).root.lookupType('onnx.ModelProto');
  }
  return modelProto;
}

const OPSET = 13;
const FLOAT = 1; // TensorProto.DataType.FLOAT

/**
 * Encodes the model as ONNX (opset 13). Inputs are convkit's NHWC float32
 * tensors (a Transpose feeds ONNX's NCHW operators): "input" [N, H, W, C] for
 * a model of one input, else each input by its name. Outputs are the
 * model's logits, as predictLogits gives them (a final Softmax or Sigmoid
 * the loss applies is left out): "logits" [N, classes], or "logits_1",
 * "logits_2"... for a model of several outputs. BatchNormalization is
 * written in its inference form, with the moving statistics.
 */
export function encodeOnnx(model: Model): Uint8Array {
  checkModel(model, 'encodeOnnx');
  if (!model.built) throw new ValueError('exportOnnx: the model is not built');
  const view = model.logitGraph();
  const graph = new OnnxGraph();
  const inputNames = view.inputs.length === 1 ? ['input'] : view.inputs.map((i) => i.name);
  const values: OnnxValue[] = view.inputs.map((i, k) => ({ name: inputNames[k], layout: i.shape.length === 3 ? 'NHWC' : 'flat' }));
  const shapes: (readonly number[])[] = view.inputs.map((i) => i.shape);
  for (const n of view.nodes) {
    values[n.output] = emitLayer(graph, n.layer, n.inputs.map((v) => values[v]));
    shapes[n.output] = n.layer.outputShape;
  }
  const outputNames = view.outputs.length === 1 ? ['logits'] : view.outputs.map((_, k) => `logits_${k + 1}`);
  view.outputs.forEach((v, k) => {
    const last = graph.to(values[v], 'NHWC');
    graph.node('Identity', [last.name], {}, outputNames[k]);
    graph.nodes[graph.nodes.length - 1].output = [outputNames[k]];
  });
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
      input: view.inputs.map((i, k) => info(inputNames[k], i.shape)),
      output: view.outputs.map((v, k) => info(outputNames[k], shapes[v])),
    },
  });
  return ModelProto.encode(proto).finish();
}

/** Writes encodeOnnx(model) to path (atomically); a promise, like every exporter. */
export async function exportOnnx(model: Model, path: string): Promise<void> {
  checkModel(model, 'exportOnnx', true);
  checkPath(path, 'path', 'exportOnnx');
  writeFileAtomic(path, encodeOnnx(model));
}
