// A folder of image files, one sub-folder per class (torchvision's
// ImageFolder, Keras's image_dataset_from_directory): DIR/<class>/*.png|jpg,
// or DIR/train/<class>/..., DIR/test/<class>/... (and val/). Class names are
// the sub-folders' names in sorted order. PNG is decoded by pngjs, JPEG by
// jpeg-js (both pure JavaScript). Images of another size than the first are
// resized to it; all-gray images give one channel, others RGB (alpha dropped).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { FormatError, LimitError, ValueError } from '../core/errors.js';
import { checkAllocation, getAllocationLimit } from '../core/limits.js';
import { readFileBounded } from '../formats/read.js';
import { Tensor } from '../core/tensor.js';
import type { DataFile, LabelledSet } from './labelled.js';
import { resize } from './transforms.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const SPLITS: Record<string, 'train' | 'val' | 'test'> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test' };

/** What an entry is; a broken link or a symbolic-link loop is refused by path (readdir's names are the folder's own). */
function kindOf(path: string): 'folder' | 'file' | 'other' {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FormatError(`${path}: ${code === 'ELOOP' ? 'a loop of symbolic links' : code === 'ENOENT' ? 'a symbolic link to nothing' : `cannot read (${code ?? (error as Error).message})`}`);
  }
}
const subfolders = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.') && kindOf(join(dir, f)) === 'folder').sort();
const imagesIn = (dir: string) => readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()) && kindOf(join(dir, f)) === 'file').sort();

/** Whether a folder is laid out as class sub-folders of images (directly, or under train/ and test/). */
export function isImageFolder(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  const subs = subfolders(dir);
  const top = subs.every((s) => SPLITS[s.toLowerCase()]) && subs.length > 0 ? subs.flatMap((s) => subfolders(join(dir, s)).map((c) => join(dir, s, c))) : subs.map((c) => join(dir, c));
  return top.length > 0 && top.some((c) => imagesIn(c).length > 0);
}

interface Decoded {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  rgba: Uint8Array;
}

const require = createRequire(import.meta.url);

