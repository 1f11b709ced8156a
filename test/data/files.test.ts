// The user's own data: arrays found by name in .npz, .h5, .npy folders and
// CSV; bytes scaled, int64 labels, channels added or moved; hostile files
// refused; class weights and augmentation in fit.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { data, FormatError, layers, sequential, Tensor, ValueError, zooModel } from '../../lib/index.js';
import { loadDataFile, roleOf } from '../../lib/data/files.js';
import { classWeights, WeightedSampler } from '../../lib/data/sampling.js';
import { augmentBatch } from '../../lib/data/augment.js';
import { Random } from '../../lib/core/random.js';

const dir = mkdtempSync(join(tmpdir(), 'datafiles-'));

describe('arrays are found by their names', () => {
  it.each([
    ['x_train', 'train', 'x'], ['y_test', 'test', 'y'], ['train_images', 'train', 'x'], ['val_labels', 'val', 'y'],
    ['train_set_x', 'train', 'x'], ['test_set_y', 'test', 'y'], ['X', 'all', 'x'], ['labels', 'all', 'y'], ['xTrain', null, null],
  ])('%s → %s %s', (name, split, role) => {
    const r = roleOf(name);
    if (split === null) expect(r).toBeNull();
    else expect(r).toEqual({ split, role });
  });
});

