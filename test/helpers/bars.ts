// A small MNIST-format folder of synthetic "digits": class c lights a
// horizontal bar at row 2c+4 over faint noise, so a short run learns it and
// different settings give different accuracies.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data } from '../../lib/index.js';
import { rng } from './random.js';

function images(n: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const random = rng(seed);
  const x = new Uint8Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * 10);
    y[i] = c;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.floor(random() * 60);
    const row = 2 * c + 4 + Math.floor(random() * 3) - 1;
    for (let col = 4 + Math.floor(random() * 4); col < 24; col++) x[i * 784 + row * 28 + col] = 255;
  }
  return { x, y };
}

/** The folder, for --data-dir (the mnist data set's file names). */
export function barsDataDir(train = 600, test = 200): string {
  const dir = mkdtempSync(join(tmpdir(), 'bars-'));
  for (const [prefix, n, seed] of [['train', train, 1], ['t10k', test, 2]] as const) {
    const { x, y } = images(n, seed);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), data.encodeIdx([n, 28, 28], x));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), data.encodeIdx([n], y));
  }
  return dir;
}
