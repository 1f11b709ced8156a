// A user's own data set from files: a .npz, an HDF5 file, a folder of .npy
// files, a CSV, a folder of IDX files, or image folders (lib/data/images.ts). Arrays are found by their names
// (x_train / train_images / train_set_x, y_train / train_labels / ...), the
// split by 'train', 'val' and 'test' in the name. Images come out as float32
// NHWC in [0, 1] when stored as bytes (as they are otherwise), labels as
// int32 class indices; the number of classes, the channels and the image
// size are read from the data.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { checkBoolean, checkFunction, checkOptions, checkPath } from '../core/check.js';
import { FormatError, ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import { checkAllocation } from '../core/limits.js';
import { Hdf5Reader } from '../formats/hdf5-file.js';
import { Tensor } from '../core/tensor.js';
import { readCsv } from '../formats/csv.js';
import { readIdx } from '../formats/idx.js';
import { isImageFolder, readImageFolder } from './images.js';
import type { DataFile, LabelledSet } from './labelled.js';

export type { DataFile, LabelledSet } from './labelled.js';
import { type NpyArray, readNpy, readNpz } from '../formats/npy.js';

type Split = 'train' | 'val' | 'test' | 'all';
type Role = 'x' | 'y';

const X_WORDS = new Set(['x', 'images', 'image', 'imgs', 'data', 'features', 'inputs', 'input', 'pixels']);
const Y_WORDS = new Set(['y', 'labels', 'label', 'targets', 'target', 'classes_idx']);

/** The split and role an array's name gives it ('train_set_x' → train, x), or null. */
export function roleOf(name: string): { split: Split; role: Role } | null {
  const words = name.toLowerCase().split(/[^a-z0-9]+|(?<=[a-z])(?=[0-9])/).filter(Boolean);
  const role: Role | null = words.some((w) => X_WORDS.has(w)) ? 'x' : words.some((w) => Y_WORDS.has(w)) ? 'y' : null;
  if (!role) return null;
  const split: Split = words.some((w) => w === 'train' || w === 'training')
    ? 'train'
    : words.some((w) => w === 'val' || w === 'valid' || w === 'validation' || w === 'dev')
      ? 'val'
      : words.some((w) => w === 'test' || w === 'testing')
        ? 'test'
        : 'all';
  return { split, role };
}

/** A numeric array as read from any of the formats. */
interface RawArray {
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
  shape: number[];
  bytes: boolean;
}

/** The arrays of a file by name, read lazily (an HDF5 dataset is read only if it is used). */
interface ArraySource {
  names: string[];
  /** Groups of an HDF5 file (no arrays), named in messages. */
  groups?: string[];
  read(name: string): RawArray;
  close?(): void;
  describe: string;
}

function fromNpy(a: NpyArray): RawArray {
  return { data: a.data as RawArray['data'], shape: [...a.shape], bytes: a.dtype === 'u1' };
}

async function openSource(path: string): Promise<ArraySource> {
  const ext = extname(path).toLowerCase();
  if (ext === '.npz') {
    const arrays = readNpz(path);
    return { names: Object.keys(arrays), read: (n) => fromNpy(arrays[n]), describe: path };
  }
  if (ext === '.h5' || ext === '.hdf5' || ext === '.he5') {
    const file = await Hdf5Reader.open(path);
    const groups = file.groups();
    return {
      names: file.datasets(),
      // Groups are listed too, so that a group named like the data says what it is.
      ...(groups.length ? { groups } : {}),
      read: (n) => {
        const info = file.info(n);
        if (info.kind === 'other') throw new FormatError(`${path}: '${n}' is ${file.describeEntry(n)}, where numbers (images or labels) are expected`);
        return { data: file.read(n) as RawArray['data'], shape: info.shape, bytes: info.kind === 'uint' && info.size === 1 };
      },
      close: () => file.close(),
      describe: path,
    };
  }
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith('.npy')).sort();
    if (files.length) {
      return { names: files.map((f) => f.slice(0, -4)), read: (n) => fromNpy(readNpy(join(path, `${n}.npy`))), describe: `${path} (.npy files)` };
    }
    const idx = readdirSync(path).filter((f) => /-idx\d-ubyte(\.gz)?$/.test(f)).sort();
    if (idx.length) {
      return {
        names: idx.map((f) => f.replace(/\.gz$/, '').replace('t10k', 'test')),
        read: (n) => {
          const file = idx.find((f) => f.replace(/\.gz$/, '').replace('t10k', 'test') === n)!;
          const a = readIdx(join(path, file));
          return { data: a.data, shape: [...a.dims], bytes: true };
        },
        describe: `${path} (IDX files)`,
      };
    }
    throw new FormatError(`${path}: a folder without .npy, IDX or image files; give a .npz, .h5 or .csv file, or a folder of .npy (x_train.npy, y_train.npy, ...), IDX files, or one sub-folder of .png/.jpg images per class`);
  }
  throw new FormatError(`${path}: convkit reads data from .npz, .h5/.hdf5, .csv, or a folder of .npy or IDX files; this file is '${ext || 'without an extension'}'`);
}

