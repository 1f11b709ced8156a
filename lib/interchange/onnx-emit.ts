// ONNX nodes for convkit layers. Values travel with their layout: convkit is
// NHWC, ONNX's image operators are NCHW, so each image value is carried in
// whichever layout its last operator left it, and a Transpose is added only
// where the next operator needs the other one (once per value, however many
// layers take it).
import { ValueError } from '../core/errors.js';
import type { Layer } from '../nn/layers/layer.js';
import type { Conv2D } from '../nn/layers/conv.js';
import type { Dense } from '../nn/layers/dense.js';
import type { AvgPool2D, MaxPool2D } from '../nn/layers/pool.js';
import type { LeakyReLU } from '../nn/layers/activation.js';
import type { BatchNormalization } from '../nn/layers/norm.js';
import type { Shortcut } from '../nn/layers/merge.js';
import { normalizePadding } from '../ops/geometry.js';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const; // AttributeProto.AttributeType
const FLOAT_ATTRIBUTES = new Set(['alpha', 'epsilon']);

export type Layout = 'NHWC' | 'NCHW' | 'flat';

/** A value of the ONNX graph: its name and the layout its data is in. */
export interface OnnxValue {
  readonly name: string;
  readonly layout: Layout;
}

export interface NodeProto {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

/** The ONNX graph being written. */
export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private counter = 0;
  private readonly converted = new Map<string, OnnxValue>();

  /** Adds a node of one output and returns that output's name. */
  node(opType: string, inputs: string[], attributes: Record<string, number | number[] | string> = {}, name = opType): string {
    const output = `${name}_${this.counter++}`;
    this.nodes.push({
      opType,
      name: output,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, v]) =>
        typeof v === 'string'
          ? { name: key, type: ATTRIBUTE.STRING, s: new TextEncoder().encode(v) }
          : Array.isArray(v)
            ? { name: key, type: ATTRIBUTE.INTS, ints: v }
            : Number.isInteger(v) && !FLOAT_ATTRIBUTES.has(key)
              ? { name: key, type: ATTRIBUTE.INT, i: v }
              : { name: key, type: ATTRIBUTE.FLOAT, f: v },
      ),
    });
    return output;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return name;
  }

  int64s(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** v in `layout` (a flat value is in every layout); the Transpose is made once per value. */
  to(v: OnnxValue, layout: 'NHWC' | 'NCHW'): OnnxValue {
    if (v.layout === layout || v.layout === 'flat') return v;
    const key = `${v.name}>${layout}`;
    let out = this.converted.get(key);
    if (!out) {
      const perm = layout === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1];
      out = { name: this.node('Transpose', [v.name], { perm }, layout === 'NCHW' ? 'to_nchw' : 'to_nhwc'), layout };
      this.converted.set(key, out);
    }
    return out;
  }
}

/** ONNX pads are [top, left, bottom, right]. */
function pads(layer: Conv2D | MaxPool2D | AvgPool2D, kH: number, kW: number, sH: number, sW: number): number[] {
  const [h, w] = layer.inputShape;
  const padding = (layer.options as { padding?: unknown }).padding ?? 0;
  const p = normalizePadding(padding, h, w, kH, kW, sH, sW, 'exportOnnx');
  return [p.top, p.left, p.bottom, p.right];
}

function stridePair(stride: unknown): [number, number] {
  return Array.isArray(stride) ? [stride[0], stride[1]] : [stride as number, stride as number];
}

