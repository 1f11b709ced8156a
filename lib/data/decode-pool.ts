// Decodes many small image files on worker threads: 60,000 CIFAR JPEGs take
// seconds on one thread of pure-JavaScript decoding, and each worker takes
// its own contiguous share. Each worker writes 8-bit RGB pixels of one fixed
// size straight into its share and hands the buffer back (transferred, not
// copied). The worker's source is a string run with `eval`, so that it works
// the same from the compiled package and from the TypeScript sources.
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { FormatError } from '../core/errors.js';

const require = createRequire(import.meta.url);

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const jpeg = require(workerData.jpegJs);
const { PNG } = require(workerData.pngjs);
const { paths, height, width } = workerData;
const size = height * width * 3;
const out = new Uint8Array(paths.length * size);
try {
  paths.forEach((path, i) => {
    const bytes = readFileSync(path);
    const image = /\\.png$/i.test(path)
      ? PNG.sync.read(bytes)
      : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 64, maxResolutionInMP: 4 });
    if (image.width !== width || image.height !== height) throw new Error(path + ': ' + image.width + 'x' + image.height + ' pixels, expected ' + width + 'x' + height);
    const rgba = image.data;
    const base = i * size;
    for (let p = 0; p < height * width; p++) {
      out[base + p * 3] = rgba[p * 4];
      out[base + p * 3 + 1] = rgba[p * 4 + 1];
      out[base + p * 3 + 2] = rgba[p * 4 + 2];
    }
  });
  parentPort.postMessage({ pixels: out }, [out.buffer]);
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message || error) });
}
`;

/**
 * The pixels of every file, in order, as [files, height, width, 3] bytes;
 * each file must be a JPEG or PNG of exactly that size.
 */
export async function decodeImages(paths: readonly string[], height: number, width: number, workers = availableParallelism()): Promise<Uint8Array> {
  const size = height * width * 3;
  const out = new Uint8Array(paths.length * size);
  const count = Math.max(1, Math.min(workers, Math.ceil(paths.length / 256)));
  const share = Math.ceil(paths.length / count);
  const modules = { jpegJs: require.resolve('jpeg-js'), pngjs: require.resolve('pngjs') };
  await Promise.all(
    Array.from({ length: count }, (_, k) => {
      const part = paths.slice(k * share, (k + 1) * share);
      if (part.length === 0) return Promise.resolve();
      return new Promise<void>((resolvePart, reject) => {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...modules, paths: part, height, width } });
        worker.once('message', (m: { pixels?: Uint8Array; error?: string }) => {
          if (m.error) reject(new FormatError(`decoding images: ${m.error}`));
          else {
            out.set(m.pixels!, k * share * size);
            resolvePart();
          }
          void worker.terminate();
        });
        worker.once('error', (e) => reject(new FormatError(`decoding images: ${e.message}`)));
      });
    }),
  );
  return out;
}
