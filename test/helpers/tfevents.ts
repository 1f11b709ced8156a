// An independent reader of TensorBoard event files for the tests: TFRecord
// framing with every length and data CRC checked (CRC32C computed from its
// definition), Event and Summary protobufs decoded field by field.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit. */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const masked = (bytes: Uint8Array) => {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

/** Protobuf wire format: a list of [field, wireType, value] for one message. */
function fields(buf: Uint8Array): [number, number, number | bigint | Uint8Array][] {
  const out: [number, number, number | bigint | Uint8Array][] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push([field, wire, varint()]);
    else if (wire === 1) {
      out.push([field, wire, view.getFloat64(i, true)]);
      i += 8;
    } else if (wire === 2) {
      const n = Number(varint());
      out.push([field, wire, buf.subarray(i, i + n)]);
      i += n;
    } else if (wire === 5) {
      out.push([field, wire, view.getFloat32(i, true)]);
      i += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

export interface Decoded {
  step: number;
  fileVersion?: string;
  values: { tag: string; scalar?: number; image?: { height: number; width: number; png: Uint8Array } }[];
}

export function readEvents(path: string): Decoded[] {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer);
  const events: Decoded[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = Number(view.getBigUint64(at, true));
    expect(view.getUint32(at + 8, true), `length CRC at ${at}`).toBe(masked(bytes.subarray(at, at + 8)));
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(view.getUint32(at + 12 + length, true), `data CRC at ${at}`).toBe(masked(data));
    at += 12 + length + 4;
    const event: Decoded = { step: 0, values: [] };
    for (const [field, , value] of fields(data)) {
      if (field === 2) event.step = Number(value);
      if (field === 3) event.fileVersion = new TextDecoder().decode(value as Uint8Array);
      if (field === 5) {
        for (const [vf, , v] of fields(value as Uint8Array)) {
          if (vf !== 1) continue;
          const entry: Decoded['values'][number] = { tag: '' };
          for (const [f, , x] of fields(v as Uint8Array)) {
            if (f === 1) entry.tag = new TextDecoder().decode(x as Uint8Array);
            if (f === 2) entry.scalar = x as number;
            if (f === 4) {
              const img: { height: number; width: number; png: Uint8Array } = { height: 0, width: 0, png: new Uint8Array() };
              for (const [g, , y] of fields(x as Uint8Array)) {
                if (g === 1) img.height = Number(y);
                if (g === 2) img.width = Number(y);
                if (g === 4) img.png = y as Uint8Array;
              }
              entry.image = img;
            }
          }
          event.values.push(entry);
        }
      }
    }
    events.push(event);
  }
  expect(at).toBe(bytes.length);
  return events;
}