describe('loadDataFile', () => {
  it('an .npz with uint8 images [N, H, W] and int64 labels [N, 1]: scaled, a channel added, labels as int32', async () => {
    const path = join(dir, 'gray.npz');
    const pixels = Uint8Array.from({ length: 6 * 4 * 4 }, (_, i) => i % 256);
    writeFileSync(path, data.encodeNpz({
      train_images: { data: pixels.subarray(0, 4 * 16), shape: [4, 4, 4] },
      train_labels: { data: BigInt64Array.from([0n, 1n, 1n, 0n]), shape: [4, 1] },
      test_images: { data: pixels.subarray(4 * 16), shape: [2, 4, 4] },
      test_labels: { data: BigInt64Array.from([1n, 0n]), shape: [2, 1] },
    }));
    const d = await loadDataFile(path);
    expect(d.train!.x.shape).toEqual([4, 4, 4, 1]);
    expect(d.train!.x.data[5]).toBeCloseTo(5 / 255, 7);
    expect(Array.from(d.train!.y)).toEqual([0, 1, 1, 0]);
    expect(d.test!.x.shape).toEqual([2, 4, 4, 1]);
    expect(d.classes).toEqual(['0', '1']);
    expect(d.source).toMatch(/train_images\/train_labels, test_images\/test_labels/);
  });

  it('float images in PyTorch layout [N, C, H, W] are moved to NHWC as they are', async () => {
    const path = join(dir, 'nchw.npz');
    const x = Float32Array.from({ length: 2 * 3 * 5 * 6 }, (_, i) => i / 1000);
    writeFileSync(path, data.encodeNpz({ x: { data: x, shape: [2, 3, 5, 6] }, y: { data: Int32Array.from([2, 0]), shape: [2] } }));
    const d = await loadDataFile(path);
    expect(d.train!.x.shape).toEqual([2, 5, 6, 3]);
    // sample 1, row 2, column 4, channel 1 came from [1, 1, 2, 4]
    expect(d.train!.x.data[((1 * 5 + 2) * 6 + 4) * 3 + 1]).toBeCloseTo(x[((1 * 3 + 1) * 5 + 2) * 6 + 4], 7);
    expect(d.classes).toEqual(['0', '1', '2']);
  });

  it('an HDF5 file with the course names, RGB uint8 and int64 labels', async () => {
    const h5 = (await import('h5wasm/node')).default;
    await h5.ready;
    const path = join(dir, 'signs.h5');
    const f = new h5.File(path, 'w');
    f.create_dataset({ name: 'train_set_x', data: Uint8Array.from({ length: 3 * 8 * 8 * 3 }, (_, i) => i % 256), shape: [3, 8, 8, 3], dtype: '<B' });
    f.create_dataset({ name: 'train_set_y', data: BigInt64Array.from([5n, 0n, 3n]), shape: [3], dtype: '<q' });
    f.create_dataset({ name: 'list_classes', data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n]), shape: [6], dtype: '<q' });
    f.close();
    const d = await loadDataFile(path);
    expect(d.train!.x.shape).toEqual([3, 8, 8, 3]);
    expect(Array.from(d.train!.y)).toEqual([5, 0, 3]);
    expect(d.classes).toHaveLength(6);
    expect(d.test).toBeUndefined();
  });

  it('a folder of .npy files and a CSV with a label column', async () => {
    const folder = join(dir, 'npy');
    mkdirSync(folder);
    writeFileSync(join(folder, 'x_train.npy'), data.encodeNpy(new Uint8Array(5 * 9).fill(255), [5, 9]));
    writeFileSync(join(folder, 'y_train.npy'), data.encodeNpy(Uint8Array.from([0, 1, 2, 1, 0]), [5]));
    const d = await loadDataFile(folder);
    expect(d.train!.x.shape).toEqual([5, 3, 3, 1]); // 9 values per sample: a 3×3 gray image
    expect(d.train!.x.data[0]).toBe(1);
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, `label,${Array.from({ length: 4 }, (_, i) => `p${i}`).join(',')}\n1,0,255,0,255\n0,255,0,255,0\n`);
    const c = await loadDataFile(csv);
    expect(c.train!.x.shape).toEqual([2, 2, 2, 1]);
    expect(c.train!.x.data[1]).toBe(1);
    expect(Array.from(c.train!.y)).toEqual([1, 0]);
  });

  it('refuses what it cannot read as labelled images, saying what the file has', async () => {
    const path = join(dir, 'unnamed.npz');
    writeFileSync(path, data.encodeNpz({ a: { data: new Float32Array(4), shape: [4] } }));
    await expect(loadDataFile(path)).rejects.toThrow(/no images and labels found by name \(it has: a\)/);
    const bad = join(dir, 'badlabels.npz');
    writeFileSync(bad, data.encodeNpz({ x: { data: new Float32Array(8), shape: [2, 2, 2] }, y: { data: Float32Array.from([0, 1.5]), shape: [2] } }));
    await expect(loadDataFile(bad)).rejects.toThrow(/label 1 is 1.5 \(number\); labels must be class indices/);
    const mismatched = join(dir, 'mismatch.npz');
    writeFileSync(mismatched, data.encodeNpz({ x: { data: new Float32Array(8), shape: [2, 2, 2] }, y: { data: Int32Array.from([0, 1, 1]), shape: [3] } }));
    await expect(loadDataFile(mismatched)).rejects.toThrow(/'x' has 2 images but 'y' 3 labels/);
    await expect(loadDataFile(join(dir, 'model.onnx'))).rejects.toThrow(FormatError);
  });
});