/** Labels as int32 class indices, from any integer type (int64 included) or integral floats, flattened from [N] or [N, 1]. */
export function labelsFrom(raw: RawArray, what: string): Int32Array {
  if (raw.shape.length > 2 || (raw.shape.length === 2 && raw.shape[1] !== 1)) {
    throw new ShapeError(`${what}: labels must be [N] or [N, 1] class indices, got ${formatShape(raw.shape)} (one-hot labels: take their argmax)`);
  }
  const n = raw.shape[0] ?? 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(raw.data[i]);
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new ValueError(`${what}: label ${i} is ${describe(raw.data[i])}; labels must be class indices 0, 1, 2, ...`);
    out[i] = v;
  }
  return out;
}

/**
 * Images as [N, H, W, C] float32: bytes scaled to [0, 1], other types as
 * they are. [N, H, W] gains a channel; [N, C, H, W] (PyTorch's layout, C of 1
 * or 3 and W > 4) is transposed; [N, F] becomes square gray or RGB when F is.
 */
export function imagesFrom(raw: RawArray, what: string, say: (m: string) => void = () => {}): Tensor {
  let shape = raw.shape;
  const n = shape[0] ?? 0;
  if (shape.length === 2) {
    const f = shape[1];
    const gray = Math.round(Math.sqrt(f));
    const rgb = Math.round(Math.sqrt(f / 3));
    if (gray * gray === f) shape = [n, gray, gray, 1];
    else if (3 * rgb * rgb === f) shape = [n, rgb, rgb, 3];
    else throw new ShapeError(`${what}: ${f} values per sample are not a square image; save the images as [N, H, W] or [N, H, W, C]`);
  } else if (shape.length === 3) shape = [...shape, 1];
  else if (shape.length !== 4) throw new ShapeError(`${what}: images must be [N, H, W], [N, H, W, C] or [N, F], got ${formatShape(raw.shape)}`);
  const size = shape.reduce((a, b) => a * b, 1);
  checkAllocation(size, 4, `${what} as float32`);
  const out = new Float32Array(size);
  const scale = raw.bytes ? 1 / 255 : 1;
  const channelsFirst = raw.shape.length === 4 && (raw.shape[1] === 1 || raw.shape[1] === 3) && raw.shape[3] > 4;
  if (channelsFirst) {
    const [, c, h, w] = raw.shape;
    say(`${what}: ${formatShape(raw.shape)} read as channels-first (N, C, H, W) and transposed to N, H, W, C`);
    shape = [n, h, w, c];
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++)
        for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + ch] = Number(raw.data[(b * c + ch) * h * w + p]) * scale;
  } else {
    for (let i = 0; i < size; i++) out[i] = Number(raw.data[i]) * scale;
  }
  const per = size / Math.max(n, 1);
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(out[i])) throw new ValueError(`${what}: sample ${Math.floor(i / per)} holds ${out[i]}; images must be finite`);
  }
  return new Tensor(out, shape);
}

/** How a data file is read: which arrays hold the images and labels, and where to report. */
export interface DataFileOptions {
  /** For a CSV: the label column (default: a column named 'label', else the first). */
  labelColumn?: string | number;
  /** Where progress and notices go (default: nowhere). */
  log?: (message: string) => void;
  /** For an image folder: leave out images that cannot be decoded (each named in the log) instead of refusing the folder. */
  skipBadImages?: boolean;
}

