// ONNX models made of the operators convkit has, as a convkit functional
// model. ONNX's image operators are NCHW and convkit is NHWC: each image
// value is held in NHWC and remembers the layout the ONNX graph sees it in,
// so PyTorch's NCHW graphs and tf2onnx's NHWC ones (a Transpose before the
// first Conv) both import. A Flatten of an NCHW image orders its features
// (c, h, w); the Dense layer that takes it gets its rows reordered to
// convkit's (h, w, c). Nothing unknown is dropped: an operator, attribute or
// data type convkit cannot compute the same way is refused by name.
import { checkPath } from '../core/check.js';
import { ConvkitError, FormatError, ShapeError, describe, formatShape } from '../core/errors.js';
import { readFileBounded } from '../formats/read.js';
import { input, model as functionalModel } from '../models/functional.js';
import type { Model } from '../models/model.js';
import type { Layer, Parameter, SymbolicTensor } from '../nn/layers/layer.js';
import {
  Add, AvgPool2D, BatchNormalization, Concatenate, Conv2D, Dense, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D, Multiply, ReLU, Sigmoid, Softmax, Tanh,
} from '../nn/layers/index.js';
import { onnxModelProto } from './onnx.js';
import { type Attribute, type Constant, FLOAT, type NodeMessage, type TensorMessage, type ValueInfo, attr, floatOf, intOf, intsOf, num, stringOf, tensorValues } from './onnx-read.js';

/** The ONNX operators convkit imports. */
export const ONNX_OPERATORS = [
  'Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'Flatten', 'Reshape', 'Squeeze', 'Transpose', 'Add', 'Mul', 'Concat', 'Identity', 'Dropout', 'Constant',
] as const;

/** A value of the graph being imported: its convkit symbolic tensor, and how ONNX sees it. */
interface Value {
  t: SymbolicTensor;
  /** An image is held NHWC; `layout` is the order the ONNX graph sees its axes in. */
  layout: 'NCHW' | 'NHWC' | 'flat';
  /** For a flat value made from an NCHW image: that image's [H, W, C] (its features are in (c, h, w) order). */
  chw: readonly number[] | null;
}

/** Writing weights once the model is built (it builds its layers again from its seed). */
type Fill = (layer: Layer) => [Parameter, Float32Array][];

