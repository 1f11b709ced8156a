import { closeSync, fsyncSync, ftruncateSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { ConvkitError } from '../core/errors.js';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';

// The parts of TensorFlow's event.proto and summary.proto that scalars and
// images use, with their field numbers, encoded by protobufjs.
const SCHEMA = `
syntax = "proto3";
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      Image image = 4;
    }
  }
  repeated Value value = 1;
}`;

/** The Event message, parsed by protobufjs when the first writer opens (not at import). */
let eventType: import('protobufjs').Type | null = null;
function Event(): import('protobufjs').Type {
  if (!eventType) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
    eventType = protobuf.parse(SCHEMA).root.lookupType('Event');
  }
  return eventType;
}

/** TFRecord's masked CRC32C: rotate right by 15 and add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length (uint64 LE), its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/**
 * Writes TensorBoard event files (`events.out.tfevents.<time>.<host>`) that
 * TensorBoard reads: scalars and PNG images. Records are buffered and
 * appended on flush().
 *
 * An event file is a stream that a running TensorBoard holds open and reads
 * as it grows, so it is appended to, never replaced by a rename (a renamed
 * file would hide every later record from that reader). Each flush is
 * all-or-nothing instead: its records are appended and fsynced, and a failed
 * append (a full disk) is cut back to the last whole record, so the file
 * never holds a torn record that would end TensorBoard's reading of it. A
 * resumed run writes a new file; TensorBoard drops the older file's records
 * past the resume point when the steps go back (its out-of-order purge, per tag).
 */
export class EventWriter {
  readonly path: string;
  private pending: Uint8Array[] = [];

  constructor(dir: string) {
    const now = Date.now() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new ConvkitError(`${dir}: cannot make the TensorBoard folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    this.write({ wallTime: now, step: 0, fileVersion: 'brain.Event:2' });
    this.flush();
  }

  private write(event: Record<string, unknown>): void {
    const type = Event();
    this.pending.push(tfRecord(type.encode(type.fromObject({ wallTime: Date.now() / 1000, ...event })).finish()));
  }

  /** Writes one scalar at a step (TensorBoard's Scalars tab). */
  scalar(tag: string, value: number, step: number): void {
    this.write({ step, summary: { value: [{ tag, simpleValue: value }] } });
  }

  /** A PNG image (colorspace: 1 gray, 3 RGB, 4 RGBA). */
  image(tag: string, png: Uint8Array, width: number, height: number, step: number, colorspace = 4): void {
    this.write({ step, summary: { value: [{ tag, image: { height, width, colorspace, encodedImageString: png } }] } });
  }

  /** Appends the buffered records, all of them or (on an error, which names the file) none. */
  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.concat(this.pending);
    let fd = -1;
    let size = 0;
    try {
      fd = openSync(this.path, 'a');
      size = fstatSync(fd).size;
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
      this.pending = [];
    } catch (error) {
      if (fd >= 0) {
        try {
          ftruncateSync(fd, size);
        } catch {}
      }
      const e = error as NodeJS.ErrnoException;
      throw new ConvkitError(`${this.path}: cannot write (${e.code ?? ''}${e.code ? ': ' : ''}${e.message.replace(/^E[A-Z]+: /, '')})`);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
}
