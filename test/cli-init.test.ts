// convkit train --init FILE --freeze LAYER: a trained model from another
// file format, frozen up to a layer, its head replaced when the classes
// differ; the frozen weights come out of training bit-identical.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { data, exportOnnx, layers, loadModel, sequential } from '../lib/index.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convkit-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const convkit = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

/** A tiny MNIST-format folder: 96 training and 32 test images. */
function mnistLike(): string {
  const d = join(dir, 'data');
  const img = (n: number, s: number) => data.encodeIdx([n, 28, 28], new Uint8Array(n * 784).map((_, i) => ((i * 7919 + s) % 251)));
  const lab = (n: number) => data.encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  spawnSync('mkdir', ['-p', d]);
  writeFileSync(join(d, 'train-images-idx3-ubyte'), img(96, 0));
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), lab(96));
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), img(32, 5));
  writeFileSync(join(d, 't10k-labels-idx1-ubyte'), lab(32));
  return d;
}

describe('convkit train --init --freeze', () => {
  it('starts from an ONNX model, gives it a head for the data\'s 10 classes, and leaves the frozen layers bit-identical', async () => {
    const source = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [28, 28, 1] }),
      layers.maxPool2d({ poolSize: 2 }),
      layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
      layers.maxPool2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 5 }),
    ], { seed: 4 });
    const file = join(dir, 'trained.onnx');
    await exportOnnx(source, file);
    const out = join(dir, 'run');
    const r = convkit(['train', '--init', file, '--freeze', '3', '--data-dir', mnistLike(), '--dataset', 'mnist', '--epochs', '2', '--out', out, '--quiet', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const trained = loadModel(out);
    expect(trained.outputUnits).toBe(10);
    const convs = (m: typeof trained) => m.layers.filter((l) => l.kind === 'Conv2D').flatMap((l) => l.parameters().map((p) => p.value.data));
    // The four frozen layers (conv, relu, pool, conv) kept their weights to the bit; the new head learnt.
    expect(convs(trained)).toEqual(convs(source));
    expect(trained.layers.slice(0, 4).map((l) => l.trainable)).toEqual([false, false, false, false]);
    expect(trained.layers.at(-1)!.trainable).toBe(true);
  });

  it('refuses --freeze without --init, --init with --model, and an unknown layer', () => {
    expect(convkit(['train', '--freeze', 'conv']).stderr).toMatch(/--freeze goes with --init/);
    expect(convkit(['train', '--init', cli, '--model', 'mnist-2layer']).stderr).toMatch(/--init and --model both say what to train/);
    expect(convkit(['train', '--init', join(dir, 'none.h5')]).stderr).toMatch(/--init .*none.h5: no such file or folder/);
  });
});
