import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data } from '../../lib/index.js';
import { rng } from './random.js';

/** A folder in MNIST's layout: `count` random training images and 20 test images, labels cycling 0..9 (seeded by count). */
export function mnistFixture(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
  const random = rng(count);
  const img = (n: number) => data.encodeIdx([n, 28, 28], new Uint8Array(n * 784).map(() => Math.floor(random() * 256)));
  const lab = (n: number) => data.encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), img(count));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lab(count));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(20));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), lab(20));
  return dir;
}
