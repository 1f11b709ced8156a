// TensorBoard event files read back by a reader written here, independent of
// the writer's libraries: TFRecord framing with every length and data CRC
// checked (CRC32C computed from its definition), Event and Summary protobufs
// decoded field by field, PNGs decoded to their sizes.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { EventWriter } from '../../lib/viz/tensorboard.js';
import { grayPng } from '../../lib/viz/png.js';
import { readEvents } from '../helpers/tfevents.js';

describe('TensorBoard event files', () => {
  it('hold the expected tags, steps and values, with valid framing and PNGs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-'));
    const writer = new EventWriter(dir);
    writer.scalar('train/loss', 0.5, 1);
    writer.scalar('train/loss', 0.25, 2);
    writer.scalar('validation/accuracy', 0.875, 2);
    const pixels = Float32Array.from({ length: 28 * 28 }, (_, i) => (i % 28) / 27);
    writer.image('top3/7/1', grayPng(pixels, 28, 28, 3), 84, 84, 2);
    writer.flush();
    writer.scalar('test/accuracy', 0.9, 3);
    writer.flush();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readEvents(join(dir, files[0]));
    expect(events[0].fileVersion).toBe('brain.Event:2');
    const scalars = events.flatMap((e) => e.values.filter((v) => v.scalar !== undefined).map((v) => [v.tag, e.step, v.scalar]));
    expect(scalars).toEqual([['train/loss', 1, 0.5], ['train/loss', 2, 0.25], ['validation/accuracy', 2, 0.875], ['test/accuracy', 3, Math.fround(0.9)]]);
    const image = events.flatMap((e) => e.values).find((v) => v.image)!;
    expect(image.tag).toBe('top3/7/1');
    expect([image.image!.width, image.image!.height]).toEqual([84, 84]);
    const png = PNG.sync.read(Buffer.from(image.image!.png));
    expect([png.width, png.height]).toEqual([84, 84]);
    expect(png.data[4 * (27 * 3)]).toBe(255); // the right edge of the ramp is white
  });
});