/** Imports an ONNX model; see loadOnnxModel. */
export function onnxModelFromBytes(bytes: Uint8Array, source: string): Model {
  let proto: { graph?: { node?: NodeMessage[]; initializer?: TensorMessage[]; input?: ValueInfo[]; output?: ValueInfo[]; name?: string }; opsetImport?: { domain?: string; version?: number | { toNumber(): number } }[] };
  try {
    proto = onnxModelProto().decode(bytes) as never;
  } catch (error) {
    throw new FormatError(`${source}: not an ONNX model (${(error as Error).message})`);
  }
  const graph = proto.graph;
  if (!graph || !graph.node?.length) throw new FormatError(`${source}: no graph, or a graph without nodes; not an ONNX model`);
  const opset = num(proto.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  const constants = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', tensorValues(t, `${source}: initializer '${t.name}'`));
  const consumers = new Map<string, NodeMessage[]>();
  for (const n of graph.node) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  const values = new Map<string, Value>();
  const inputs: SymbolicTensor[] = [];
  for (const info of graph.input ?? []) {
    const name = info.name ?? '';
    if (constants.has(name)) continue; // IR < 4 lists initializers among the inputs
    const dims = (info.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue === undefined ? null : num(d.dimValue)));
    if (info.type?.tensorType?.elemType !== FLOAT) throw new FormatError(`${source}: input '${name}' is not float32`);
    const sample = dims.slice(1);
    if (dims.length < 2 || sample.some((d) => d === null || d < 1)) throw new FormatError(`${source}: input '${name}' must have known sizes after the batch, got ${describe(dims)}`);
    const s = sample as number[];
    let value: Value;
    if (s.length === 3) {
      // A graph that transposes its input to NCHW before anything else takes NHWC images (tf2onnx's), else NCHW ones (PyTorch's).
      const nhwc = (consumers.get(name) ?? []).every((n) => n.opType === 'Transpose' && intsOf(n, 'perm')?.join() === '0,3,1,2');
      const t = input({ shape: nhwc ? s : [s[1], s[2], s[0]], name: safe(name) });
      value = { t, layout: nhwc ? 'NHWC' : 'NCHW', chw: null };
    } else if (s.length === 1) value = { t: input({ shape: s, name: safe(name) }), layout: 'flat', chw: null };
    else throw new FormatError(`${source}: input '${name}' has rank ${dims.length}; convkit takes images [N, C, H, W] / [N, H, W, C] and vectors [N, F]`);
    values.set(name, value);
    inputs.push(value.t);
  }
  if (inputs.length === 0) throw new FormatError(`${source}: the graph has no inputs besides its initializers`);

  const fills = new Map<Layer, Fill>();
  const names = new Set<string>();
  const layerName = (node: NodeMessage, op: string) => {
    let base = safe(node.name || node.output?.[0] || op) || op.toLowerCase();
    if (names.has(base)) {
      let k = 1;
      while (names.has(`${base}_${k}`)) k++;
      base = `${base}_${k}`;
    }
    names.add(base);
    return base;
  };

  for (const [index, node] of graph.node.entries()) {
    const op = node.opType ?? '';
    const who = `${source}: node ${index} '${node.name ?? ''}' (${op})`;
    if (node.domain && node.domain !== 'ai.onnx') throw new FormatError(`${who}: operators of domain '${node.domain}' are not supported`);
    const outs = node.output ?? [];
    try {
      if (op === 'Constant') {
        const t = attr(node, 'value')?.t;
        if (!t) throw new FormatError(`${who}: only a tensor 'value' is supported`);
        constants.set(outs[0], tensorValues(t, who));
        continue;
      }
      const result = importNode(node, op, who, { values, constants, fills, layerName, opset });
      if (result) values.set(outs[0], result);
    } catch (error) {
      if (error instanceof ConvkitError && error.message.startsWith(source)) throw error;
      if (error instanceof ShapeError) throw new ShapeError(`${who}: ${error.message}`);
      if (error instanceof ConvkitError) throw new FormatError(`${who}: ${error.message}`);
      throw error;
    }
  }
  const outputs = (graph.output ?? []).map((o) => {
    const v = values.get(o.name ?? '');
    if (!v) throw new FormatError(`${source}: output '${o.name}' is not computed by any node convkit imported`);
    return v.t;
  });
  if (outputs.length === 0) throw new FormatError(`${source}: the graph has no outputs`);
  const net = functionalModel({ inputs: inputs.length === 1 ? inputs[0] : inputs, outputs: outputs.length === 1 ? outputs[0] : outputs, name: safe(graph.name ?? '') || 'onnx_model' });
  for (const [layer, fill] of fills) for (const [param, data] of fill(layer)) param.value.data.set(data);
  return net;
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 120);

interface Context {
  values: Map<string, Value>;
  constants: Map<string, Constant>;
  fills: Map<Layer, Fill>;
  layerName: (node: NodeMessage, op: string) => string;
  opset: number;
}

/** Refuses attributes a node sets that change what it computes and convkit does not do. */
function onlyDefault(node: NodeMessage, name: string, ok: (v: Attribute) => boolean, what: string): void {
  const a = attr(node, name);
  if (a && !ok(a)) throw new FormatError(`${name} ${describe(a.ints?.map(num) ?? num(a.i))} is not supported (${what})`);
}

function windowPadding(node: NodeMessage): 'same' | 'valid' | [number, number, number, number] {
  const auto = stringOf(node, 'auto_pad') ?? 'NOTSET';
  if (auto === 'VALID') return 'valid';
  if (auto === 'SAME_UPPER') return 'same';
  if (auto !== 'NOTSET') throw new FormatError(`auto_pad ${auto} is not supported (NOTSET, VALID, SAME_UPPER)`);
  const pads = intsOf(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4) throw new FormatError(`pads must list 4 values for a 2-D window, got ${describe(pads)}`);
  // ONNX lists the begins (top, left), then the ends (bottom, right).
  return [pads[0], pads[2], pads[1], pads[3]];
}

