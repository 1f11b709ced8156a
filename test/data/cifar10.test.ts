// CIFAR-10: the official binary batches (records written here byte by byte),
// image-folder trees decoded on worker threads and cached in the batches'
// own format, where the cache goes, the refusals; and, where CONVKIT_DATA
// has it, the JPEG copy of the whole data set.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { data, FormatError } from '../../lib/index.js';
import { CIFAR10_CLASSES, encodeCifar10, parseCifar10 } from '../../lib/data/cifar10.js';
import { rng } from '../helpers/random.js';

const temp = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));

/** One record as the CIFAR-10 page defines it: the label, then the red, green and blue planes, each row-major. */
function record(label: number, pixel: (y: number, x: number, c: number) => number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) r[1 + c * 1024 + y * 32 + x] = pixel(y, x, c);
  return r;
}

const pixelOf = (i: number) => (y: number, x: number, c: number) => (i * 31 + y * 7 + x * 3 + c * 101) % 256;

function writeBatches(dir: string, perBatch: number): void {
  mkdirSync(dir, { recursive: true });
  let i = 0;
  const batch = (count: number) => {
    const bytes = new Uint8Array(count * 3073);
    for (let k = 0; k < count; k++, i++) bytes.set(record(i % 10, pixelOf(i)), k * 3073);
    return bytes;
  };
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), batch(perBatch));
  writeFileSync(join(dir, 'test_batch.bin'), batch(perBatch));
}

function writePngTree(dir: string, size = 32): void {
  const random = rng(4);
  for (const split of ['train', 'test'])
    CIFAR10_CLASSES.forEach((name, c) => {
      mkdirSync(join(dir, split, name), { recursive: true });
      for (let k = 0; k < 2; k++) {
        const png = new PNG({ width: size, height: size });
        for (let p = 0; p < size * size * 4; p++) png.data[p] = p % 4 === 3 ? 255 : Math.floor(random() * 256);
        png.data[0] = c * 20 + k; // the first red byte tells the image apart
        writeFileSync(join(dir, split, name, `${k}.png`), PNG.sync.write(png));
      }
    });
}

describe('CIFAR-10 binary batches', () => {
  it('reads the records of data_batch_1..5 and test_batch as NHWC images in [0, 1]', async () => {
    const dir = join(temp('cifar-bin'), 'cifar-10-batches-bin');
    writeBatches(dir, 3);
    const ds = await data.loadDataset('cifar10', { dataDir: join(dir, '..'), log: () => {} });
    expect(ds.classes).toEqual(CIFAR10_CLASSES);
    expect(ds.train.x.shape).toEqual([15, 32, 32, 3]);
    expect(ds.test.x.shape).toEqual([3, 32, 32, 3]);
    expect(Array.from(ds.train.y)).toEqual(Array.from({ length: 15 }, (_, i) => i % 10));
    for (const [i, y, x, c] of [[0, 0, 0, 0], [4, 5, 17, 2], [14, 31, 31, 1]]) {
      expect(ds.train.x.data[((i * 32 + y) * 32 + x) * 3 + c]).toBe(Math.fround(pixelOf(i)(y, x, c) / 255));
    }
    expect(ds.test.x.data[0]).toBe(Math.fround(pixelOf(15)(0, 0, 0) / 255));
  });

  it('encodes what it parses, and refuses a torn record or a label past 9', () => {
    const bytes = new Uint8Array([...record(3, pixelOf(1)), ...record(9, pixelOf(2))]);
    const split = parseCifar10(bytes, 'two');
    expect(Array.from(split.labels)).toEqual([3, 9]);
    expect(encodeCifar10(split)).toEqual(bytes);
    expect(() => parseCifar10(bytes.subarray(0, 3000), 'torn')).toThrow(/torn: 3000 bytes is not a whole number of 3073-byte CIFAR-10 records/);
    const bad = record(10, pixelOf(0));
    expect(() => parseCifar10(bad, 'bad')).toThrow(/record 0 has label 10, outside 0..9/);
  });

  it('says where it looked when there is no copy', async () => {
    const dir = temp('cifar-none');
    await expect(data.loadDataset('cifar10', { dataDir: dir, log: () => {} })).rejects.toThrow(FormatError);
    await expect(data.loadDataset('cifar10', { dataDir: dir, log: () => {} })).rejects.toThrow(/CIFAR-10 not found: tried .*cifar-none.*data_batch_1\.bin/);
  });
});