describe.skipIf(process.platform !== 'linux')('an HDF5 data bomb stops at the allocation limit, measured in a child process', () => {
  it('10 KB declaring 20000×64×64×3 bytes of images is refused before a byte is read', () => {
    const bomb = fileURLToPath(new URL('../fixtures/hdf5/bomb.h5', import.meta.url));
    const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const files = fileURLToPath(new URL('../../dist/data/files.js', import.meta.url));
    const script = `
      const ck = await import(${JSON.stringify(entry)});
      const { loadDataFile } = await import(${JSON.stringify(files)});
      const fs = await import('node:fs');
      ck.setAllocationLimit(64 * 2 ** 20);
      let error = '';
      try { await loadDataFile(${JSON.stringify(bomb)}); } catch (e) { error = e.name + ': ' + e.message; }
      const hwm = fs.readFileSync('/proc/self/status', 'utf8').split(String.fromCharCode(10)).find((l) => l.startsWith('VmHWM:'));
      console.log(JSON.stringify({ error, peakKiB: Number(hwm.replace(/[^0-9]/g, '')) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    if (process.env.CONVKIT_SHOW_PEAKS) console.log(`peak RSS ${(result.peakKiB / 1024).toFixed(1)} MiB: ${result.error}`);
    expect(result.error).toMatch(/^LimitError: .*bomb.h5: dataset 'train_set_x' \(20000×64×64×3\) needs 234.4 MiB, over the allocation limit of 64.0 MiB/);
    // Node, h5wasm's WebAssembly heap and the test harness, not the 234 MiB the file declares.
    expect(result.peakKiB).toBeLessThan(200 * 1024);
  });
});

describe('class weights are a weighted sampler', () => {
  it("'balanced' draws each class equally often from 9:1 data", () => {
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : 1));
    const w = classWeights('balanced', y, 2, 'fit');
    expect(w[0]).toBeCloseTo(1000 / (2 * 900), 12);
    expect(w[1]).toBeCloseTo(1000 / (2 * 100), 12);
    const order = new Int32Array(20000);
    new WeightedSampler(y, w).fill(order, new Random(3));
    const ones = order.reduce((n, i) => n + y[i], 0) / order.length;
    expect(ones).toBeGreaterThan(0.48);
    expect(ones).toBeLessThan(0.52);
    expect(() => classWeights([1], y, 2, 'fit')).toThrow(/classWeight must be 'balanced' or 2 non-negative numbers/);
    expect(() => classWeights([0, 0], y, 2, 'fit')).toThrow(/weight 0 to every class/);
  });

  it('fit takes classWeight and augment, and refuses unknown keys in them', async () => {
    const model = sequential([new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 1 }), new layers.Flatten(), new layers.Dense({ units: 3 })], { inputShape: [6, 6, 1], seed: 1 });
    const x = new Tensor(Float32Array.from({ length: 12 * 36 }, (_, i) => (i % 7) / 7), [12, 6, 6, 1]);
    const y = Int32Array.from({ length: 12 }, (_, i) => i % 3);
    const h = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, classWeight: [1, 2, 3], augment: { shift: 1, flip: true } });
    expect(h.loss).toHaveLength(2);
    await expect(model.fit(x, y, { verbose: 0, augment: { shfit: 1 } as never })).rejects.toThrow(/unknown option 'shfit'; did you mean 'shift'\? \(fit's augment takes 'shift', 'padMode', 'flip', 'cutout'\)/);
    await expect(model.fit(x, y, { verbose: 0, classWeight: 'equal' as never })).rejects.toThrow(ValueError);
  });
});

describe('augmentBatch', () => {
  it('equals the definition out[y][x] = in[y - dy][x - dx] (mirrored first when flipped), zeros outside, for random draws', () => {
    const [n, h, w, c, shift] = [3, 5, 4, 2, 2];
    for (let seed = 0; seed < 60; seed++) {
      const input = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);
      const x = Float32Array.from(input);
      augmentBatch(x, n, h, w, c, { shift, flip: true }, new Random(seed));
      const draws = new Random(seed); // the same draws, in the same order
      for (let b = 0; b < n; b++) {
        const dy = draws.int(2 * shift + 1) - shift;
        const dx = draws.int(2 * shift + 1) - shift;
        const flip = draws.next() < 0.5;
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++)
            for (let ch = 0; ch < c; ch++) {
              const sy = y - dy;
              const sx = (flip ? w - 1 - xx : xx) - dx;
              const expected = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : input[((b * h + sy) * w + sx) * c + ch];
              expect(x[((b * h + y) * w + xx) * c + ch], `seed ${seed} image ${b} (${dy}, ${dx}, ${flip}) at ${y},${xx},${ch}`).toBe(expected);
            }
      }
    }
  });

  it('shifts with zeros coming in and mirrors left-right, in place', () => {
    // One 3×3 single-channel image 1..9; find a draw that shifts right by one without a flip, and one that flips only.
    const image = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const outcomes = new Map<string, number[]>();
    for (let seed = 0; seed < 200; seed++) {
      const x = Float32Array.from(image);
      augmentBatch(x, 1, 3, 3, 1, { shift: 1, flip: true }, new Random(seed));
      outcomes.set(Array.from(x).join(','), Array.from(x));
    }
    expect(outcomes.has('0,1,2,0,4,5,0,7,8')).toBe(true); // right by one
    expect(outcomes.has('3,2,1,6,5,4,9,8,7')).toBe(true); // mirrored
    expect(outcomes.has('4,5,6,7,8,9,0,0,0')).toBe(true); // up by one
    expect(outcomes.has('1,2,3,4,5,6,7,8,9')).toBe(true); // unchanged
    for (const values of outcomes.values()) expect(values.every((v) => v === 0 || image.includes(v))).toBe(true);
  });

  it("padMode 'reflect' and cutout equal their definitions: reflected indices, then a zeroed square clipped at the edges", () => {
    const [n, h, w, c, shift, cutout] = [3, 5, 6, 2, 3, 3];
    const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
    for (let seed = 0; seed < 60; seed++) {
      const input = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);
      const x = Float32Array.from(input);
      augmentBatch(x, n, h, w, c, { shift, padMode: 'reflect', flip: true, cutout }, new Random(seed));
      const draws = new Random(seed);
      for (let b = 0; b < n; b++) {
        const dy = draws.int(2 * shift + 1) - shift;
        const dx = draws.int(2 * shift + 1) - shift;
        const flip = draws.next() < 0.5;
        const cy = draws.int(h) - (cutout >> 1);
        const cx = draws.int(w) - (cutout >> 1);
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++)
            for (let ch = 0; ch < c; ch++) {
              // m is the image, mirrored when flipped; a mirrored image shifts the other way.
              const my = reflect(y - dy, h);
              const mx = reflect(xx - (flip ? -dx : dx), w);
              const sx = flip ? w - 1 - mx : mx;
              const cut = y >= cy && y < cy + cutout && xx >= cx && xx < cx + cutout;
              const expected = cut ? 0 : input[((b * h + my) * w + sx) * c + ch];
              expect(x[((b * h + y) * w + xx) * c + ch], `seed ${seed} image ${b} (${dy}, ${dx}, ${flip}, cut at ${cy},${cx}) at ${y},${xx},${ch}`).toBe(expected);
            }
      }
    }
  });

  it('fit refuses a reflected shift as large as a side, and unknown pad modes', async () => {
    const model = sequential([layers.flatten(), layers.dense({ units: 2 })], { inputShape: [4, 6, 1], seed: 1 });
    const x = new Tensor(new Float32Array(2 * 24), [2, 4, 6, 1]);
    const y = Int32Array.from([0, 1]);
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, augment: { shift: 4, padMode: 'reflect' } })).rejects.toThrow(/augment.shift must be .*3/);
    // @ts-expect-error not a pad mode
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, augment: { shift: 1, padMode: 'wrap' } })).rejects.toThrow(/augment.padMode/);
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, augment: { cutout: 7 } })).rejects.toThrow(/augment.cutout/);
    await model.fit(x, y, { epochs: 1, verbose: 0, augment: { shift: 4, cutout: 6 } }); // zeros may shift a whole side out
  });
});

describe('zoo models adapt to the data', () => {
  it('channels, classes and size; two classes end in one sigmoid output for the binary model', () => {
    const rgb = zooModel('mnist-3layer', { channels: 3, classes: 6, height: 64, width: 64 });
    expect(rgb.inputShape).toEqual([64, 64, 3]);
    expect(rgb.outputUnits).toBe(6);
    expect(zooModel('xray-binary').outputUnits).toBe(1);
    expect(zooModel('xray-binary', { classes: 3 }).outputUnits).toBe(3);
    expect(() => zooModel('mnist-3layer', { classes: 1 })).toThrow(/classes must be at least 2/);
  });
});

describe('image folders (one sub-folder per class)', () => {
  it('PNG and JPEG under train/ and test/, gray or RGB, another size resized, classes by folder name', async () => {
    const { encodePng } = await import('../../lib/viz/png.js');
    const jpeg = (await import('jpeg-js')).default;
    const root = join(dir, 'pets');
    const write = (path: string, w: number, h: number, rgb: [number, number, number]) => {
      const rgba = new Uint8Array(w * h * 4);
      for (let p = 0; p < w * h; p++) rgba.set([...rgb, 255], p * 4);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, path.endsWith('.png') ? encodePng(rgba, w, h) : jpeg.encode({ data: rgba, width: w, height: h }, 100).data);
    };
    write(join(root, 'train', 'dog', 'a.png'), 8, 6, [200, 40, 40]);
    write(join(root, 'train', 'dog', 'b.png'), 16, 12, [200, 40, 40]); // twice the size: resized
    write(join(root, 'train', 'cat', 'c.jpg'), 8, 6, [40, 200, 40]);
    write(join(root, 'test', 'dog', 'd.jpg'), 8, 6, [200, 40, 40]);
    const d = await loadDataFile(root);
    expect(d.classes).toEqual(['cat', 'dog']);
    expect(d.train!.x.shape).toEqual([3, 6, 8, 3]);
    expect(Array.from(d.train!.y)).toEqual([0, 1, 1]);
    expect(d.train!.x.data[3 * 48 * 1]).toBeCloseTo(200 / 255, 6); // the first dog, red channel
    expect(d.train!.x.data[3 * 48 * 2]).toBeCloseTo(200 / 255, 6); // the resized dog
    expect(d.test!.x.shape).toEqual([1, 6, 8, 3]);
    expect(Math.abs(d.test!.x.data[0] - 200 / 255)).toBeLessThan(0.03); // JPEG is lossy
    expect(Array.from(d.test!.y)).toEqual([1]);
    const grayRoot = join(dir, 'gray');
    write(join(grayRoot, 'zero', 'a.png'), 4, 4, [10, 10, 10]);
    write(join(grayRoot, 'one', 'b.png'), 4, 4, [250, 250, 250]);
    const g = await loadDataFile(grayRoot);
    expect(g.train!.x.shape).toEqual([2, 4, 4, 1]);
    expect(g.classes).toEqual(['one', 'zero']);
    writeFileSync(join(grayRoot, 'one', 'broken.png'), 'not a png');
    await expect(loadDataFile(grayRoot)).rejects.toThrow(/broken.png: not a readable PNG image/);
  });
});

describe('StandardScaler per feature and per channel', () => {
  it('per channel: one mean and std per channel of NHWC images, saved and restored', () => {
    // 2 images of 1×2 pixels, RGB: channel c of every pixel is c*10 + (0 or 2)
    const x = new Tensor(Float32Array.from([0, 10, 20, 2, 12, 22, 0, 10, 20, 2, 12, 22]), [2, 1, 2, 3]);
    const s = new data.StandardScaler({ per: 'channel' }).fit(x);
    expect(Array.from(s.mean!)).toEqual([1, 11, 21]);
    expect(Array.from(s.std!)).toEqual([1, 1, 1]);
    const again = data.StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(Array.from(again.transform(x).data)).toEqual([-1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1]);
    expect(() => again.transform(new Tensor(new Float32Array(4), [1, 2, 2, 1]))).toThrow(/fitted on 3 channels, x has 1/);
    // per feature (the default) keeps a mean for each of the 6 values
    expect(new data.StandardScaler().fit(x).toJSON().mean).toHaveLength(6);
    expect(() => new data.StandardScaler({ per: 'pixel' as never })).toThrow(/per must be one of/);
  });
});