/** Reads a data set from a file or folder (see the top of this file). */
export async function loadDataFile(path: string, options: DataFileOptions = {}): Promise<DataFile> {
  checkPath(path, 'path', 'loadDataFile');
  checkOptions(options, ['labelColumn', 'log', 'skipBadImages'], 'loadDataFile');
  if (options.skipBadImages !== undefined) checkBoolean(options.skipBadImages, 'skipBadImages', 'loadDataFile');
  if (options.log !== undefined) checkFunction(options.log, 'log', 'loadDataFile');
  if (options.labelColumn !== undefined && typeof options.labelColumn !== 'string' && !Number.isInteger(options.labelColumn)) {
    throw new ValueError(`loadDataFile: labelColumn must be a column name or index, got ${describe(options.labelColumn)}`);
  }
  const say = options.log ?? (() => {});
  if (!existsSync(path)) throw new FormatError(`${path}: no such file or folder`);
  if (extname(path).toLowerCase() === '.csv') {
    const { x, y } = readCsvImages(path, options.labelColumn ?? 'label', say);
    if (!y) throw new FormatError(`${path}: no label column`);
    return { source: `${path} (CSV)`, train: { x, y }, classes: classNames(y) };
  }
  if (isImageFolder(path)) return readImageFolder(path, say, { skipBadImages: options.skipBadImages === true });
  const source = await openSource(path);
  try {
    const found: Partial<Record<Split, Partial<Record<Role, string>>>> = {};
    for (const name of source.names) {
      const r = roleOf(basename(name));
      if (!r) continue;
      const slot = (found[r.split] ??= {});
      if (slot[r.role] === undefined) slot[r.role] = name;
    }
    const pairs = (['train', 'val', 'test', 'all'] as Split[]).filter((s) => found[s]?.x !== undefined && found[s]?.y !== undefined);
    if (!pairs.length) {
      const groups = source.groups?.length ? `; groups, which hold no array themselves: ${source.groups.join(', ')}` : '';
      throw new FormatError(`${source.describe}: no images and labels found by name (it has: ${source.names.join(', ') || 'nothing'}${groups}); name them e.g. x_train / y_train, train_images / train_labels or train_set_x / train_set_y`);
    }
    const read = (split: Split): LabelledSet => {
      const { x: xName, y: yName } = found[split] as Record<Role, string>;
      const y = labelsFrom(source.read(yName), `${path}: '${yName}'`);
      const x = imagesFrom(source.read(xName), `${path}: '${xName}'`, say);
      if (x.shape[0] !== y.length) throw new ShapeError(`${path}: '${xName}' has ${x.shape[0]} images but '${yName}' ${y.length} labels`);
      return { x, y };
    };
    const train = pairs.includes('train') ? read('train') : pairs.includes('all') ? read('all') : undefined;
    const val = pairs.includes('val') ? read('val') : undefined;
    const test = pairs.includes('test') ? read('test') : undefined;
    const first = (train ?? val ?? test)!;
    for (const [name, set] of [['validation', val], ['test', test]] as const) {
      if (set && set.x.shape.slice(1).join() !== first.x.shape.slice(1).join()) {
        throw new ShapeError(`${path}: the ${name} images are ${formatShape(set.x.shape.slice(1))} but the training images ${formatShape(first.x.shape.slice(1))}`);
      }
    }
    const used = pairs.map((s) => `${found[s]!.x}/${found[s]!.y}`).join(', ');
    const all = [train?.y, val?.y, test?.y].filter(Boolean) as Int32Array[];
    const classes = classNames(...all);
    return { source: `${source.describe} (${used})`, train, val, test, classes };
  } finally {
    source.close?.();
  }
}

function classNames(...labels: Int32Array[]): string[] {
  let max = 0;
  for (const y of labels) for (let i = 0; i < y.length; i++) if (y[i] > max) max = y[i];
  return Array.from({ length: Math.max(max + 1, 2) }, (_, i) => String(i));
}

/**
 * A CSV of one image per row (e.g. Kaggle's label, pixel0..pixel783) as
 * [N, H, W, C] images: square gray or RGB rows, values above 1.5 taken as
 * 0..255 and scaled to [0, 1].
 */
export function readCsvImages(path: string, labelColumn: string | number | null, say: (m: string) => void = () => {}): { x: Tensor; y: Int32Array | null } {
  const csv = readCsv(path, { labelColumn });
  let max = -Infinity;
  for (let i = 0; i < csv.x.size; i++) if (csv.x.data[i] > max) max = csv.x.data[i];
  // Values past 1.5 are 0..255 pixels: scaled as bytes are, in the one copy imagesFrom makes.
  if (max > 1.5) say(`${path}: pixel values up to ${max}, scaled to [0, 1]`);
  const x = imagesFrom({ data: csv.x.data, shape: [csv.x.shape[0], csv.x.size / Math.max(csv.x.shape[0], 1)], bytes: max > 1.5 }, path, say);
  return { x, y: csv.y };
}
