// Everything in examples/ runs, so that none of it can rot: the architecture
// files build for the data they are meant for and predict; the scripts run
// with node on a small MNIST-layout folder (random digits, so their accuracy
// means nothing; that they finish and print it is what is checked).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { modelFromConfig, Tensor } from '../lib/index.js';
import { mnistFixture } from './helpers/mnist-fixture.js';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const inputs: Record<string, [number, number, number]> = { 'fashion-net.json': [28, 28, 1], 'signs-course.json': [64, 64, 3], 'mlp-3layer.json': [28, 28, 1] };

describe('examples/*.json', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s builds and predicts', (file) => {
    expect(inputs[file], `add ${file}'s input shape to this test`).toBeDefined();
    const model = modelFromConfig({ ...JSON.parse(readFileSync(dir + file, 'utf8')), inputShape: inputs[file] });
    const out = model.predict(new Tensor(new Float32Array(2 * inputs[file].reduce((a, b) => a * b, 1)).fill(0.5), [2, ...inputs[file]]));
    expect(out.shape[0]).toBe(2);
    expect(Array.from(out.data).every(Number.isFinite)).toBe(true);
  });
});

/** A data folder with mnist/ and fashion-mnist/ of 320 training images each, and CIFAR-10's binary batches of 40 random images each. */
function smallData(): string {
  const root = mkdtempSync(join(tmpdir(), 'examples-data-'));
  for (const name of ['mnist', 'fashion-mnist']) renameSync(mnistFixture(320), join(root, name));
  const cifar = join(root, 'cifar-10-batches-bin');
  mkdirSync(cifar);
  let seed = 7;
  const byte = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (const file of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    const records = new Uint8Array(40 * 3073);
    for (let r = 0; r < 40; r++) {
      records[r * 3073] = r % 10;
      for (let k = 1; k < 3073; k++) records[r * 3073 + k] = byte();
    }
    writeFileSync(join(cifar, `${file}.bin`), records);
  }
  return root;
}

/** What each script must print. */
const printed: Record<string, RegExp> = {
  'train-mnist.mjs': /test accuracy: \d+\.\d\d%/,
  'fashion-early-stopping.mjs': /stopped after \d+ epochs/,
  // the course's worked 5x5 image, convolved with its 3x3 filter: a result a wrong op would not print.
  'course-functions.mjs': /conv \[ \[ 4, 3, 4 \], \[ 2, 4, 3 \], \[ 2, 3, 4 \] \]/,
};

const data = smallData();

/** What each port prints at its end: the source's own closing lines. */
const portPrinted: Record<string, RegExp> = {
  'tfjs-mnist-node.mjs': /Epoch 20 \/ 20\nLoss: \d\.\d{3} \(train\), \d\.\d{3} \(val\); Accuracy: \d\.\d{3} \(train\), \d\.\d{3} \(val\)[^]*Evaluation result:\n  Loss = \d+\.\d{3}; Accuracy = \d\.\d{3}\nSaved model to path: /,
  'keras-mnist-convnet.mjs': /x_train shape: \[ 320, 28, 28, 1 \][^]*Total params: 34,826[^]*Test loss: \d[^]*Test accuracy: /,
  'pytorch-cifar10-tutorial.mjs': /Finished Training\nAccuracy of the network on the 40 test images: \d+ %\nAccuracy for class: plane is /,
};

describe('examples/ports/*.mjs: the public scripts, ported line for line, run on small data', () => {
  const ports = join(dir, 'ports');
  it.each(readdirSync(ports).filter((f) => f.endsWith('.mjs')))('%s', (file) => {
    expect(portPrinted[file], `add what ${file} prints to this test`).toBeDefined();
    const cwd = mkdtempSync(join(tmpdir(), 'port-run-'));
    const { CONVKIT_DATA: _data, ...env } = process.env;
    const args = file === 'tfjs-mnist-node.mjs' ? ['--model_save_path', join(cwd, 'saved')] : [];
    const r = spawnSync(process.execPath, [join(ports, file), data, ...args], { cwd, env: { ...env, CONVKIT_DATA_MIRROR: 'http://127.0.0.1:9/' }, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `${file}:\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(portPrinted[file]);
  });
});

describe('examples/*.mjs', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.mjs')))('%s runs on small data', (file) => {
    expect(printed[file], `add what ${file} prints to this test`).toBeDefined();
    const cwd = mkdtempSync(join(tmpdir(), 'example-run-'));
    mkdirSync(join(cwd, 'runs'));
    const { CONVKIT_DATA: _data, ...env } = process.env;
    const r = spawnSync(process.execPath, [join(dir, file), data], { cwd, env: { ...env, CONVKIT_DATA_MIRROR: 'http://127.0.0.1:9/' }, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `${file}:\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(printed[file]);
  });
});
