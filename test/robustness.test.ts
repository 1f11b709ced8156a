// Bad input through the public API and the CLI: each case ends in the
// documented error class and message, and the process stays healthy (a
// valid call right after works). Plus concurrency: interleaved training of
// two models, and ops from worker threads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  ConvkitError, DTypeError, FormatError, LimitError, ShapeError, Tensor, ValueError,
  data, getAllocationLimit, layers, loadModel, ops, sequential, setAllocationLimit, setBackend, tensor, zeros, zooModel,
} from '../lib/index.js';
import { NonFiniteError } from '../lib/models/train.js';
import { BACKENDS } from './helpers/backends.js';

const dir = mkdtempSync(join(tmpdir(), 'robust-'));
const file = (name: string, bytes: Uint8Array | string) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const npy = data.encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
const idx = data.encodeIdx([2, 2, 2], new Uint8Array(8));

/** An IDX header that claims these dims, with no data after it (encodeIdx refuses to write one). */
function forgedIdxHeader(dims: number[]): Uint8Array {
  const out = Buffer.alloc(4 + 4 * dims.length);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  return out;
}
const small = () => sequential([layers.flatten(), layers.dense({ units: 3 })], { inputShape: [2, 2, 1] });
const x4 = zeros([4, 2, 2, 1]);

type Case = [string, () => unknown, typeof ConvkitError, RegExp];