describe('CIFAR-10 image folders', () => {
  it('decodes train/ and test/ on worker threads, in class order, then reads the cache beside the data', async () => {
    const dir = temp('cifar-png');
    writePngTree(dir);
    const said: string[] = [];
    const first = await data.loadDataset('cifar10', { dataDir: dir, cacheDir: temp('cache'), log: (m) => said.push(m) });
    expect(first.train.x.shape).toEqual([20, 32, 32, 3]);
    expect(Array.from(first.train.y)).toEqual(CIFAR10_CLASSES.flatMap((_, c) => [c, c]));
    // Lossless PNGs: the pixels are the files' bytes.
    CIFAR10_CLASSES.forEach((_, c) => expect(first.train.x.data[(2 * c + 1) * 3072]).toBe(Math.fround((c * 20 + 1) / 255)));
    expect(said.join('\n')).toMatch(/decoded 40 images in .* s; cached in .*\.convkit-cache/);
    expect(readdirSync(join(dir, '.convkit-cache')).length).toBe(1);

    const again: string[] = [];
    const second = await data.loadDataset('cifar10', { dataDir: dir, log: (m) => again.push(m) });
    expect(again.join('\n')).toMatch(/decoded pixels cached in/);
    expect(second.train.x.data).toEqual(first.train.x.data);
    expect(second.test.x.data).toEqual(first.test.x.data);
  });

  it('caches in the cache folder when the data\'s folder is read-only, and decodes anew when a file changes', async () => {
    const dir = temp('cifar-ro');
    writePngTree(dir);
    const cache = temp('cache');
    chmodSync(dir, 0o555);
    try {
      await data.loadDataset('cifar10', { dataDir: dir, cacheDir: cache, log: () => {} });
      expect(existsSync(join(dir, '.convkit-cache'))).toBe(false);
      expect(readdirSync(join(cache, 'cifar10')).length).toBe(1);
    } finally {
      chmodSync(dir, 0o755);
    }
    writePngTree(dir); // rewritten: new times, so a new key
    const said: string[] = [];
    await data.loadDataset('cifar10', { dataDir: dir, cacheDir: cache, log: (m) => said.push(m) });
    expect(said.join('\n')).toMatch(/decoded 40 images/);
  });

  it('refuses an image that is not 32×32, naming the file', async () => {
    const dir = temp('cifar-big');
    writePngTree(dir, 33);
    await expect(data.loadDataset('cifar10', { dataDir: dir, cacheDir: temp('cache'), log: () => {} })).rejects.toThrow(/airplane.0\.png: 33x33 pixels, expected 32x32/);
  });
});

const jpegCopy = process.env.CONVKIT_DATA ? join(process.env.CONVKIT_DATA, 'cifar10-jpeg') : null;

describe.skipIf(!jpegCopy || !existsSync(jpegCopy))(`the JPEG copy in CONVKIT_DATA (${jpegCopy ?? 'CONVKIT_DATA unset: skipped'})`, () => {
  it('has 50,000 and 10,000 images with the per-channel means its README gives, and starts from the cache the second time', async () => {
    const cacheDir = temp('cache');
    const ds = await data.loadDataset('cifar10', { dataDir: process.env.CONVKIT_DATA, cacheDir, log: () => {} });
    expect(ds.train.x.shape).toEqual([50000, 32, 32, 3]);
    expect(ds.test.x.shape).toEqual([10000, 32, 32, 3]);
    for (const [part, n] of [[ds.train.y, 5000], [ds.test.y, 1000]] as const) {
      const counts = new Array(10).fill(0);
      part.forEach((c) => counts[c]++);
      expect(counts).toEqual(new Array(10).fill(n));
    }
    const sums = [0, 0, 0];
    ds.train.x.data.forEach((v, i) => (sums[i % 3] += v));
    // README: 0.489, 0.481, 0.447 (decoded by another JPEG decoder, whose rounding differs a little).
    sums.map((s) => s / (50000 * 1024)).forEach((m, c) => expect(Math.abs(m - [0.489, 0.481, 0.447][c])).toBeLessThan(0.005));
    const said: string[] = [];
    await data.loadDataset('cifar10', { dataDir: process.env.CONVKIT_DATA, cacheDir, log: (m) => said.push(m) });
    expect(said.join('\n')).toMatch(/decoded pixels cached in/);
  }, 120_000);
});
