import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, FormatError, LimitError, Tensor } from '../../lib/index.js';

describe('IDX reader', () => {
  const images = data.encodeIdx([2, 2, 3], Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]));

  it('reads plain and gzip files', () => {
    const plain = data.parseIdx(images);
    expect(plain.dims).toEqual([2, 2, 3]);
    expect(Array.from(plain.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    writeFileSync(join(dir, 'a.gz'), gzipSync(images));
    expect(data.readIdx(join(dir, 'a.gz')).dims).toEqual([2, 2, 3]);
  });

  it('refuses bad magic, truncation, trailing bytes, huge headers and missing files, naming the file', () => {
    const bad = images.slice();
    bad[0] = 7;
    expect(() => data.parseIdx(bad, 'x.idx')).toThrow(/x.idx: bad magic number 0x07000803/);
    const float = images.slice();
    float[2] = 0x0d;
    expect(() => data.parseIdx(float, 'f.idx')).toThrow(/element type 0xd is not supported/);
    expect(() => data.parseIdx(images.subarray(0, 19), 't.idx')).toThrow(/t.idx: header claims 12 bytes of data \(dims 2x2x3\) but the file holds 3/);
    expect(() => data.parseIdx(Uint8Array.from([...images, 1]), 't.idx')).toThrow(/1 bytes of trailing data/);
    // A header claiming 2^33 bytes, with none after it (encodeIdx refuses to write one).
    const huge = Buffer.alloc(16);
    huge[2] = 0x08;
    huge[3] = 3;
    [65536, 65536, 2].forEach((d, i) => huge.writeUInt32BE(d, 4 + 4 * i));
    expect(() => data.parseIdx(huge, 'h.idx')).toThrow(LimitError);
    expect(() => data.parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), 'g.gz')).toThrow(/g.gz: not a valid gzip file/);
    expect(() => data.readIdx('/nonexistent/file')).toThrow(/\/nonexistent\/file: cannot read \(ENOENT\)/);
  });
});

describe('npy and npz', () => {
  it('round-trips arrays of every supported dtype', () => {
    for (const a of [Float32Array.from([1.5, -2]), Float64Array.from([0.1, 2]), Uint8Array.from([0, 255]), Int32Array.from([-3, 7]), Int16Array.from([-1, 2])]) {
      const back = data.parseNpy(data.encodeNpy(a, [2, 1]));
      expect(back.shape).toEqual([2, 1]);
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(a as ArrayLike<number>));
    }
  });

  it('converts float64 and uint8 to float32 by a stated rule (values kept, not rescaled)', () => {
    expect(Array.from(data.toFloat32(data.parseNpy(data.encodeNpy(Float64Array.from([0.1]), [1]))).data)).toEqual([Math.fround(0.1)]);
    expect(Array.from(data.toFloat32(data.parseNpy(data.encodeNpy(Uint8Array.from([255]), [1]))).data)).toEqual([255]);
    expect(Array.from(data.toLabels(data.parseNpy(data.encodeNpy(BigInt64Array.from([3n, 1n]), [2]))))).toEqual([3, 1]);
  });

  it('reads and writes npz archives by key', () => {
    const bytes = data.encodeNpz({ w1: { data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] }, b1: { data: Float32Array.from([5]), shape: [1] } });
    const back = data.parseNpz(bytes);
    expect(Object.keys(back).sort()).toEqual(['b1', 'w1']);
    expect(back.w1.shape).toEqual([2, 2]);
  });

  it('refuses bad files before allocating', () => {
    const good = data.encodeNpy(Float32Array.from([1, 2]), [2]);
    expect(() => data.parseNpy(good.subarray(0, 5), 'a.npy')).toThrow(/a.npy: not a .npy file/);
    // Buffer's latin1 is byte for byte; TextDecoder's 'latin1' is windows-1252 (0x93, the magic's first byte, becomes U+201C).
    const text = Buffer.from(good).toString('latin1');
    const latin1 = (t: string) => Uint8Array.from(t, (ch) => ch.charCodeAt(0));
    const huge = latin1(text.replace("'shape': (2,)", "'shape': (9999999999,)").slice(0, 128));
    expect(() => data.parseNpy(huge, 'h.npy')).toThrow(/h.npy: shape \(9999999999\) has 9999999999 elements/);
    const short = good.subarray(0, good.length - 4);
    expect(() => data.parseNpy(short, 's.npy')).toThrow(/needs 8 bytes but the file holds 4/);
    const complex = latin1(text.replace("'<f4'", "'<c8'"));
    expect(() => data.parseNpy(complex, 'c.npy')).toThrow(FormatError);
    expect(() => data.parseNpz(Uint8Array.from([1, 2, 3]), 'z.npz')).toThrow(/z.npz: not a zip archive/);
  });
});