function importNode(node: NodeMessage, op: string, who: string, c: Context): Value | null {
  const ins = node.input ?? [];
  const value = (k: number): Value => {
    const v = c.values.get(ins[k]);
    if (!v) throw new FormatError(`input '${ins[k]}' is ${c.constants.has(ins[k]) ? 'a constant; convkit imports constants as weights of Conv, Gemm, MatMul, BatchNormalization and as biases added to them' : 'not made by any node before it'}`);
    return v;
  };
  const constant = (k: number, what: string): Constant => {
    const t = c.constants.get(ins[k]);
    if (!t) throw new FormatError(`its ${what} ('${ins[k]}') must be a constant (an initializer)`);
    return t;
  };
  const apply = (layer: Layer, from: Value[], layout: Value['layout'], chw: readonly number[] | null = null): Value => ({ t: layer.apply(from.length === 1 ? from[0].t : from.map((v) => v.t)), layout, chw });
  const image = (v: Value) => {
    if (v.layout !== 'NCHW') throw new FormatError(`takes a ${v.layout === 'flat' ? 'flat' : 'NHWC-ordered'} value; ONNX's ${op} works on NCHW images`);
    return v;
  };
  const elementwise = (layer: Layer) => {
    const v = value(0);
    return apply(layer, [v], v.layout, v.chw);
  };
  const name = c.layerName(node, op);
  switch (op) {
    case 'Identity':
    case 'Dropout':
      return value(0);
    case 'Relu': return elementwise(new ReLU({ name }));
    case 'LeakyRelu': return elementwise(new LeakyReLU({ name, alpha: floatOf(node, 'alpha', 0.01) }));
    case 'Sigmoid': return elementwise(new Sigmoid({ name }));
    case 'Tanh': return elementwise(new Tanh({ name }));
    case 'Softmax': {
      const v = value(0);
      const axis = intOf(node, 'axis', c.opset >= 13 ? -1 : 1);
      if (v.layout !== 'flat' || (axis !== -1 && axis !== 1)) throw new FormatError(`only a softmax over the features of [N, F] is supported, got axis ${axis} of a ${v.layout} value`);
      return apply(new Softmax({ name }), [v], 'flat');
    }
    case 'Conv': {
      const x = image(value(0));
      const w = constant(1, 'weight');
      if (w.dims.length !== 4) throw new FormatError(`a ${w.dims.length - 2}-D convolution; convkit imports 2-D ones`);
      if (intOf(node, 'group', 1) !== 1) throw new FormatError(`group ${intOf(node, 'group', 1)} is not supported yet (grouped and depthwise convolutions)`);
      onlyDefault(node, 'dilations', (a) => (a.ints ?? []).every((d) => num(d) === 1), 'dilated convolutions are not supported yet');
      const [co, ci, kh, kw] = w.dims;
      const bias = ins[2] ? constant(2, 'bias') : null;
      if (bias && bias.values.length !== co) throw new ShapeError(`the bias holds ${bias.values.length} values for ${co} filters`);
      const strides = intsOf(node, 'strides') ?? [1, 1];
      const conv = new Conv2D({ name, filters: co, kernelSize: [kh, kw], strides: [strides[0], strides[1]], padding: windowPadding(node), useBias: true });
      const out = apply(conv, [x], 'NCHW');
      if (conv.inputShape[2] !== ci) throw new ShapeError(`the weight takes ${ci} channels, the input has ${conv.inputShape[2]}`);
      c.fills.set(conv, (l) => {
        const k = l as Conv2D;
        const hwio = new Float32Array(w.values.length);
        for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) hwio[((y * kw + z) * ci + i) * co + o] = w.values[((o * ci + i) * kh + y) * kw + z];
        return [[k.weight, hwio], [k.bias!, bias ? bias.values : new Float32Array(co)]];
      });
      return out;
    }
    case 'BatchNormalization': {
      const x = value(0);
      if (x.layout === 'NHWC') throw new FormatError('normalizes axis 1 of an NHWC-ordered image (its height); convkit normalizes channels');
      if (outsUsed(node)) throw new FormatError('training-mode BatchNormalization (with its mean and variance outputs) is not supported');
      const [scale, shift, mean, variance] = [constant(1, 'scale'), constant(2, 'bias'), constant(3, 'mean'), constant(4, 'variance')];
      const bn = new BatchNormalization({ name, epsilon: floatOf(node, 'epsilon', 1e-5), momentum: floatOf(node, 'momentum', 0.9) });
      const out = apply(bn, [x], x.layout, x.chw);
      c.fills.set(bn, (l) => {
        const b = l as BatchNormalization;
        return [[b.gamma, scale.values], [b.beta, shift.values], [b.runningMean, mean.values], [b.runningVar, variance.values]];
      });
      return out;
    }
    case 'MaxPool':
    case 'AveragePool': {
      const x = image(value(0));
      const [kh, kw] = intsOf(node, 'kernel_shape') ?? [];
      if (!kh || !kw) throw new FormatError('kernel_shape must give 2 sizes');
      onlyDefault(node, 'ceil_mode', (a) => num(a.i) === 0, 'ceil_mode 1');
      onlyDefault(node, 'dilations', (a) => (a.ints ?? []).every((d) => num(d) === 1), 'dilated pooling');
      onlyDefault(node, 'storage_order', (a) => num(a.i) === 0, 'storage_order 1');
      const padding = windowPadding(node);
      // convkit's average pool divides by the cells inside the image, as count_include_pad 0 does.
      if (op === 'AveragePool' && intOf(node, 'count_include_pad', 0) !== 0 && padding !== 'valid' && (padding === 'same' || padding.some((p) => p > 0))) throw new FormatError('count_include_pad 1 with padding is not supported');
      const strides = intsOf(node, 'strides') ?? [1, 1];
      const Pool = op === 'MaxPool' ? MaxPool2D : AvgPool2D;
      return apply(new Pool({ name, poolSize: [kh, kw], strides: [strides[0], strides[1]], padding }), [x], 'NCHW');
    }
    case 'GlobalAveragePool':
      // [N, C, 1, 1] in ONNX; flat [N, C] here (the Flatten or Squeeze after it then does nothing).
      return apply(new GlobalAvgPool2D({ name }), [image(value(0))], 'flat');
    case 'Flatten': {
      const x = value(0);
      if (intOf(node, 'axis', 1) !== 1) throw new FormatError(`axis ${intOf(node, 'axis', 1)} is not supported (only 1: [N, features])`);
      return flatten(x, name, apply);
    }
    case 'Reshape': {
      const x = value(0);
      const shape = [...constant(1, 'shape').values];
      // Only the reshape to [N, features] a classifier's head makes.
      if (shape.length !== 2 || !(shape[0] === 0 || shape[0] === -1 || shape[1] === -1)) throw new FormatError(`a reshape to ${describe(shape)} is not supported (only to [N, features])`);
      return flatten(x, name, apply);
    }
    case 'Squeeze': {
      const x = value(0);
      if (x.layout !== 'flat') throw new FormatError('only a Squeeze of the 1×1 axes after a global pooling is supported');
      return x;
    }
    case 'Transpose': {
      const x = value(0);
      const perm = intsOf(node, 'perm')?.join();
      if (x.layout === 'NHWC' && perm === '0,3,1,2') return { ...x, layout: 'NCHW' };
      if (x.layout === 'NCHW' && perm === '0,2,3,1') return { ...x, layout: 'NHWC' };
      throw new FormatError(`perm ${perm ?? '(reverse)'} of a ${x.layout} value is not supported (only NHWC ↔ NCHW of images)`);
    }
    case 'Gemm':
    case 'MatMul': {
      const x = value(0);
      if (x.layout !== 'flat') throw new FormatError(`takes a ${x.layout} image; convkit's dense layers take [N, features]`);
      const w = constant(1, 'weight');
      if (w.dims.length !== 2) throw new FormatError(`the weight must be 2-D, got ${formatShape(w.dims)}`);
      if (op === 'Gemm' && intOf(node, 'transA', 0) !== 0) throw new FormatError('transA 1 is not supported');
      const transB = op === 'Gemm' && intOf(node, 'transB', 0) === 1;
      const alpha = op === 'Gemm' ? floatOf(node, 'alpha', 1) : 1;
      const beta = op === 'Gemm' ? floatOf(node, 'beta', 1) : 1;
      const [inF, units] = transB ? [w.dims[1], w.dims[0]] : w.dims;
      const bias = op === 'Gemm' && ins[2] ? constant(2, 'bias') : null;
      if (bias && bias.values.length !== units) throw new ShapeError(`the bias holds ${bias.values.length} values for ${units} units (convkit adds one per unit)`);
      const dense = new Dense({ name, units, useBias: true });
      const out = apply(dense, [x], 'flat');
      if (dense.inputShape[0] !== inF) throw new ShapeError(`the weight takes ${inF} features, the input has ${dense.inputShape[0]}`);
      const chw = x.chw;
      c.fills.set(dense, (l) => {
        const d = l as Dense;
        const rows = new Float32Array(inF * units);
        const [H, W, C] = chw ?? [1, 1, inF];
        for (let h = 0; h < H; h++) for (let z = 0; z < W; z++) for (let ch = 0; ch < C; ch++) {
          const f = (h * W + z) * C + ch;
          const onnxF = chw ? (ch * H + h) * W + z : f;
          for (let u = 0; u < units; u++) rows[f * units + u] = alpha * (transB ? w.values[u * inF + onnxF] : w.values[onnxF * units + u]);
        }
        return [[d.weight, rows], [d.bias!, bias ? bias.values.map((b) => beta * b) : new Float32Array(units)]];
      });
      return out;
    }
    case 'Add':
    case 'Mul':
    case 'Concat': {
      const constantAt = ins.findIndex((i) => c.constants.has(i));
      if (op === 'Add' && ins.length === 2 && constantAt >= 0) return addBias(value(1 - constantAt), c.constants.get(ins[constantAt])!, c);
      const vs = ins.map((_, k) => value(k));
      const layout = vs[0].layout;
      if (vs.some((v) => v.layout !== layout || v.chw?.join() !== vs[0].chw?.join())) throw new FormatError('joins values of different layouts');
      if (op === 'Concat') {
        const axis = intOf(node, 'axis', 1);
        const channels = layout === 'NCHW' ? axis === 1 : layout === 'NHWC' ? axis === 3 || axis === -1 : (axis === 1 || axis === -1) && !vs[0].chw;
        if (!channels) throw new FormatError(`axis ${axis} of ${layout} values is not supported (only the channels or features)`);
        return apply(new Concatenate({ name }), vs, layout);
      }
      return apply(op === 'Add' ? new Add({ name }) : new Multiply({ name }), vs, layout, vs[0].chw);
    }
    default:
      throw new FormatError(`is not supported; convkit imports ${ONNX_OPERATORS.join(', ')}`);
  }
}

