// Course tasks from the command line on the user's own files: a binary
// X-ray-like task from an .npz (sigmoid output, class weights, resize,
// predictions CSV) and a 6-class RGB task from HDF5 files (separate test
// file, StandardScaler saved with the checkpoint, an architecture file,
// weights exported as HDF5). evaluate and predict reuse what the checkpoint
// recorded, and refuse data that does not fit.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { data } from '../lib/index.js';
import { rng } from './helpers/random.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cli-data-'));

function convkit(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Images whose class shows: class c has a bright square at a class-specific place, on noise. */
function images(n: number, h: number, w: number, c: number, classes: number, seed: number) {
  const random = rng(seed);
  const x = new Uint8Array(n * h * w * c);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes === 0 || (classes === 2 && i % 4 === 1) ? 0 : i % classes; // the binary task is 1:1 here, with more zeros at i % 4
    const oy = (y[i] * 5) % (h - 6);
    const ox = (y[i] * 7) % (w - 6);
    for (let p = 0; p < h * w * c; p++) x[i * h * w * c + p] = Math.floor(random() * 60);
    for (let dy = 0; dy < 6; dy++) for (let dx = 0; dx < 6; dx++) for (let ch = 0; ch < c; ch++) x[((i * h + oy + dy) * w + ox + dx) * c + ch] = 230;
  }
  return { x, y };
}