const apiCases: Case[] = [
  ['tensor with too few values', () => tensor([1, 2, 3], [2, 2]), ShapeError, /shape \[2, 2\] holds 4 elements but data has 3/],
  ['tensor from strings', () => tensor(['a'] as never, [1]), DTypeError, /data\[0\] must be a number/],
  ['tensor with a negative dimension', () => zeros([-1, 2]), ShapeError, /shape\[0\] must be a non-negative integer, got -1/],
  ['tensor with a fractional dimension', () => zeros([1.5]), ShapeError, /shape\[0\] must be a non-negative integer, got 1.5/],
  ['tensor past int32 indexing', () => zeros([2 ** 16, 2 ** 16]), LimitError, /more than the 2147483647 convkit's kernels can index/],
  ['conv2d on a rank-3 image', () => ops.conv2d(zeros([4, 4, 1]), zeros([3, 3, 1, 1])), ShapeError, /conv2d: x must have rank 4/],
  ['conv2d with a Float64Array tensor', () => ops.conv2d({ data: new Float64Array(16), shape: [1, 4, 4, 1] } as never, zeros([3, 3, 1, 1])), DTypeError, /conv2d: x must be a Tensor/],
  ['conv2d channel mismatch', () => ops.conv2d(zeros([1, 4, 4, 3]), zeros([3, 3, 1, 1])), ShapeError, /x has 3 channels but w expects 1/],
  ['conv2d kernel larger than the image', () => ops.conv2d(zeros([1, 2, 2, 1]), zeros([3, 3, 1, 1])), ShapeError, /window 3 is larger than the padded input 2/],
  ['conv2d on an empty batch works, then a zero-width image is refused', () => {
    expect(ops.conv2d(zeros([0, 4, 4, 1]), zeros([3, 3, 1, 1])).shape).toEqual([0, 2, 2, 1]);
    return ops.conv2d(zeros([1, 0, 4, 1]), zeros([1, 1, 1, 1]));
  }, ShapeError, /height window 1 is larger than the padded input 0/],
  ['conv2d stride as a string', () => ops.conv2d(zeros([1, 4, 4, 1]), zeros([3, 3, 1, 1]), null, { stride: '2' as never }), ValueError, /stride must be a positive integer or \[h, w\]/],
  ['conv2d whose output would pass the allocation limit', () => {
    const saved = getAllocationLimit();
    setAllocationLimit(1024);
    try {
      return ops.conv2d(zeros([1, 16, 16, 1]), zeros([1, 1, 1, 4]));
    } finally {
      setAllocationLimit(saved);
    }
  }, LimitError, /over the allocation limit of 0.0 MiB/],
  ['maxPool2d with a zero kernel', () => ops.maxPool2d(zeros([1, 4, 4, 1]), { kernel: 0 }), ValueError, /kernel must be a positive integer/],
  ['maxPool2dBackward with the wrong dy', () => ops.maxPool2dBackward(zeros([1, 3, 3, 1]), zeros([1, 4, 4, 1]), { kernel: 2 }), ShapeError, /dy.shape must be \[1, 2, 2, 1\]/],
  ['dense feature mismatch', () => ops.dense(zeros([2, 5]), zeros([4, 3])), ShapeError, /x has 5 features but w expects 4/],
  ['softmaxCrossEntropy with a label out of range', () => ops.softmaxCrossEntropy(zeros([2, 3]), [0, 3]), ValueError, /labels\[1\] = 3 is outside the 3 classes/],
  ['softmaxCrossEntropy with float labels', () => ops.softmaxCrossEntropy(zeros([2, 3]), [0, 1.5]), DTypeError, /labels\[1\] must be an integer class index/],
  ['softmaxCrossEntropy on an empty batch', () => ops.softmaxCrossEntropy(zeros([0, 3]), []), ShapeError, /logits must have at least one row/],
  ['sigmoidBinaryCrossEntropy with a target of 2', () => ops.sigmoidBinaryCrossEntropy(zeros([2, 1]), [0, 2]), ValueError, /targets\[1\] = 2 must lie in \[0, 1\]/],
  ['leakyRelu with alpha Infinity', () => ops.leakyRelu(zeros([2]), Infinity), ValueError, /alpha must be a finite number/],
  ['fit with NaN in the images', () => small().fit(new Tensor(Float32Array.from([0, 0, 0, Number.NaN]), [1, 2, 2, 1]), [0], { verbose: 0 }), ValueError, /x holds NaN at sample 0/],
  ['fit with Infinity in the images', () => small().fit(new Tensor(Float32Array.from([0, Infinity, 0, 0]), [1, 2, 2, 1]), [0], { verbose: 0 }), ValueError, /x holds Infinity at sample 0/],
  ['fit with a zero-size batch', () => small().fit(x4, [0, 1, 2, 0], { batchSize: 0, verbose: 0 }), ValueError, /batchSize must be a positive integer, got 0/],
  ['fit with no samples', () => small().fit(zeros([0, 2, 2, 1]), [], { verbose: 0 }), ShapeError, /x has no samples/],
  ['fit with a wrong label count', () => small().fit(x4, [0, 1], { verbose: 0 }), ShapeError, /y has 2 labels but x has 4 samples/],
  ['fit with labels out of range', () => small().fit(x4, [0, 1, 2, 7], { verbose: 0 }), ValueError, /y\[3\] = 7 is outside the model's 3 classes/],
  ['fit with float labels', () => small().fit(x4, new Float32Array(4) as never, { verbose: 0 }), DTypeError, /fit: y must be integer class labels \(an integer typed array, a Buffer or number\[\]\), got Float32Array/],
  ['fit with images of the wrong size', () => small().fit(zeros([4, 3, 3, 1]), [0, 1, 2, 0], { verbose: 0 }), ShapeError, /x.shape must be \[samples, 2, 2, 1\]/],
  ['fit whose loss turns infinite', () => small().fit(new Tensor(new Float32Array(16).fill(3e38), [4, 2, 2, 1]), [0, 1, 2, 0], { verbose: 0, learningRate: 1e30, optimizer: 'sgd' }), NonFiniteError, /became (NaN|Infinity|-Infinity) at epoch 1, batch \d+ of 1/],
  ['predict on the wrong shape', () => zooModel('mnist-3layer').predict(zeros([1, 14, 14, 1])), ShapeError, /x.shape must be \[samples, 28, 28, 1\]/],
  ['an unknown zoo model', () => zooModel('resnet50'), ValueError, /unknown model 'resnet50' \(string\); the zoo has: mlp-30/],
  ['a Dense layer on images', () => sequential([layers.dense({ units: 2 })], { inputShape: [2, 2, 1] }), ShapeError, /add a Flatten layer before it/],
  ['a state dict of another model', () => small().loadStateDict(zooModel('cnn-14').stateDict()), ShapeError, /'dense_1.weight' has shape \[147, 10\] but the model expects \[4, 3\]/],
  ['an IDX file given as .npy', () => data.readNpy(file('images.npy', idx)), FormatError, /images.npy: not a .npy file \(bad magic number\)/],
  ['a .npy file given as IDX', () => data.readIdx(file('array.idx', npy)), FormatError, /array.idx: bad magic number/],
  ['a truncated .npy', () => data.readNpy(file('cut.npy', npy.subarray(0, npy.length - 3))), FormatError, /cut.npy: shape \(2, 2\) of <f4 needs 16 bytes but the file holds 13/],
  ['a truncated IDX', () => data.readIdx(file('cut.idx', idx.subarray(0, 17))), FormatError, /cut.idx: header claims 8 bytes of data \(dims 2x2x2\) but the file holds 1/],
  ['an IDX cut inside its header', () => data.readIdx(file('head.idx', idx.subarray(0, 12))), FormatError, /head.idx: truncated header \(12 bytes, need 16\)/],
  ['an IDX header claiming billions of elements', () => data.readIdx(file('huge.idx', forgedIdxHeader([60000, 60000, 60000]))), LimitError, /huge.idx: header claims 216000000000000 elements/],
  ['a text file as a checkpoint', () => loadModel(file('notes.safetensors', 'just some notes')), FormatError, /notes.safetensors: header of \d+ bytes runs past the end of the file \(15 bytes\)/],
  ['a missing checkpoint', () => loadModel(join(dir, 'nope.safetensors')), FormatError, /nope.safetensors: no such checkpoint file or run directory/],
  ['a data directory missing one file', () => {
    const partial = mkdtempSync(join(tmpdir(), 'partial-'));
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) writeFileSync(join(partial, f), idx);
    return data.loadDataset('mnist', { dataDir: partial, log: () => {} });
  }, FormatError, /MNIST is not in .*: missing .*t10k-labels-idx1-ubyte\[\.gz\]$/],
  ['a CSV with a word among the numbers', () => data.readCsv(file('bad.csv', 'label,a\n1,2\n1,two\n')), FormatError, /bad.csv: row 3, column 'a' is not a number: 'two'/],
  ['a .npz that is not a zip', () => data.readNpz(file('fake.npz', npy)), FormatError, /fake.npz: not a zip archive \(no end of central directory\)/],
];

describe.each(BACKENDS)('bad input through the API [%s]', (backend) => {
  it(`covers at least 40 cases`, () => {
    expect(apiCases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(apiCases)('%s', async (_label, call, kind, message) => {
    setBackend(backend);
    let thrown: unknown;
    try {
      await call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'expected an error').toBeInstanceOf(kind);
    expect((thrown as Error).message).toMatch(message);
    // The process is healthy: a valid call right after works.
    expect(Array.from(ops.relu(tensor([-1, 2], [2])).data)).toEqual([0, 2]);
  });
});

describe('bad CLI flags', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const cases: [string[], number, RegExp][] = [
    [['train', '--epochs=-1'], 2, /--epochs must be an integer >= 1, got '-1'/],
    [['train', '--batch-size', 'many'], 2, /--batch-size must be an integer >= 1, got 'many'/],
    [['train', '--lr', '0'], 2, /--lr must be a positive number, got '0'/],
    [['train', '--threads', '0'], 2, /--threads must be an integer >= 1/],
    [['train', '--warmup-epochs', '2'], 2, /--warmup-epochs goes with --lr-schedule cosine/],
    [['train', '--lr-schedule', 'cosine', '--lr-decay', '0.5'], 2, /--lr-decay goes with --lr-schedule step/],
    [['train', '--lr-schedule', 'cosine', '--warmup-epochs', '3', '--epochs', '3'], 2, /--warmup-epochs 3 leaves no epoch of the 3 to decay over/],
    [['train', '--lr-schedule', 'linear'], 2, /argument 'linear' is invalid. Allowed choices are step, cosine, onecycle/],
    [['train', '--lr-schedule', 'onecycle', '--warmup-epochs', '1'], 2, /--warmup-epochs goes with --lr-schedule cosine \(one cycle warms up by itself\)/],
    [['train', '--lr-schedule', 'onecycle', '--lr-decay', '0.5'], 2, /--lr-decay goes with --lr-schedule step or multistep; one cycle anneals by itself/],
    [['train', '--lr-schedule', 'multistep'], 2, /--lr-schedule multistep needs --milestones E1,E2,\.\.\./],
    [['train', '--lr-schedule', 'multistep', '--milestones', '3,2', '--epochs', '5'], 2, /--milestones must be increasing whole epochs of 1 or more \(e.g. 30,45\), got '3,2'/],
    [['train', '--lr-schedule', 'multistep', '--milestones', '0,2.5'], 2, /--milestones must be increasing whole epochs of 1 or more/],
    [['train', '--lr-schedule', 'multistep', '--milestones', '2', '--lr-decay', '0'], 2, /--lr-decay must be a positive number, got '0'/],
    [['train', '--milestones', '2'], 2, /--milestones goes with --lr-schedule multistep/],
    [['train', '--augment', 'crop:4,rotate:10'], 2, /--augment has no part 'rotate:10'; give parts such as crop:4, crop:4:reflect, flip, cutout:8 joined by commas, got 'crop:4,rotate:10'/],
    [['train', '--augment', 'crop:x'], 2, /--augment crop needs a whole number of pixels of 1 or more/],
    [['train', '--augment', 'crop:4:wrap'], 2, /--augment pads with zero or reflect, not 'wrap'/],
    [['train', '--augment', 'flip,flip'], 2, /--augment names flip twice/],
    [['train', '--augment', 'flip', '--shift', '2'], 2, /--augment already says how to shift and flip; give it alone, without --shift or --flip/],
    [['train', '--label-smoothing', '1'], 2, /--label-smoothing must be in \[0, 1\), got '1'/],
    [['train', '--optimizer', 'lamb'], 2, /--optimizer.*Allowed choices are sgd, momentum, adam, rmsprop, adamw, adagrad/],
    [['train', '--dataset', 'imagenet'], 2, /option '--dataset <name>' argument 'imagenet' is invalid. Allowed choices are mnist, fashion-mnist, cifar10/],
    [['train', '--model', 'signs-cnn.yaml'], 2, /unknown --model 'signs-cnn.yaml'; choose one of: .*, or give an architecture file \(\.json\)/],
    [['train', '--limit', '10', '--validation', '0.99'], 2, /--validation 0.99 of 10 training images leaves none to train on/],
    [['train', '--epochs'], 2, /option '--epochs <n>' argument missing/],
    [['predict', '--checkpoint', 'x'], 2, /required option '--input <file>' not specified/],
    [['export', '--checkpoint', 'x', '--format', 'onnx'], 2, /required option '--output <file>' not specified/],
    [['evaluate', '--checkpoint', '/nonexistent'], 1, /FormatError: \/nonexistent: no such checkpoint/],
  ];
  it.each(cases)('convkit %j', (args, status, message) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('concurrency', () => {
  const trainOne = async (seed: number) => {
    const m = zooModel('cnn-14', { seed });
    const x = new Tensor(Float32Array.from({ length: 64 * 196 }, (_, i) => ((i * 7919) % 101) / 101), [64, 14, 14, 1]);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    await m.fit(x, y, { epochs: 2, batchSize: 8, seed, verbose: 0 });
    return m.stateDict()['dense_1.weight'].data;
  };

  it('two models training at once (interleaved awaits) end as they do one after the other', async () => {
    setBackend(BACKENDS[BACKENDS.length - 1]);
    const alone = [await trainOne(1), await trainOne(2)];
    const together = await Promise.all([trainOne(1), trainOne(2)]);
    expect(together[0]).toEqual(alone[0]);
    expect(together[1]).toEqual(alone[1]);
  });

  it('runs ops from worker threads, each with the same result', async () => {
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(entry)}).then((ck) => {
        const x = ck.tensor(Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(i)), [2, 8, 8, 3]);
        const w = ck.tensor(Float32Array.from({ length: 3 * 3 * 3 * 16 }, (_, i) => Math.cos(i)), [3, 3, 3, 16]);
        parentPort.postMessage({ backend: ck.getBackend().name, y: Array.from(ck.ops.conv2d(x, w, null, { padding: 1 }).data) });
      }).catch((e) => parentPort.postMessage({ error: e.message }));`;
    const results = await Promise.all([0, 1].map(() => new Promise<{ backend: string; y: number[]; error?: string }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true });
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
    for (const r of results) expect(r.error).toBeUndefined();
    expect(results[0].y).toEqual(results[1].y);
    expect(results[0].y.length).toBe(2 * 8 * 8 * 16);
  });
});