/** Whether a BatchNormalization node asks for its training outputs (running mean, variance). */
const outsUsed = (node: NodeMessage) => (node.output ?? []).slice(1).some((o) => o !== '');

function flatten(x: Value, name: string, apply: (layer: Layer, from: Value[], layout: Value['layout'], chw?: readonly number[] | null) => Value): Value {
  if (x.layout === 'flat') return x;
  const out = apply(new Flatten({ name }), [x], 'flat');
  // Flattened in ONNX's NCHW, the features are (c, h, w); convkit's Flatten gives (h, w, c).
  const [h, w] = x.t.shape;
  return x.layout === 'NCHW' && h * w > 1 ? { ...out, chw: x.t.shape } : out;
}

/** x + a constant: added into the bias of the Conv or Gemm/MatMul that made x (ONNX's MatMul + Add, a Conv's separate bias). */
function addBias(x: Value, constant: Constant, c: Context): Value {
  const layer = x.t.layer;
  const fill = layer ? c.fills.get(layer) : undefined;
  const units = layer instanceof Conv2D ? layer.options.filters : layer instanceof Dense ? layer.options.units : -1;
  // One value per unit ([C], [C, 1, 1], [1, units], ...), added where the layer adds its bias.
  const perUnit = constant.values.length === units && constant.dims.filter((d) => d !== 1).length <= 1;
  if (!fill || !perUnit) {
    throw new FormatError(`adding a constant ${formatShape(constant.dims)} is supported only as the bias of the Conv or Gemm/MatMul before it`);
  }
  c.fills.set(layer!, (l) => fill(l).map(([p, data], i) => [p, i === 1 ? data.map((b, k) => b + constant.values[k]) : data]));
  return x;
}

/**
 * An ONNX model (from PyTorch's torch.onnx.export, tf2onnx, convkit's
 * exportOnnx, ...) made of the operators convkit has, as a functional
 * model with its weights. Image inputs become NHWC whichever layout the
 * graph takes (PyTorch's NCHW [N, C, H, W] input is [H, W, C] here); image
 * outputs are NHWC. Refused by name: operators convkit lacks, grouped or
 * dilated convolutions, external weight files, training-mode nodes.
 * @example
 * ```ts
 * const net = loadOnnxModel('resnet.onnx');
 * const logits = net.predictLogits(images); // images [N, H, W, C]
 * ```
 */
export function loadOnnxModel(path: string): Model {
  checkPath(path, 'path', 'loadOnnxModel');
  return onnxModelFromBytes(readFileBounded(path), path);
}
