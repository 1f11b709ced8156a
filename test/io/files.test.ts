// Every reader refuses bad files with a FormatError (or LimitError) naming
// the file and the problem, before any large allocation; fuzzing with
// mutated valid files never ends in another kind of error or a hang.
// A failed save leaves the previous checkpoint intact.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Adam, ConvkitError, data, loadModel, loadOptimizer, parseSafetensors, saveModel, saveOptimizer, zooModel } from '../../lib/index.js';
import { rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'files-'));

/** Random byte flips, truncations, extensions and header-length edits of a valid file. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (Math.floor(random() * 5)) {
    case 0: {
      const flips = 1 + Math.floor(random() * 8);
      for (let i = 0; i < flips; i++) out[Math.floor(random() * Math.min(out.length, 256))] = Math.floor(random() * 256);
      return out;
    }
    case 1:
      return out.subarray(0, Math.floor(random() * out.length));
    case 2: {
      const i = Math.floor(random() * out.length);
      out[i] ^= 1 << Math.floor(random() * 8);
      return out;
    }
    case 3:
      return Uint8Array.from([...out, ...Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))]);
    default: {
      for (let i = 0; i < 8 && i < out.length; i++) out[i] = 0xff; // an absurd length or dimension in the header
      return out;
    }
  }
}

function fuzz(label: string, valid: Uint8Array, parse: (bytes: Uint8Array) => unknown, runs = 300): void {
  const random = rng(label.length * 7919);
  let refused = 0;
  for (let i = 0; i < runs; i++) {
    const bytes = mutate(valid, random);
    try {
      parse(bytes);
    } catch (error) {
      if (!(error instanceof ConvkitError)) throw new Error(`${label}: mutation ${i} raised ${(error as Error).name}: ${(error as Error).message}`);
      refused++;
    }
  }
  expect(refused, `${label}: some mutations must be refused`).toBeGreaterThan(0);
}

describe('fuzzing the readers with mutated valid files', () => {
  const model = zooModel('cnn-14', { seed: 1 });
  const checkpoint = readFileSync(saveModel(model, join(dir, 'fuzz.safetensors')));

  it('safetensors', () => fuzz('safetensors', checkpoint, (b) => parseSafetensors(b, 'f.safetensors')));
  it('npy', () => fuzz('npy', data.encodeNpy(Float32Array.from({ length: 64 }, (_, i) => i), [8, 8]), (b) => data.parseNpy(b, 'f.npy')));
  it('npz', () => fuzz('npz', data.encodeNpz({ a: { data: new Float32Array(100), shape: [10, 10] }, b: { data: Uint8Array.from([1, 2]), shape: [2] } }), (b) => data.parseNpz(b, 'f.npz')));
  it('idx (plain and gzip)', () => {
    const idx = data.encodeIdx([4, 5, 5], new Uint8Array(100).map((_, i) => i));
    fuzz('idx', idx, (b) => data.parseIdx(b, 'f.idx'));
    fuzz('idx.gz', new Uint8Array(gzipSync(idx)), (b) => data.parseIdx(b, 'f.idx.gz'));
  });
  it('csv', () => fuzz('csv', new TextEncoder().encode('label,a,b\n1,2,3\n0,4,5\n'), (b) => data.parseCsv(new TextDecoder().decode(b), {}, 'f.csv')));
  it('hdf5: a mutated file loads or is refused with a FormatError', async () => {
    const { exportHdf5, importHdf5 } = await import('../../lib/index.js');
    const path = join(dir, 'fuzz.h5');
    await exportHdf5(zooModel('mlp-30'), path);
    const valid = readFileSync(path);
    const random = rng(5);
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const mutated = join(dir, `fuzz${i}.h5`);
      writeFileSync(mutated, mutate(valid, random));
      try {
        await importHdf5(zooModel('mlp-30'), mutated);
      } catch (error) {
        if (!(error instanceof ConvkitError)) throw new Error(`hdf5 mutation ${i}: ${(error as Error).name}: ${(error as Error).message}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('checkpoints: a mutated file either loads as the same architecture or is refused', () => {
    const random = rng(99);
    for (let i = 0; i < 200; i++) {
      const path = join(dir, `m${i}.safetensors`);
      writeFileSync(path, mutate(checkpoint, random));
      try {
        expect(loadModel(path).config().layers.length).toBe(model.config().layers.length);
      } catch (error) {
        if (!(error instanceof ConvkitError)) throw error;
        expect((error as Error).message).toContain(path);
      }
    }
  });
});

describe('bad files name the file and the problem', () => {
  it('a header claiming billions of elements is refused before allocating', () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [100000, 100000, 100], data_offsets: [0, 4] } });
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    expect(() => parseSafetensors(bytes, 'big.safetensors')).toThrow(/big.safetensors: tensor 'w' claims 1000000000000 elements/);
  });

  const withTensor = (dtype: string, data: Uint8Array, shape = [2]) => {
    const header = JSON.stringify({ w: { dtype, shape, data_offsets: [0, data.length] } });
    const bytes = new Uint8Array(8 + header.length + data.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    bytes.set(data, 8 + header.length);
    return bytes;
  };

  it('an unknown dtype is named, and integers are refused unless skipped', () => {
    expect(() => parseSafetensors(withTensor('Q4', new Uint8Array(4)), 'q.safetensors')).toThrow(/q.safetensors: tensor 'w' has dtype "Q4", which safetensors does not define/);
    expect(() => parseSafetensors(withTensor('I64', new Uint8Array(16)), 'i.safetensors')).toThrow(/i.safetensors: tensor 'w' has dtype I64; convkit reads float tensors/);
    expect(parseSafetensors(withTensor('I64', new Uint8Array(16)), 'i.safetensors', { nonFloat: 'skip' }).tensors).toEqual({});
    expect(() => parseSafetensors(withTensor('I64', new Uint8Array(8)), 'i.safetensors', { nonFloat: 'skip' })).toThrow(/dtype I64 needs 16 bytes, its offsets give 8/);
  });

  it('reads F64, F16 and BF16 tensors as float32', () => {
    const f64 = new Uint8Array(new Float64Array([1.5, -2.25]).buffer);
    expect([...parseSafetensors(withTensor('F64', f64), 'f').tensors.w.data]).toEqual([1.5, -2.25]);
    // 1.5 and -2.25 in half precision, and in bfloat16 (the top 16 bits of the float32).
    expect([...parseSafetensors(withTensor('F16', new Uint8Array(new Uint16Array([0x3e00, 0xc080]).buffer)), 'f').tensors.w.data]).toEqual([1.5, -2.25]);
    expect([...parseSafetensors(withTensor('BF16', new Uint8Array(new Uint16Array([0x3fc0, 0xc010]).buffer)), 'f').tensors.w.data]).toEqual([1.5, -2.25]);
  });

  it('a file that is not a checkpoint says so', () => {
    writeFileSync(join(dir, 'text.safetensors'), 'hello world, not a checkpoint');
    expect(() => loadModel(join(dir, 'text.safetensors'))).toThrow(/text.safetensors: header of \d+ bytes runs past the end of the file/);
  });
});

describe('atomic saves', () => {
  it('a save that fails before the rename leaves the previous checkpoint intact and loadable', () => {
    const path = join(dir, 'atomic.safetensors');
    const first = zooModel('cnn-14', { seed: 1 });
    saveModel(first, path);
    const before = readFileSync(path);
    expect(() =>
      saveModel(zooModel('cnn-14', { seed: 2 }), path, {}, {
        beforeRename: () => {
          throw new Error('simulated crash mid-save');
        },
      }),
    ).toThrow(/simulated crash mid-save/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(loadModel(path).stateDict()['conv2d_1.weight'].data).toEqual(first.stateDict()['conv2d_1.weight'].data);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('saves and restores optimizer state beside the checkpoint', () => {
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    const model = zooModel('mlp-30');
    const optimizer = new Adam({ learningRate: 0.01 });
    for (const p of model.parameters()) p.grad.data.fill(0.5);
    optimizer.step(model.parameters());
    optimizer.step(model.parameters());
    saveOptimizer(optimizer, run);
    const back = loadOptimizer(run);
    expect(back.iterations).toBe(2);
    expect(back.config()).toEqual(optimizer.config());
    expect(Object.keys(back.state().slots)).toEqual(Object.keys(optimizer.state().slots));
  });
});