describe('CSV reader', () => {
  it('reads a labelled CSV with a header into features and labels', () => {
    const csv = data.parseCsv('label,p0,p1,p2,p3\n3,0,1,2,3\n7,4,5,6,7\n', { sampleShape: [2, 2, 1] });
    expect(csv.x.shape).toEqual([2, 2, 2, 1]);
    expect(Array.from(csv.y!)).toEqual([3, 7]);
    expect(Array.from(csv.x.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('names the row and column of a bad cell', () => {
    expect(() => data.parseCsv('label,a\n1,2\n2,x\n', {}, 'f.csv')).toThrow(/f.csv: row 3, column 'a' is not a number: 'x'/);
    expect(() => data.parseCsv('a,b\n1,2\n3\n', { labelColumn: null }, 'f.csv')).toThrow(/row 3 has 1 cells, expected 2/);
  });
});

describe('batches and transforms', () => {
  const x = new Tensor(Float32Array.from({ length: 10 * 4 }, (_, i) => i), [10, 2, 2, 1]);
  const y = Int32Array.from({ length: 10 }, (_, i) => i);

  it('covers every sample exactly once per epoch, shuffled by the seed, with a short last batch', () => {
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const b of data.miniBatches(x, y, 4, { seed: 3 })) {
      sizes.push(b.y.length);
      b.y.forEach((label, i) => {
        expect(b.x.data[i * 4]).toBe(label * 4); // rows travel with their labels
        seen.push(label);
      });
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = [...data.miniBatches(x, y, 4, { seed: 3 })].flatMap((b) => Array.from(b.indices));
    expect(again).toEqual(seen);
    const ordered = [...data.miniBatches(x, y, 3, { shuffle: false })].flatMap((b) => Array.from(b.indices));
    expect(ordered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => data.miniBatches(x, y, 0).next()).toThrow(/batchSize must be a positive integer, got 0/);
  });

  it('resizes 28x28 to 14x14 by averaging 2x2 blocks', () => {
    const img = new Tensor(Float32Array.from({ length: 28 * 28 }, (_, i) => i % 7), [1, 28, 28, 1]);
    const small = data.resize(img, 14, 14);
    expect(small.shape).toEqual([1, 14, 14, 1]);
    const p = img.data;
    expect(small.data[0]).toBeCloseTo((p[0] + p[1] + p[28] + p[29]) / 4, 5);
    expect(small.data[14 * 5 + 3]).toBeCloseTo((p[10 * 28 + 6] + p[10 * 28 + 7] + p[11 * 28 + 6] + p[11 * 28 + 7]) / 4, 5);
  });

  it('standardises features and splits by fraction with a seed', () => {
    const s = new data.StandardScaler().fit(x);
    const z = s.transform(x);
    let mean = 0;
    for (let i = 0; i < 10; i++) mean += z.data[i * 4];
    expect(mean / 10).toBeCloseTo(0, 5);
    const [a, b, c] = data.split(x, y, [0.6, 0.2, 0.2], { seed: 1 });
    expect([a.y.length, b.y.length, c.y.length]).toEqual([6, 2, 2]);
    expect([...a.y, ...b.y, ...c.y].sort((p, q) => p - q)).toEqual(Array.from(y));
    expect(data.split(x, y, [0.6, 0.2, 0.2], { seed: 1 })[1].y).toEqual(b.y);
    expect(() => data.split(x, y, [0.5, 0.6])).toThrow(/fractions must be non-negative and sum to 1/);
    expect(() => data.scaleImages(Uint8Array.from([255, 0]), [1, 1, 1, 1])).toThrow(/2 pixels do not fill shape \[1, 1, 1, 1\]/);
    // [N, H, W] gains the channel axis, in both
    const gray = data.scaleImages(Uint8Array.from([0, 51, 102, 255]), [1, 2, 2]);
    expect(gray.shape).toEqual([1, 2, 2, 1]);
    expect(data.resize(new Tensor(gray.data, [1, 2, 2]), 1, 1).shape).toEqual([1, 1, 1, 1]);
    expect(data.resize(new Tensor(gray.data, [1, 2, 2]), 1, 1).data[0]).toBeCloseTo((0 + 51 + 102 + 255) / 4 / 255, 6);
  });
});
