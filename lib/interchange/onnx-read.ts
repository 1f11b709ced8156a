// The parts of a decoded ONNX model the importer reads: the messages'
// shapes as protobufjs gives them, int64s that may arrive as Longs, tensors
// (raw or typed, checked against their dims before anything is allocated)
// and node attributes.
import { FormatError, describe, formatShape } from '../core/errors.js';
import { checkAllocation } from '../core/limits.js';

export const FLOAT = 1;
const INT64 = 7;
const INT32 = 6;
const DOUBLE = 11;

export interface Attribute { name: string; f?: number; i?: number | { toNumber(): number }; s?: Uint8Array; t?: TensorMessage; ints?: (number | { toNumber(): number })[]; floats?: number[]; type?: number; g?: unknown }
export interface TensorMessage { dims?: (number | { toNumber(): number })[]; dataType?: number; floatData?: number[]; int32Data?: number[]; int64Data?: (number | { toNumber(): number })[]; doubleData?: number[]; name?: string; rawData?: Uint8Array; dataLocation?: number }
export interface NodeMessage { input?: string[]; output?: string[]; name?: string; opType?: string; attribute?: Attribute[]; domain?: string }
export interface ValueInfo { name?: string; type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number | { toNumber(): number }; dimParam?: string }[] } } } }

export const num = (v: number | { toNumber(): number } | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/** A constant of the graph (an initializer or a Constant node's value). */
export interface Constant { dims: number[]; values: Float32Array }

export function tensorValues(t: TensorMessage, where: string): Constant {
  const dims = (t.dims ?? []).map(num);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(`${where}: bad dims ${describe(dims)}`);
  const count = dims.reduce((a, b) => a * b, 1);
  checkAllocation(count, 4, where);
  if (t.dataLocation === 1) throw new FormatError(`${where}: its data lives in an external file; convkit reads ONNX models whose weights are inside the file`);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const size = type === FLOAT || type === INT32 ? 4 : type === INT64 || type === DOUBLE ? 8 : 0;
  if (size === 0) throw new FormatError(`${where}: data type ${type} is not supported (float32, float64, int32, int64)`);
  const out = new Float32Array(count);
  if (raw) {
    if (raw.length !== count * size) throw new FormatError(`${where}: ${raw.length} bytes of raw data for dims ${formatShape(dims)}, which need ${count * size}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) out[i] = type === FLOAT ? view.getFloat32(i * 4, true) : type === INT32 ? view.getInt32(i * 4, true) : type === DOUBLE ? view.getFloat64(i * 8, true) : Number(view.getBigInt64(i * 8, true));
    return { dims, values: out };
  }
  const list: ArrayLike<number | { toNumber(): number }> = type === FLOAT ? t.floatData ?? [] : type === INT32 ? t.int32Data ?? [] : type === DOUBLE ? t.doubleData ?? [] : t.int64Data ?? [];
  if (list.length !== count) throw new FormatError(`${where}: ${list.length} values for dims ${formatShape(dims)}, which need ${count}`);
  for (let i = 0; i < count; i++) out[i] = num(list[i]);
  return { dims, values: out };
}

export const attr = (node: NodeMessage, name: string) => node.attribute?.find((a) => a.name === name);
export const intOf = (node: NodeMessage, name: string, fallback: number) => {
  const a = attr(node, name);
  return a ? num(a.i) : fallback;
};
export const intsOf = (node: NodeMessage, name: string) => attr(node, name)?.ints?.map(num);
export const floatOf = (node: NodeMessage, name: string, fallback: number) => attr(node, name)?.f ?? fallback;
export const stringOf = (node: NodeMessage, name: string) => {
  const s = attr(node, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
};