/** A PNG's size from its header, checked before pngjs decodes (it would allocate width × height × 4 bytes for whatever the header claims). */
function checkPngHeader(bytes: Uint8Array, path: string): void {
  if (bytes.length < 24 || bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return; // pngjs says what is wrong
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  checkAllocation(width * height, 4, `${path}: a PNG of ${width}×${height}`);
  if (width * height > 100e6) throw new LimitError(`${path}: a PNG of ${width}×${height} is over 100 megapixels, which convkit does not decode`);
}

function decode(path: string): Decoded {
  const bytes = readFileBounded(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.png') checkPngHeader(bytes, path);
  try {
    if (ext === '.png') {
      const { PNG } = require('pngjs') as typeof import('pngjs');
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    const jpeg = require('jpeg-js') as typeof import('jpeg-js');
    // jpeg-js bounds its own memory; give it the allocation limit.
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: Math.max(16, Math.floor(getAllocationLimit() / 2 ** 20)), maxResolutionInMP: 100 });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw new FormatError(`${path}: not a readable ${ext === '.png' ? 'PNG' : 'JPEG'} image (${(error as Error).message})`);
  }
}

/** Options of readImageFolder. */
export interface ImageFolderOptions {
  /** Leave out images that cannot be decoded (each named in a message) instead of refusing the folder. */
  skipBadImages?: boolean;
}

/** Reads one split: every image under its class folders, in class then file-name order. */
function readSplit(dir: string, classes: string[], say: (m: string) => void, options: ImageFolderOptions): LabelledSet & { gray: boolean } {
  let files: [string, number][] = [];
  const empty: string[] = [];
  classes.forEach((name, c) => {
    const folder = join(dir, name);
    if (!existsSync(folder)) return;
    const images = imagesIn(folder);
    if (images.length === 0) empty.push(name);
    for (const f of images) files.push([join(folder, f), c]);
  });
  if (!files.length) throw new FormatError(`${dir}: no .png or .jpg images in its class folders (${classes.join(', ')})`);
  // torchvision's ImageFolder refuses a class without images too: a class never seen cannot be learnt or scored.
  if (empty.length) throw new FormatError(`${dir}: the class folder${empty.length > 1 ? 's' : ''} ${empty.map((e) => `'${e}'`).join(', ')} hold${empty.length > 1 ? '' : 's'} no .png or .jpg images`);
  // Decoded once here when bad images are to be skipped, so that the first good one sets the size.
  const decoded = new Map<string, Decoded>();
  if (options.skipBadImages) {
    const bad: string[] = [];
    files = files.filter(([path]) => {
      try {
        decoded.set(path, decode(path));
        return true;
      } catch (error) {
        if (!(error instanceof FormatError || error instanceof LimitError)) throw error;
        bad.push(error.message);
        return false;
      }
    });
    if (bad.length) say(`${dir}: skipped ${bad.length} unreadable image(s): ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`);
    if (!files.length) throw new FormatError(`${dir}: none of its images can be read`);
  }
  const read = (path: string) => decoded.get(path) ?? decode(path);
  const first = read(files[0][0]);
  const [h, w] = [first.height, first.width];
  checkAllocation(files.length * h * w * 3, 4, `${dir}: ${files.length} images of ${h}×${w}×3`);
  const rgb = new Float32Array(files.length * h * w * 3);
  const y = new Int32Array(files.length);
  let gray = true;
  let resized = 0;
  files.forEach(([path, c], i) => {
    const image = i === 0 ? first : read(path);
    decoded.delete(path);
    const same = image.width === w && image.height === h;
    // Same size: straight into the batch; another size: into its own plane, then resized into place.
    const plane = same ? rgb.subarray(i * h * w * 3, (i + 1) * h * w * 3) : new Float32Array(image.width * image.height * 3);
    for (let p = 0; p < image.width * image.height; p++) {
      const [r, g, b] = [image.rgba[p * 4], image.rgba[p * 4 + 1], image.rgba[p * 4 + 2]];
      if (r !== g || g !== b) gray = false;
      plane[p * 3] = r / 255;
      plane[p * 3 + 1] = g / 255;
      plane[p * 3 + 2] = b / 255;
    }
    if (!same) {
      rgb.set(resize(new Tensor(plane, [1, image.height, image.width, 3]), h, w).data, i * h * w * 3);
      resized++;
    }
    y[i] = c;
  });
  if (resized) say(`${dir}: ${resized} of ${files.length} images resized to ${h}×${w}, the size of the first`);
  if (!gray) return { x: new Tensor(rgb, [files.length, h, w, 3]), y, gray };
  const one = new Float32Array(files.length * h * w);
  for (let p = 0; p < one.length; p++) one[p] = rgb[p * 3];
  return { x: new Tensor(one, [files.length, h, w, 1]), y, gray };
}

/** Reads an image folder as a data set (see the top of this file). */
export function readImageFolder(dir: string, say: (m: string) => void = () => {}, options: ImageFolderOptions = {}): DataFile {
  const subs = subfolders(dir);
  const split = subs.length > 0 && subs.every((s) => SPLITS[s.toLowerCase()]);
  const roots: [('train' | 'val' | 'test'), string][] = split ? subs.map((s) => [SPLITS[s.toLowerCase()], join(dir, s)]) : [['train', dir]];
  const classes = [...new Set(roots.flatMap(([, root]) => subfolders(root)))].sort();
  if (classes.length < 1) throw new ValueError(`${dir}: no class folders; an image folder has one sub-folder of images per class`);
  const sets: Partial<Record<'train' | 'val' | 'test', LabelledSet & { gray: boolean }>> = {};
  for (const [name, root] of roots) sets[name] = readSplit(root, classes, say, options);
  // A set read as gray while another is RGB: give it three equal channels.
  const anyRgb = Object.values(sets).some((s) => !s!.gray);
  for (const s of Object.values(sets)) {
    if (anyRgb && s!.gray) {
      const [n, h, w] = s!.x.shape;
      const out = new Float32Array(n * h * w * 3);
      for (let p = 0; p < n * h * w; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = s!.x.data[p];
      s!.x = new Tensor(out, [n, h, w, 3]);
    }
  }
  const strip = (s?: LabelledSet & { gray: boolean }) => (s ? { x: s.x, y: s.y } : undefined);
  const counts = Object.entries(sets).map(([k, s]) => `${s!.y.length} ${k}`).join(', ');
  return { source: `${dir} (image folders: ${classes.length} classes, ${counts})`, train: strip(sets.train), val: strip(sets.val), test: strip(sets.test), classes };
}
