// The convkit command as a user runs it (compiled, in dist/): exit codes 0 / 2 / 1,
// one clear line on failure, the main job on a small subset, evaluate and predict.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { data } from '../lib/index.js';
import { skipNative } from './helpers/backends.js';
import { readEvents } from './helpers/tfevents.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function convkit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A tiny MNIST-format folder: 64 training and 32 test images. */
function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
  const img = (n: number) => data.encodeIdx([n, 28, 28], new Uint8Array(n * 784).map((_, i) => ((i * 7919) % 251)));
  const lab = (n: number) => data.encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), img(64));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lab(64));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(32));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), lab(32));
  return dir;
}

describe('convkit CLI', () => {
  it.skipIf(process.platform === 'win32')('runs as the package bin itself (executable, with a node shebang), as npx convkit does', () => {
    const r = spawnSync(cli, ['--help'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('train');
  });

  it('--help lists every command; COMMAND --help shows its own options, defaults and examples, exit 0', () => {
    const r = convkit(['--help']);
    expect(r.status).toBe(0);
    for (const text of ['train', 'evaluate', 'predict', 'export', 'report', 'summary', 'info', 'selftest', 'build']) expect(r.stdout).toContain(text);
    const train = convkit(['train', '--help']);
    expect(train.status).toBe(0);
    for (const text of ['Usage: convkit train [options]', '(default mnist-3layer)', '(default 5)', '(default 32)', '(default adam)', 'Examples:', '$ convkit train --resume runs/a']) expect(train.stdout).toContain(text);
    const exp = convkit(['help', 'export']);
    expect(exp.stdout).toContain('Usage: convkit export [options]');
    expect(exp.stdout).not.toContain('--epochs');
    expect(convkit([]).status).toBe(2);
  });

  it('suggests the command or flag meant, scopes flags to their command, parses negative numbers', () => {
    const typo = convkit(['trian']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/convkit: unknown command 'trian'\n\(Did you mean train\?\)/);
    const flag = convkit(['train', '--lrr', '0.1']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--lrr'\n\(Did you mean --lr\?\)/);
    const scoped = convkit(['info', '--epochs', '3', '--lr', '5']);
    expect(scoped.status).toBe(2);
    expect(scoped.stderr).toMatch(/unknown option '--epochs'/);
    const negative = convkit(['train', '--lr', '-1']);
    expect(negative.status).toBe(2);
    expect(negative.stderr).toMatch(/^convkit: --lr must be a positive number, got '-1'/);
    expect(convkit(['export', '--checkpoint', 'x', '--output', 'model.bin']).stderr).toMatch(/cannot tell the format of 'model.bin' from its extension/);
  });

  it('ends quietly when the reader closes the pipe early (| head)', () => {
    // `true` exits before node has started, so every write meets a closed pipe.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" train --help | true; echo "exit $\{PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.stdout.trim()).toBe('exit 0');
  });

  it('exits 2 with one line for bad usage', () => {
    for (const args of [['train', '--epochs', '0'], ['train', '--model', 'resnet'], ['train', '--bogus'], ['frobnicate'], ['train', '--optimizer', 'nadam'], ['train', '--backend', 'gpu'], ['train', '--validation', '2']]) {
      const r = convkit(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^convkit: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 with one clear line on failure, and shows the stack only with --verbose', () => {
    const r = convkit(['train', '--data-dir', '/nonexistent/data']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^convkit: FormatError: MNIST is not in \/nonexistent\/data: missing .*train-images-idx3-ubyte/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(convkit(['train', '--data-dir', '/nonexistent/data', '--verbose']).stderr).toMatch(/\n\s+at /);
    expect(convkit(['evaluate', '--checkpoint', '/nonexistent.safetensors']).stderr.trim()).toMatch(/^convkit: FormatError: \/nonexistent.safetensors: no such checkpoint/);
  });

  it('trains, saves a run directory, evaluates and predicts', () => {
    const dir = fixture();
    const out = mkdtempSync(join(tmpdir(), 'run-'));
    const r = convkit(['train', '--data-dir', dir, '--epochs', '2', '--batch-size', '16', '--out', out, '--backend', 'reference', '--model', 'cnn-14']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test accuracy: \d+\.\d\d% \(\d+\/32\), test loss \d/m);
    expect(r.stderr).toMatch(/data: MNIST from .* \(data directory\): 64 training and 32 test images/);
    expect(r.stderr).toMatch(/resizing images 28×28 → 14×14 for cnn-14/);
    expect(r.stderr).toMatch(/worst class: /);
    for (const f of ['model.safetensors', 'history.json', 'run.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).loss).toHaveLength(2);

    const e = convkit(['evaluate', '--checkpoint', out, '--data-dir', dir]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout.trim()).toBe(r.stdout.trim());

    const input = join(dir, 't10k-images-idx3-ubyte');
    const csv = join(out, 'pred.csv');
    const p = convkit(['predict', '--checkpoint', join(out, 'model.safetensors'), '--input', input, '--csv', csv]);
    expect(p.status, p.stderr).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('ID,Label');
    expect(lines).toHaveLength(33);
    expect(lines[1]).toMatch(/^0,\d$/);
    expect(convkit(['summary', '--checkpoint', out]).stdout).toMatch(/Total params: 1,510/);
  });

  it('resumes a run directory to the same weights as an uninterrupted run', () => {
    const dir = fixture();
    const a = mkdtempSync(join(tmpdir(), 'run-a-'));
    const b = mkdtempSync(join(tmpdir(), 'run-b-'));
    expect(convkit(['train', '--data-dir', dir, '--epochs', '1', '--batch-size', '8', '--out', a, '--quiet']).status).toBe(0);
    const resumed = convkit(['train', '--resume', a, '--data-dir', dir, '--epochs', '3']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* after epoch 1 of 3/);
    expect(convkit(['train', '--data-dir', dir, '--epochs', '3', '--batch-size', '8', '--out', b, '--quiet']).status).toBe(0);
    expect(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors')))).toBe(true);
    expect(JSON.parse(readFileSync(join(a, 'history.json'), 'utf8')).loss).toHaveLength(3);
    const refused = convkit(['train', '--resume', a, '--data-dir', dir, '--lr', '0.5']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--lr cannot change when resuming/);
  });

  it('exports a checkpoint as ONNX, npz and HDF5', () => {
    const dir = fixture();
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    expect(convkit(['train', '--data-dir', dir, '--epochs', '1', '--model', 'cnn-14', '--out', run, '--quiet']).status).toBe(0);
    for (const [format, file, keys] of [['onnx', 'm.onnx', ''], ['npz', 'm.npz', 'w_conv, b_conv, w_fc, b_fc'], ['h5', 'm.h5', 'W1, b1, W2, b2']]) {
      const r = convkit(['export', '--checkpoint', run, '--format', format, '--output', join(run, file), ...(format === 'npz' ? ['--names', 'course'] : [])]);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(run, file))).toBe(true);
      if (keys) expect(r.stderr).toContain(keys);
    }
    expect(convkit(['export', '--checkpoint', run, '--format', 'tflite', '--output', 'x']).status).toBe(2);
    // The format from the extension; never onto the checkpoint itself.
    expect(convkit(['export', '--checkpoint', run, '--output', join(run, 'inferred.npz')]).status).toBe(0);
    expect(readFileSync(join(run, 'inferred.npz')).subarray(0, 2).toString()).toBe('PK');
    const self = convkit(['export', '--checkpoint', join(run, 'model.safetensors'), '--output', join(run, 'model.safetensors'), '--format', 'npz']);
    expect(self.status).toBe(2);
    expect(self.stderr).toMatch(/is the checkpoint itself/);
  });

  it('evaluate takes the checkpoint\'s data set and refuses another; --json gives machine-readable results', () => {
    const dir = fixture();
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    const t = convkit(['train', '--data-dir', dir, '--epochs', '1', '--model', 'cnn-14', '--out', run, '--json', '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    const trained = JSON.parse(t.stdout);
    expect(trained).toMatchObject({ model: 'cnn-14', dataset: 'mnist' });
    expect(trained.perClass).toHaveLength(10);
    const e = convkit(['evaluate', '--checkpoint', run, '--data-dir', dir, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(trained.testAccuracy, 6);
    const other = convkit(['evaluate', '--checkpoint', run, '--data-dir', dir, '--dataset', 'fashion-mnist']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/was trained on mnist, not fashion-mnist/);
    const nan = join(run, 'nan.npy');
    writeFileSync(nan, data.encodeNpy(new Float32Array(2 * 14 * 14).fill(NaN), [2, 14, 14, 1]));
    const p = convkit(['predict', '--checkpoint', run, '--input', nan]);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/nan.npy: sample 0 holds NaN; images must be finite/);
    const info = JSON.parse(convkit(['info', '--json']).stdout);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('writes TensorBoard events and an HTML report, and prints the end-of-run summary', () => {
    const dir = fixture();
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    const r = convkit(['train', '--data-dir', dir, '--epochs', '2', '--model', 'mnist-gap', '--out', run, '--tensorboard', join(run, 'tb'), '--report', join(run, 'report.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/summary\n\s+test accuracy\s+\d+\.\d\d%[\s\S]*report\s+.*report.html/);
    const events = readEvents(join(run, 'tb', readdirSync(join(run, 'tb'))[0]));
    const tags = new Set(events.flatMap((e) => e.values.map((v) => v.tag)));
    for (const tag of ['train/iteration_loss', 'train/loss', 'train/accuracy', 'test/accuracy', 'top3/0_0/1', 'top3/9_9/3']) expect(tags, tag).toContain(tag);
    expect(events.filter((e) => e.values.some((v) => v.tag === 'train/loss')).map((e) => e.step)).toEqual([1, 2]);
    for (const f of ['report.html', 'loss-per-iteration.svg', 'confusion-matrix.svg']) expect(existsSync(join(run, f)), f).toBe(true);
    const again = convkit(['report', run, '--data-dir', dir, '--output', join(run, 'again.html')]);
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(run, 'again.html'), 'utf8')).toContain('Class activation maps');
  });

  it('prints the backend, ISA and threads', () => {
    const r = convkit(['info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backend\s+(native|reference)/);
    expect(r.stdout).toMatch(/threads\s+\d+/);
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(r.stdout).toContain(`convkit          ${version}`);
    expect(r.stdout).toMatch(/native addon\s+((prebuild|local build|CONVKIT_ADDON_PATH): \S+convkit(\.glibc)?\.node|unavailable)/);
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const r = convkit([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it.skipIf(skipNative)('selftest checks the native kernels against the reference backend, exit 0', () => {
    const r = convkit(['selftest', '--threads', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^native \w+, 2 threads against the reference backend:/);
    for (const net of ['mnist-3layer', 'mnist-2layer', 'xray-binary', 'every-op']) expect(r.stdout).toMatch(new RegExp(`ok\\s+${net}\\s+worst difference 0\\.\\d+ of its tolerance`));
    expect(r.stdout.trim().split('\n').pop()).toBe('selftest passed');
  });

  it('trains a functional model from a JSON file (a residual block with BatchNormalization), with a report and TensorBoard; evaluate, export and resume take it', () => {
    const dir = fixture();
    const run = mkdtempSync(join(tmpdir(), 'run-'));
    const net = {
      name: 'residual',
      inputs: [{ name: 'image', shape: [28, 28, 1] }],
      layers: [
        { kind: 'Conv2D', name: 'stem', filters: 4, kernelSize: 3, strides: 2, padding: 'same', inbound: ['image'] },
        { kind: 'Conv2D', name: 'c1', filters: 4, kernelSize: 3, padding: 'same', useBias: false, inbound: ['stem'] },
        { kind: 'BatchNormalization', name: 'bn', momentum: 0.9, inbound: ['c1'] },
        { kind: 'ReLU', name: 'r1', inbound: ['bn'] },
        { kind: 'Add', name: 'join', inbound: ['stem', 'r1'] },
        { kind: 'GlobalAvgPool2D', name: 'gap', inbound: ['join'] },
        { kind: 'Dense', name: 'logits', units: 10, inbound: ['gap'] },
      ],
      outputs: ['logits'],
    };
    const file = join(run, 'residual.json');
    writeFileSync(file, JSON.stringify(net));
    const out = join(run, 'out');
    const r = convkit(['train', '--data-dir', dir, '--epochs', '1', '--model', file, '--out', out, '--tensorboard', join(out, 'tb'), '--report', join(out, 'report.html'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training residual \(\d+ parameters, input 28×28×1, 10 classes\)/);
    const trained = JSON.parse(r.stdout);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/residual/);
    expect(readdirSync(join(out, 'tb')).length).toBeGreaterThan(0);
    const e = convkit(['evaluate', '--checkpoint', out, '--data-dir', dir, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(trained.testAccuracy, 6);
    for (const format of ['onnx', 'npz', 'h5']) expect(convkit(['export', '--checkpoint', out, '--format', format, '--output', join(run, `m.${format}`)]).status).toBe(0);
    const resumed = convkit(['train', '--resume', out, '--epochs', '2', '--data-dir', dir, '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
  });
});
