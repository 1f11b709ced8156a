// Every file reader fed valid files mutated by fast-check (bytes flipped,
// the file cut short, bytes inserted or a length field overwritten): each
// either reads the file or refuses it with a ConvkitError, never a
// TypeError, a RangeError, a hang or a crash of the process. The run count
// is bounded (CI time) and printed at the end.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvkitError, data, layers, loadKerasModel, loadLayersModel, loadModel, parseSafetensors, sequential } from '../../lib/index.js';
import { encodeSafetensors } from '../../lib/formats/safetensors.js';
import { parseCifar10 } from '../../lib/data/cifar10.js';
import { onnxModelFromBytes } from '../../lib/interchange/onnx-import.js';
import { readImageFolder } from '../../lib/data/images.js';

const require = createRequire(import.meta.url);
const fixtures = join(import.meta.dirname, '../fixtures/import');
const dir = mkdtempSync(join(tmpdir(), 'convkit-fuzz-'));
const counts = new Map<string, number>();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzzed file readers: ${total} mutated inputs (${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')})`);
});

/** A mutation of a valid file: byte flips, a cut, an insertion, a 32-bit field overwritten. */
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })), { nil: undefined }),
  word: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x80000000)), { nil: undefined }),
});

function mutate(bytes: Uint8Array, m: { flips: [number, number][]; cut?: number; insert?: [number, Uint8Array]; word?: [number, number] }): Uint8Array {
  let out = Uint8Array.from(bytes);
  for (const [at, v] of m.flips) if (out.length) out[at % out.length] = v;
  if (m.word && out.length >= 4) new DataView(out.buffer).setUint32(m.word[0] % (out.length - 3), m.word[1], true);
  if (m.insert) {
    const at = m.insert[0] % (out.length + 1);
    out = Uint8Array.from([...out.subarray(0, at), ...m.insert[1], ...out.subarray(at)]);
  }
  if (m.cut !== undefined) out = out.subarray(0, m.cut % (out.length + 1));
  return out;
}

// CONVKIT_FUZZ_SCALE multiplies the runs and CONVKIT_FUZZ_SEED changes them, for a longer hunt by hand.
const SCALE = Number(process.env.CONVKIT_FUZZ_SCALE ?? 1);
const SEED = Number(process.env.CONVKIT_FUZZ_SEED ?? 42);
// A file that hangs libhdf5 is stopped and refused (hdf5-worker.ts); here within seconds, not the default minute.
process.env.CONVKIT_HDF5_TIMEOUT_MS ??= '5000';

/** Runs read on `runs` mutations of sample; anything thrown must be a ConvkitError. */
async function fuzz(name: string, sample: Uint8Array, read: (bytes: Uint8Array) => unknown, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      try {
        await read(mutate(sample, m));
      } catch (error) {
        if (!(error instanceof ConvkitError)) throw new Error(`${name}: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
      }
    }),
    { numRuns: Math.max(1, Math.round(runs * SCALE)), seed: SEED },
  );
}

let fileNo = 0;
/** The bytes as a file of this extension, for readers that take a path. */
function asFile(bytes: Uint8Array, ext: string): string {
  const path = join(dir, `f${fileNo++}${ext}`);
  writeFileSync(path, bytes);
  return path;
}

const net = () => sequential([layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [6, 6, 1] }), layers.flatten(), layers.dense({ units: 3 })], { seed: 1 });

describe('fuzzed file readers', { timeout: 120_000 }, () => {
  it('IDX', () => fuzz('IDX', data.encodeIdx([3, 4, 4], new Uint8Array(48).fill(7)), (b) => data.parseIdx(b, 'x.idx'), 400));
  it('npy', () => fuzz('npy', data.encodeNpy(new Float32Array(12).fill(1.5), [3, 4]), (b) => data.parseNpy(b, 'x.npy'), 400));
  it('npz', () => fuzz('npz', data.encodeNpz({ a: { shape: [2, 2], data: new Float32Array(4) }, b: { shape: [3], data: new Uint8Array(3) } }), (b) => data.parseNpz(b, 'x.npz'), 300));
  it('CSV', () => fuzz('CSV', new TextEncoder().encode('label,a,b\n0,1,2\n1,3.5,4\n2,5,6e1\n'), (b) => data.parseCsv(new TextDecoder().decode(b), {}, 'x.csv'), 300));
  it('safetensors', () => {
    const bytes = Uint8Array.from(Buffer.concat(encodeSafetensors({ w: { shape: [2, 3], data: new Float32Array(6).fill(2) }, b: { shape: [3], data: new Float32Array(3) } }, { k: 'v' })));
    return fuzz('safetensors', bytes, (b) => parseSafetensors(b, 'x.safetensors'), 400);
  });
  it('CIFAR-10 binary', () => {
    const record = new Uint8Array(3073 * 2);
    record[3073] = 9;
    return fuzz('CIFAR-10', record, (b) => parseCifar10(b, 'data_batch_1.bin'), 200);
  });
  it('ONNX', () => fuzz('ONNX', readFileSync(join(fixtures, 'torch-cnn.onnx')), (b) => onnxModelFromBytes(b, 'x.onnx'), 300));
  it('checkpoints', () => {
    const path = net().save(join(dir, 'ckpt.safetensors'));
    return fuzz('checkpoint', readFileSync(path), (b) => loadModel(asFile(b, '.safetensors')), 150);
  });
  it('tfjs model.json', () => {
    const text = readFileSync(join(fixtures, 'tfjs-seq/model.json'));
    const weights = readFileSync(join(fixtures, 'tfjs-seq/weights.bin'));
    return fuzz('tfjs JSON', text, (b) => {
      const d = join(dir, `tfjs${fileNo++}`);
      mkdirSync(d);
      writeFileSync(join(d, 'model.json'), b);
      writeFileSync(join(d, 'weights.bin'), weights);
      return loadLayersModel(join(d, 'model.json'));
    }, 150);
  });
  it('HDF5 (Keras .h5)', () => fuzz('HDF5', readFileSync(join(fixtures, 'keras-seq.h5')), (b) => loadKerasModel(asFile(b, '.h5')), 60));
  it('Keras .keras zip', () => fuzz('.keras', readFileSync(join(fixtures, 'keras-seq.keras')), (b) => loadKerasModel(asFile(b, '.keras')), 60));
  it('PNG and JPEG images', async () => {
    const { PNG } = require('pngjs') as typeof import('pngjs');
    const jpeg = require('jpeg-js') as typeof import('jpeg-js');
    const rgba = Buffer.alloc(8 * 8 * 4, 128);
    const png = PNG.sync.write(Object.assign(new PNG({ width: 8, height: 8 }), { data: rgba }));
    const jpg = jpeg.encode({ data: rgba, width: 8, height: 8 }, 90).data;
    for (const [name, bytes, ext] of [['PNG', png, '.png'], ['JPEG', jpg, '.jpg']] as const) {
      await fuzz(name, bytes, (b) => {
        const d = join(dir, `img${fileNo++}`);
        for (const c of ['a', 'b']) {
          mkdirSync(join(d, c), { recursive: true });
          writeFileSync(join(d, c, `0${ext}`), c === 'a' ? b : bytes);
        }
        return readImageFolder(d);
      }, 100);
    }
  });
  it('counted every run', () => {
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(2500 * Math.min(1, SCALE));
  });
});
