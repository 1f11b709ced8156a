// CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test images of
// 32×32 RGB in 10 classes. Read from the official binary batches
// (data_batch_1.bin ... data_batch_5.bin, test_batch.bin: records of one
// label byte, then 1024 red, 1024 green and 1024 blue bytes, row-major) or
// from image folders, <split>/<class>/*.jpg|png, as torchvision's ImageFolder
// takes them. Folders are decoded on worker threads once; the pixels are
// then cached, in the binary batches' own record format, beside the data
// (or in the cache folder where the data's folder is read-only), keyed by
// the files' names, sizes and times, so a second run starts in about a second.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FormatError } from '../core/errors.js';
import { readFileBounded } from '../formats/read.js';
import { decodeImages } from './decode-pool.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const RECORD = 1 + 3 * PIXELS;
const TRAIN_BATCHES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_BATCH = 'test_batch.bin';
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** One split as 8-bit NHWC pixels [n, 32, 32, 3] and labels 0..9. */
export interface Cifar10Split {
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Where a copy of CIFAR-10 is and in which form. */
export interface Cifar10Location {
  dir: string;
  form: 'binary' | 'folders';
}

/** The record bytes of n images (the binary batches' format). */
export function encodeCifar10(split: Cifar10Split): Uint8Array {
  const n = split.labels.length;
  const out = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    const rec = i * RECORD;
    out[rec] = split.labels[i];
    const img = i * PIXELS * 3;
    for (let c = 0; c < 3; c++) {
      const plane = rec + 1 + c * PIXELS;
      for (let p = 0, o = img + c; p < PIXELS; p++, o += 3) out[plane + p] = split.pixels[o];
    }
  }
  return out;
}

/** Parses records of the binary batches into NHWC pixels and labels. */
export function parseCifar10(bytes: Uint8Array, what: string): Cifar10Split {
  if (bytes.length % RECORD !== 0) throw new FormatError(`${what}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records`);
  const n = bytes.length / RECORD;
  const pixels = new Uint8Array(n * PIXELS * 3);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rec = i * RECORD;
    const label = bytes[rec];
    if (label > 9) throw new FormatError(`${what}: record ${i} has label ${label}, outside 0..9`);
    labels[i] = label;
    // Plane by plane: three strided writes of 1024 contiguous reads each.
    const img = i * PIXELS * 3;
    for (let c = 0; c < 3; c++) {
      const plane = rec + 1 + c * PIXELS;
      for (let p = 0, o = img + c; p < PIXELS; p++, o += 3) pixels[o] = bytes[plane + p];
    }
  }
  return { pixels, labels };
}

function concat(parts: readonly Cifar10Split[]): Cifar10Split {
  const pixels = new Uint8Array(parts.reduce((n, p) => n + p.pixels.length, 0));
  const labels = new Uint8Array(parts.reduce((n, p) => n + p.labels.length, 0));
  let a = 0;
  let b = 0;
  for (const p of parts) {
    pixels.set(p.pixels, a);
    labels.set(p.labels, b);
    a += p.pixels.length;
    b += p.labels.length;
  }
  return { pixels, labels };
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** The split folders of an image tree (train/ and test/, each with the ten class folders), or null. */
function splitFolders(dir: string): { train: string; test: string } | null {
  const train = join(dir, 'train');
  const test = join(dir, 'test');
  if (!isDir(train) || !isDir(test)) return null;
  return CIFAR10_CLASSES.every((c) => isDir(join(train, c))) ? { train, test } : null;
}

/** The first of dir, dir/cifar-10-batches-bin, dir/cifar10, dir/cifar10-jpeg that holds CIFAR-10, or null. */
export function locateCifar10(dir: string): Cifar10Location | null {
  for (const candidate of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar10'), join(dir, 'cifar10-jpeg')]) {
    if ([...TRAIN_BATCHES, TEST_BATCH].every((f) => existsSync(join(candidate, f)))) return { dir: candidate, form: 'binary' };
    if (splitFolders(candidate)) return { dir: candidate, form: 'folders' };
  }
  return null;
}

/** Every image of a split folder, class by class in the official label order, files in name order. */
function listSplit(dir: string): { paths: string[]; labels: Uint8Array } {
  const paths: string[] = [];
  const labels: number[] = [];
  CIFAR10_CLASSES.forEach((name, c) => {
    const folder = join(dir, name);
    for (const f of readdirSync(folder).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort()) {
      paths.push(join(folder, f));
      labels.push(c);
    }
  });
  if (!paths.length) throw new FormatError(`${dir}: no .jpg or .png images in its class folders (${CIFAR10_CLASSES.join(', ')})`);
  return { paths, labels: Uint8Array.from(labels) };
}

/** What the cache key covers: each file's path, size and modification time. */
function folderKey(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of files) {
    const s = statSync(f);
    hash.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Beside the data where its folder is writable (by its mode, not just by who we are), else the cache folder. */
function cacheFolder(dataDir: string, cacheDir: string, key: string): string {
  const beside = (statSync(dataDir).mode & 0o200) !== 0;
  return beside ? join(dataDir, '.convkit-cache', `cifar10-${key}`) : join(cacheDir, 'cifar10', key);
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
}

/** Reads a folder tree once (decoding on worker threads) and later from its cache. */
async function readFolders(dir: string, cacheDir: string, log: (m: string) => void): Promise<{ train: Cifar10Split; test: Cifar10Split; how: string }> {
  const splits = splitFolders(dir)!;
  const train = listSplit(splits.train);
  const test = listSplit(splits.test);
  const key = folderKey([...train.paths, ...test.paths]);
  let cache = cacheFolder(dir, cacheDir, key);
  const cached = (name: string) => join(cache, `${name}.bin`);
  if (existsSync(cached('train')) && existsSync(cached('test'))) {
    return { train: parseCifar10(readFileBounded(cached('train')), cached('train')), test: parseCifar10(readFileBounded(cached('test')), cached('test')), how: `decoded pixels cached in ${cache}` };
  }
  const start = performance.now();
  const decoded = {
    train: { pixels: await decodeImages(train.paths, SIDE, SIDE), labels: train.labels },
    test: { pixels: await decodeImages(test.paths, SIDE, SIDE), labels: test.labels },
  };
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  try {
    mkdirSync(cache, { recursive: true });
  } catch {
    cache = join(cacheDir, 'cifar10', key);
    mkdirSync(cache, { recursive: true });
  }
  writeAtomically(cached('train'), encodeCifar10(decoded.train));
  writeAtomically(cached('test'), encodeCifar10(decoded.test));
  log(`data: decoded ${(train.paths.length + test.paths.length).toLocaleString('en-US')} images in ${seconds} s; cached in ${cache}`);
  return { ...decoded, how: `decoded from image folders, now cached in ${cache}` };
}

/** Reads the copy at a location: the binary batches, or the image folders (through their cache). */
export async function readCifar10(location: Cifar10Location, cacheDir: string, log: (m: string) => void): Promise<{ train: Cifar10Split; test: Cifar10Split; how: string }> {
  if (location.form === 'folders') return readFolders(location.dir, cacheDir, log);
  const read = (f: string) => parseCifar10(readFileBounded(join(location.dir, f)), join(location.dir, f));
  return { train: concat(TRAIN_BATCHES.map(read)), test: read(TEST_BATCH), how: 'binary batches' };
}