/** The ONNX nodes of one layer applied to its inputs; returns the value it makes. */
export function emitLayer(graph: OnnxGraph, layer: Layer, inputs: readonly OnnxValue[]): OnnxValue {
  const [x] = inputs;
  const same = (opType: string, attributes: Record<string, number> = {}): OnnxValue => ({ name: graph.node(opType, [x.name], attributes, layer.name), layout: x.layout });
  switch (layer.kind) {
    case 'Conv2D': {
      const conv = layer as Conv2D;
      const v = graph.to(x, 'NCHW');
      const [kh, kw, c, o] = conv.weight.value.shape;
      const w = conv.weight.value.data;
      const oihw = new Float32Array(w.length); // HWIO → OIHW
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let ci = 0; ci < c; ci++)
            for (let oi = 0; oi < o; oi++) oihw[((oi * c + ci) * kh + i) * kw + j] = w[((i * kw + j) * c + ci) * o + oi];
      const args = [v.name, graph.floats(`${conv.name}.weight`, [o, c, kh, kw], oihw)];
      if (conv.bias) args.push(graph.floats(`${conv.name}.bias`, [o], conv.bias.value.data));
      const [sh, sw] = stridePair(conv.options.strides);
      return { name: graph.node('Conv', args, { kernel_shape: [kh, kw], strides: [sh, sw], pads: pads(conv, kh, kw, sh, sw), dilations: [1, 1], group: 1 }, conv.name), layout: 'NCHW' };
    }
    case 'MaxPool2D':
    case 'AvgPool2D': {
      const pool = layer as MaxPool2D | AvgPool2D;
      const v = graph.to(x, 'NCHW');
      const [kh, kw] = pool.options.poolSize;
      const [sh, sw] = stridePair(pool.options.strides);
      const attributes: Record<string, number[] | number> = { kernel_shape: [kh, kw], strides: [sh, sw], pads: pads(pool, kh, kw, sh, sw) };
      if (layer.kind === 'AvgPool2D') attributes.count_include_pad = 0;
      return { name: graph.node(layer.kind === 'MaxPool2D' ? 'MaxPool' : 'AveragePool', [v.name], attributes, layer.name), layout: 'NCHW' };
    }
    case 'GlobalAvgPool2D': {
      const pooled = graph.node('GlobalAveragePool', [graph.to(x, 'NCHW').name], {}, layer.name);
      return { name: graph.node('Flatten', [pooled], { axis: 1 }, `${layer.name}_flat`), layout: 'flat' };
    }
    case 'Flatten':
      // convkit flattens NHWC in (h, w, c) order: back to NHWC first.
      return { name: graph.node('Flatten', [graph.to(x, 'NHWC').name], { axis: 1 }, layer.name), layout: 'flat' };
    case 'Dense': {
      const dense = layer as Dense;
      const [inF, outF] = dense.weight.value.shape;
      const args = [x.name, graph.floats(`${dense.name}.weight`, [inF, outF], dense.weight.value.data)];
      if (dense.bias) args.push(graph.floats(`${dense.name}.bias`, [outF], dense.bias.value.data));
      return { name: graph.node('Gemm', args, { transB: 0 }, dense.name), layout: 'flat' };
    }
    case 'BatchNormalization': {
      // Inference form (the moving statistics); ONNX normalizes axis 1, the channels of NCHW or of [N, C].
      const bn = layer as BatchNormalization;
      const v = graph.to(x, 'NCHW');
      const c = bn.gamma.value.size;
      const args = [v.name, ...(['gamma', 'beta', 'runningMean', 'runningVar'] as const).map((k) => graph.floats(`${bn.name}.${k}`, [c], bn[k].value.data))];
      return { name: graph.node('BatchNormalization', args, { epsilon: bn.options.epsilon }, bn.name), layout: v.layout };
    }
    case 'Shortcut': {
      const sc = layer as Shortcut;
      const v = graph.to(x, 'NCHW');
      const [h, w, c] = sc.inputShape;
      const s = sc.strides;
      const sliced = s === 1 ? v.name : graph.node('Slice', [v.name, graph.int64s(`${sc.name}.starts`, [0, 0]), graph.int64s(`${sc.name}.ends`, [h, w]), graph.int64s(`${sc.name}.axes`, [2, 3]), graph.int64s(`${sc.name}.steps`, [s, s])], {}, `${sc.name}_subsample`);
      const before = Math.floor((sc.filters - c) / 2);
      const after = sc.filters - c - before;
      if (before === 0 && after === 0) return { name: sliced, layout: 'NCHW' };
      return { name: graph.node('Pad', [sliced, graph.int64s(`${sc.name}.pads`, [0, before, 0, 0, 0, after, 0, 0])], { mode: 'constant' }, sc.name), layout: 'NCHW' };
    }
    case 'Add':
    case 'Multiply':
    case 'Concatenate': {
      // Every input in one layout: ONNX's axis 1 is the channels of NCHW and the features of [N, F] alike.
      const vs = inputs.map((v) => graph.to(v, 'NCHW'));
      const layout = vs[0].layout;
      const opType = layer.kind === 'Add' ? 'Add' : layer.kind === 'Multiply' ? 'Mul' : 'Concat';
      if (opType === 'Concat') return { name: graph.node('Concat', vs.map((v) => v.name), { axis: 1 }, layer.name), layout };
      let acc = vs[0].name;
      for (let k = 1; k < vs.length; k++) acc = graph.node(opType, [acc, vs[k].name], {}, layer.name);
      return { name: acc, layout };
    }
    case 'ReLU':
      return same('Relu');
    case 'LeakyReLU':
      return same('LeakyRelu', { alpha: (layer as LeakyReLU).alpha });
    case 'Sigmoid':
      return same('Sigmoid');
    case 'Tanh':
      return same('Tanh');
    case 'Softmax':
      return { name: graph.node('Softmax', [graph.to(x, 'NHWC').name], { axis: -1 }, layer.name), layout: x.layout === 'flat' ? 'flat' : 'NHWC' };
    case 'Dropout':
      return x; // identity at inference
    default:
      throw new ValueError(`exportOnnx: layer '${layer.name}' of kind '${layer.kind}' has no ONNX mapping`);
  }
}
