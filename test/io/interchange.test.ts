// NumPy .npz, HDF5 and ONNX: round trips, and independent readers (NumPy,
// h5py, onnxruntime) see the same numbers convkit does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeOnnx, exportHdf5, exportNpz, exportOnnx, FormatError, importHdf5, importNpz, ShapeError, Tensor, zooModel, ZOO, ZOO_NAMES } from '../../lib/index.js';
import { randomTensor, rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'interchange-'));
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
const hasH5py = python !== undefined && spawnSync(python, ['-c', 'import h5py'], { encoding: 'utf8' }).status === 0;
if (!python) console.warn('skipping the NumPy reader check: no python3 with numpy (apt-get install python3-numpy)');
if (!hasH5py) console.warn('skipping the h5py reader check: no python3 with h5py (apt-get install python3-h5py)');

/** Runs Python that prints JSON. */
function py(code: string): unknown {
  const r = spawnSync(python!, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function sameData(a: Float32Array, b: ArrayLike<number>): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('NumPy .npz', () => {
  it("writes the courses' keys: mlp-30 as w1, b1, w2, b2 and cnn-14 as w_conv, b_conv, w_fc, b_fc", async () => {
    expect(await exportNpz(zooModel('mlp-30'), join(dir, 'mlp.npz'), { names: 'course' })).toEqual(['w1', 'b1', 'w2', 'b2']);
    expect(await exportNpz(zooModel('cnn-14'), join(dir, 'cnn.npz'), { names: 'course' })).toEqual(['w_conv', 'b_conv', 'w_fc', 'b_fc']);
  });

  it('round-trips through importNpz with the same predictions', async () => {
    const a = zooModel('cnn-14', { seed: 1 });
    const b = zooModel('cnn-14', { seed: 2 });
    await exportNpz(a, join(dir, 'rt.npz'), { names: 'course' });
    await importNpz(b, join(dir, 'rt.npz'), { names: 'course' });
    const x = randomTensor(rng(3), [5, 14, 14, 1], 0, 1);
    expect(Array.from(b.predict(x).data)).toEqual(Array.from(a.predict(x).data));
  });

  it('refuses a missing key or a wrong shape, naming them', async () => {
    const m = zooModel('mlp-30');
    await exportNpz(zooModel('cnn-14'), join(dir, 'other.npz'), { names: 'course' });
    await expect(importNpz(m, join(dir, 'other.npz'), { names: 'course' })).rejects.toThrow(/other.npz: no array 'w1' for dense_1.weight \(the file has: w_conv, b_conv, w_fc, b_fc\)/);
    await expect(importNpz(m, join(dir, 'other.npz'), { names: ['w_fc', 'b_fc', 'w_conv', 'b_conv'] })).rejects.toThrow(ShapeError);
    await expect(importNpz(m, join(dir, 'missing.npz'))).rejects.toThrow(FormatError);
  });

  it.skipIf(!python)('is read by NumPy with the same arrays', async () => {
    const m = zooModel('mnist-3layer', { seed: 4 });
    const path = join(dir, 'np.npz');
    await exportNpz(m, path, { names: 'numbered' });
    const arrays = py(`import numpy as np, json; z = np.load(${JSON.stringify(path)}); print(json.dumps({k: {"shape": list(z[k].shape), "dtype": str(z[k].dtype), "data": z[k].ravel().tolist()} for k in z.files}))`) as Record<string, { shape: number[]; dtype: string; data: number[] }>;
    const params = m.parameters();
    expect(Object.keys(arrays)).toHaveLength(params.length);
    params.forEach((p, i) => {
      const key = `${p.name.endsWith('.bias') ? 'b' : 'W'}${Math.floor(i / 2) + 1}`;
      expect(arrays[key].dtype).toBe('float32');
      expect(arrays[key].shape).toEqual([...p.value.shape]);
      expect(sameData(p.value.data, arrays[key].data)).toBe(true);
    });
  });
});

describe('HDF5', () => {
  it('round-trips datasets W1, b1, ... with the same predictions', async () => {
    const a = zooModel('mnist-2layer', { seed: 1 });
    const b = zooModel('mnist-2layer', { seed: 2 });
    expect(await exportHdf5(a, join(dir, 'w.h5'))).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    await importHdf5(b, join(dir, 'w.h5'));
    const x = randomTensor(rng(5), [3, 28, 28, 1], 0, 1);
    expect(Array.from(b.predict(x).data)).toEqual(Array.from(a.predict(x).data));
    await expect(importHdf5(zooModel('mnist-3layer'), join(dir, 'w.h5'))).rejects.toThrow(/w.h5: 'W1' has shape \[5, 5, 1, 16\] but conv2d_1.weight is \[3, 3, 1, 16\]/);
    await expect(importHdf5(a, join(dir, 'nothing.h5'))).rejects.toThrow(FormatError);
  });

  it.skipIf(!hasH5py)('is read by h5py with the same values and the architecture attribute', async () => {
    const m = zooModel('cnn-14', { seed: 6 });
    const path = join(dir, 'h5py.h5');
    await exportHdf5(m, path);
    const read = py(`import h5py, json; f = h5py.File(${JSON.stringify(path)}, "r"); print(json.dumps({"arch": json.loads(f.attrs["architecture"])["name"], "sets": {k: {"shape": list(f[k].shape), "dtype": str(f[k].dtype), "data": f[k][()].ravel().tolist()} for k in f.keys()}}))`) as { arch: string; sets: Record<string, { shape: number[]; dtype: string; data: number[] }> };
    expect(read.arch).toBe('cnn-14');
    expect(read.sets.W1.shape).toEqual([3, 3, 1, 3]);
    expect(read.sets.W2.dtype).toBe('float32');
    expect(sameData(m.parameters()[2].value.data, read.sets.W2.data)).toBe(true);
  });
});

describe('ONNX', () => {
  const require = createRequire(import.meta.url);
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

  it('onnxruntime runs every exported zoo model with convkit\'s predictions (within 1e-4)', async () => {
    for (const name of ZOO_NAMES) {
      const model = zooModel(name, { seed: 7 });
      const path = join(dir, `${name}.onnx`);
      await exportOnnx(model, path);
      const shape = [3, ...ZOO[name].inputShape];
      const x = randomTensor(rng(8), shape, 0, 1);
      const ours = model.predictLogits(x).data;
      const session = await ort.InferenceSession.create(path);
      const { logits } = await session.run({ input: new ort.Tensor('float32', x.data, shape) });
      const theirs = logits.data as Float32Array;
      expect(theirs.length, name).toBe(ours.length);
      // Within 1e-4 of logits near 1; untrained deep nets (resnet-56, BN at its initial statistics) give logits near 1e5, held to the same relative error.
      const scale = Math.max(1, ...Array.from(ours, Math.abs));
      for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i]), `${name}[${i}]`).toBeLessThan(1e-4 * scale);
    }
  });

  it('gives a trained mnist-3layer the same classes under onnxruntime', async () => {
    const model = zooModel('mnist-3layer', { seed: 9 });
    const x = randomTensor(rng(10), [64, 28, 28, 1], 0, 1);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
    const session = await ort.InferenceSession.create(encodeOnnx(model));
    const { logits } = await session.run({ input: new ort.Tensor('float32', x.data, [64, 28, 28, 1]) });
    const ours = model.predictLogits(x);
    const theirs = new Tensor(Float32Array.from(logits.data as Float32Array), [64, 10]);
    expect(Array.from(model.defaultLoss().classes(theirs))).toEqual(Array.from(model.defaultLoss().classes(ours)));
  });
});