describe('a binary task from an .npz', () => {
  const file = join(dir, 'xray.npz');
  const train = images(96, 28, 28, 1, 2, 1);
  const test = images(40, 28, 28, 1, 2, 2);
  writeFileSync(file, data.encodeNpz({
    train_images: { data: train.x, shape: [96, 28, 28] }, train_labels: { data: train.y, shape: [96, 1] },
    test_images: { data: test.x, shape: [40, 28, 28] }, test_labels: { data: test.y, shape: [40, 1] },
  }));
  const run = join(dir, 'xray-run');
  const t = convkit(['train', '--data', file, '--model', 'xray-binary', '--epochs', '4', '--batch-size', '16', '--class-weight', 'balanced', '--shift', '1', '--out', run, '--json']);

  it('trains a one-output sigmoid model on images resized to the model, with class weights and shifts', () => {
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/resizing images 28×28 → 32×32 for xray-binary/);
    expect(t.stderr).toMatch(/input 32×32×1, 2 classes, one sigmoid output/);
    expect(t.stderr).toMatch(/class weights balanced, augmented \(shifts up to 1 px\)/);
    expect(JSON.parse(t.stdout).testAccuracy).toBeGreaterThan(0.9);
  });

  it('predict writes ID,Label with P1, and evaluate judges on the recorded test set', () => {
    const csv = join(dir, 'predictions.csv');
    const p = convkit(['predict', '--checkpoint', run, '--input', file, '--csv', csv, '--probabilities']);
    expect(p.status, p.stderr).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('ID,Label,P1');
    expect(lines).toHaveLength(41);
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    for (const [id, label, p1] of rows) {
      expect(label).toBe(p1 > 0.5 ? 1 : 0);
      expect(id).toBeLessThan(40);
    }
    expect(convkit(['predict', '--checkpoint', run, '--input', file, '--csv', file]).stderr).toMatch(/would replace its own input/);
    const correct = rows.filter(([id, label]) => label === test.y[id]).length;
    const e = convkit(['evaluate', '--checkpoint', run, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(correct / 40, 12);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(JSON.parse(t.stdout).testAccuracy, 12);
  });

  it('--tta flip: predict and evaluate score the mean of each image and its mirror, and agree', () => {
    const plain = convkit(['predict', '--checkpoint', run, '--input', file, '--probabilities']);
    const flipped = convkit(['predict', '--checkpoint', run, '--input', file, '--probabilities', '--tta', 'flip']);
    expect(flipped.status, flipped.stderr).toBe(0);
    const rows = (out: string) => out.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows(flipped.stdout)).toHaveLength(40);
    expect(rows(flipped.stdout).map((r) => r[2])).not.toEqual(rows(plain.stdout).map((r) => r[2])); // the mirror changes the scores
    const correct = rows(flipped.stdout).filter(([id, label]) => label === test.y[id]).length;
    const e = convkit(['evaluate', '--checkpoint', run, '--tta', 'flip', '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).tta).toBe('flip');
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(correct / 40, 12);
    const bad = convkit(['evaluate', '--checkpoint', run, '--tta', 'flop']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--tta <kind>' argument 'flop' is invalid. Allowed choices are none, flip/);
  });

  it('convkit curves writes the run\'s curves as PNG', () => {
    const out = join(dir, 'figures');
    const c = convkit(['curves', run, '--format', 'png', '--output', out]);
    expect(c.status, c.stderr).toBe(0);
    for (const name of ['loss-per-iteration', 'loss-per-epoch', 'accuracy-per-epoch']) expect(readFileSync(join(out, `${name}.png`)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('resumes a --data run to the same end as an uninterrupted one', () => {
    const a = join(dir, 'xray-a');
    expect(convkit(['train', '--data', file, '--model', 'xray-binary', '--epochs', '1', '--batch-size', '16', '--class-weight', 'balanced', '--shift', '1', '--out', a, '--quiet']).status).toBe(0);
    const r = convkit(['train', '--resume', a, '--epochs', '4', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(run, 'model.safetensors')))).toBe(true);
    expect(convkit(['train', '--resume', a, '--epochs', '5', '--scaler', 'standard']).stderr).toMatch(/--scaler cannot change when resuming/);
  });

  it('trains with --optimizer rmsprop and resumes it from its saved slots to the same end', () => {
    const flags = ['--data', file, '--model', 'xray-binary', '--batch-size', '16', '--optimizer', 'rmsprop', '--quiet'];
    const whole = join(dir, 'rms-whole');
    const part = join(dir, 'rms-part');
    expect(convkit(['train', ...flags, '--epochs', '2', '--out', whole]).status).toBe(0);
    expect(convkit(['train', ...flags, '--epochs', '1', '--out', part]).status).toBe(0);
    const r = convkit(['train', '--resume', part, '--epochs', '2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(part, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors')))).toBe(true);
    expect(readFileSync(join(part, 'optimizer.safetensors')).toString('latin1')).toMatch(/\\"kind\\":\\"rmsprop\\"/);
  });

  it('refuses --label-smoothing for a one-output sigmoid model', () => {
    const r = convkit(['train', '--data', file, '--model', 'xray-binary', '--epochs', '1', '--label-smoothing', '0.1', '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--label-smoothing smooths a softmax over classes; .* has one sigmoid output/);
  });
});

describe('a 6-class RGB task from HDF5 files, with a scaler and an architecture file', () => {
  const trainFile = join(dir, 'train_signs.h5');
  const testFile = join(dir, 'test_signs.h5');
  const arch = join(dir, 'net.json');
  const run = join(dir, 'signs-run');
  let t: ReturnType<typeof convkit>;

  it('trains from the command line alone and exports HDF5 weights', async () => {
    const h5 = (await import('h5wasm/node')).default;
    await h5.ready;
    for (const [path, prefix, n, seed] of [[trainFile, 'train', 120, 3], [testFile, 'test', 36, 4]] as const) {
      const { x, y } = images(n, 16, 16, 3, 6, seed);
      const f = new h5.File(path, 'w');
      f.create_dataset({ name: `${prefix}_set_x`, data: x, shape: [n, 16, 16, 3], dtype: '<B' });
      f.create_dataset({ name: `${prefix}_set_y`, data: BigInt64Array.from(y, (v) => BigInt(v)), shape: [n], dtype: '<q' });
      f.close();
    }
    writeFileSync(arch, JSON.stringify({ layers: [
      { kind: 'Conv2D', filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu' },
      { kind: 'MaxPool2D', poolSize: 3, strides: 1 },
      { kind: 'Conv2D', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
      { kind: 'AvgPool2D', poolSize: 2 },
      { kind: 'Flatten' },
      { kind: 'Dense', units: 12, activation: 'relu' },
      { kind: 'Dense', units: 6 },
    ] }));
    t = convkit(['train', '--data', trainFile, '--test', testFile, '--model', arch, '--scaler', 'standard', '--epochs', '6', '--batch-size', '8', '--lr-decay', '1', '--flip', '--out', run, '--json']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/training net \(\d[\d,]* parameters, input 16×16×3, 6 classes\)/);
    expect(t.stderr).toMatch(/scaler: standardising each of 768 features/);
    const out = join(dir, 'weights.h5');
    expect(convkit(['export', '--checkpoint', run, '--output', out]).status).toBe(0);
    const f = new h5.File(out, 'r');
    expect(f.keys().sort()).toEqual(['W1', 'W2', 'W3', 'W4', 'b1', 'b2', 'b3', 'b4']);
    expect((f.get('W1') as InstanceType<typeof h5.Dataset>).shape).toEqual([4, 4, 3, 4]);
    f.close();
  });

  it('evaluate applies the saved scaler and reaches the accuracy training reported; --data judges another file', () => {
    const e = convkit(['evaluate', '--checkpoint', run, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(JSON.parse(t.stdout).testAccuracy, 12);
    const other = convkit(['evaluate', '--checkpoint', run, '--data', testFile, '--json']);
    expect(JSON.parse(other.stdout).accuracy).toBeCloseTo(JSON.parse(t.stdout).testAccuracy, 12);
  });

  it('--label-smoothing changes the loss trained on, is recorded in run.json and kept by a resume', () => {
    const flags = ['train', '--data', trainFile, '--test', testFile, '--model', arch, '--epochs', '1', '--batch-size', '8', '--seed', '2'];
    const plain = join(dir, 'signs-plain');
    const smooth = join(dir, 'signs-smooth');
    expect(convkit([...flags, '--out', plain, '--quiet']).status).toBe(0);
    const s = convkit([...flags, '--label-smoothing', '0.2', '--out', smooth]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/, label smoothing 0.2,/);
    const lossOf = (run: string) => JSON.parse(readFileSync(join(run, 'history.json'), 'utf8')).loss[0] as number;
    // Same seed, same batches: only the targets differ, so the first epoch's mean loss does.
    expect(Math.abs(lossOf(smooth) - lossOf(plain))).toBeGreaterThan(1e-3);
    expect(JSON.parse(readFileSync(join(smooth, 'run.json'), 'utf8')).settings.labelSmoothing).toBe(0.2);
    expect(JSON.parse(readFileSync(join(plain, 'run.json'), 'utf8')).settings.labelSmoothing).toBeUndefined();
    expect(convkit(['train', '--resume', smooth, '--epochs', '2', '--label-smoothing', '0']).stderr).toMatch(/--label-smoothing cannot change when resuming/);
    const r = convkit(['train', '--resume', smooth, '--epochs', '2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(smooth, 'run.json'), 'utf8')).settings.labelSmoothing).toBe(0.2);
  });

  it('--lr-schedule multistep drops the rate by --lr-decay after each milestone epoch, and a resume stays on it', () => {
    const run = join(dir, 'signs-multistep');
    const flags = ['--data', trainFile, '--test', testFile, '--model', arch, '--batch-size', '8', '--lr', '0.01', '--lr-schedule', 'multistep', '--milestones', '1,3', '--lr-decay', '0.5'];
    const t = convkit(['train', ...flags, '--epochs', '2', '--out', run]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/adam lr 0.01 ×0.5 after epoch\(s\) 1, 3,/);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).settings.milestones).toEqual([1, 3]);
    const r = convkit(['train', '--resume', run, '--epochs', '4', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rates = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8')).epochs.map((e: { learningRate: number }) => e.learningRate);
    // An epoch logs the rate after its last step (torch's get_last_lr() at the epoch's end): epoch 1 ends on the drop at milestone 1.
    expect(rates.map((v: number) => v.toPrecision(6))).toEqual(['0.00500000', '0.00500000', '0.00250000', '0.00250000']);
  });

  it('--augment crop:2:reflect,flip,cutout:4 trains with that pipeline, recorded in run.json and kept by a resume', () => {
    const run = join(dir, 'signs-augment');
    const t = convkit(['train', '--data', trainFile, '--test', testFile, '--model', arch, '--batch-size', '8', '--epochs', '1', '--augment', 'crop:2:reflect,flip,cutout:4', '--out', run]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/augmented \(shifts up to 2 px \(reflected\), flips, cutout 4×4\)/);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).settings.augment).toEqual({ shift: 2, padMode: 'reflect', flip: true, cutout: 4 });
    expect(convkit(['train', '--resume', run, '--epochs', '2', '--augment', 'flip']).stderr).toMatch(/--augment cannot change when resuming/);
    const r = convkit(['train', '--resume', run, '--epochs', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cutout 4×4/);
  });

  it('refuses images that do not fit the model, naming both shapes', () => {
    const gray = join(dir, 'gray.npy');
    writeFileSync(gray, data.encodeNpy(new Uint8Array(2 * 16 * 16), [2, 16, 16]));
    const p = convkit(['predict', '--checkpoint', run, '--input', gray]);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/gray.npy: images are \[16, 16, 1\] but net takes \[16, 16, 3\] \(3 channels\)/);
    const missing = convkit(['train', '--data', join(dir, 'nothing.npz')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nothing.npz: no such file or folder/);
    expect(convkit(['train', '--data', trainFile, '--dataset', 'mnist']).stderr).toMatch(/--data and --dataset both name the data; give one/);
    expect(convkit(['train', '--data', testFile]).stderr).toMatch(/has no training arrays \(only test\); give it as --test/);
  });
});

describe('an image folder', () => {
  it('trains with class names from the folders; a --test folder lacking a class keeps the training classes\' order', async () => {
    const { encodePng } = await import('../lib/viz/png.js');
    const root = join(dir, 'shapes');
    const random = rng(9);
    const write = (split: string, name: string, i: number) => {
      const rgba = new Uint8Array(12 * 12 * 4);
      for (let p = 0; p < 144; p++) {
        const on = name === 'bar' ? p % 12 === 5 : Math.floor(p / 12) === 5; // a vertical or a horizontal line
        const v = on ? 255 : Math.floor(random() * 40);
        rgba.set([v, v, v, 255], p * 4);
      }
      const folder = join(root, split, name);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, `${i}.png`), encodePng(rgba, 12, 12));
    };
    for (let i = 0; i < 24; i++) write('train', i % 2 ? 'bar' : 'line', i);
    for (let i = 0; i < 6; i++) write('test', 'line', i);
    const t = convkit(['train', '--data', join(root, 'train'), '--test', join(root, 'test'), '--model', 'cnn-14', '--epochs', '8', '--batch-size', '4', '--lr-decay', '1', '--json']);
    expect(t.status, t.stderr).toBe(0);
    const result = JSON.parse(t.stdout);
    expect(result.perClass.map((c: { name: string }) => c.name)).toEqual(['bar', 'line']);
    expect(result.perClass[1].total).toBe(6);
    expect(result.perClass[0].total).toBe(0);
    // evaluate --data on the one-class folder matches its class to the checkpoint's by name, too
    const run = join(dir, 'shapes-run');
    expect(convkit(['train', '--data', join(root, 'train'), '--model', 'cnn-14', '--epochs', '2', '--batch-size', '4', '--out', run, '--quiet']).status).toBe(0);
    const e = convkit(['evaluate', '--checkpoint', run, '--data', join(root, 'test'), '--json']);
    expect(e.status, e.stderr).toBe(0);
    const judged = JSON.parse(e.stdout).perClass;
    expect(judged.map((c: { name: string; total: number }) => [c.name, c.total])).toEqual([['bar', 0], ['line', 6]]);
  });
});
