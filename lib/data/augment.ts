// How fit varies a training batch: random shifts (a random crop of the image
// padded by zeros or by its reflection), flips and cutout, drawn per image
// from a Random that fit seeds from (seed, epoch, batch) only, so a resumed run
// draws exactly what an uninterrupted one would. Also the mirror that flip
// test-time augmentation uses.
import type { Random } from '../core/random.js';

/** Random changes to each training image, drawn from the run's seed: shifts, flips and cutout. */
export interface Augmentation {
  /** Largest random shift in pixels, up, down, left or right: a random crop of the image padded by this much (torchvision's RandomCrop(size, padding)). */
  shift?: number;
  /** What a shift brings in at the edge: 'zero' (the default) or 'reflect' (the mirror image about the edge pixel, torch's padding_mode='reflect'). */
  padMode?: 'zero' | 'reflect';
  /** Mirror left-right with probability 1/2 (for images where that keeps the class: not digits). */
  flip?: boolean;
  /** Cutout (DeVries and Taylor, 2017): zero a square of this side at a random centre, clipped at the edges; 0 or absent for none. */
  cutout?: number;
}

// The image being gathered from, for reflect padding; grown to the largest image seen.
let scratch = new Float32Array(0);

/** The index i reflected into [0, n) about the edge pixels (n - 1 >= |shift| keeps one reflection enough). */
const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

/**
 * Shifts, flips and cuts out each image of an NHWC batch in place. A flip
 * swaps pixels within each row; a zero-padded shift is one memmove of the
 * whole image (copyWithin) by dy rows and dx pixels, after which the rows and
 * columns that came in (or wrapped across a row end) are zeroed; a
 * reflect-padded one gathers from a copy. An image is mirrored first when
 * flipped, so out[y][x] = m[y - dy][x - dx] with m the (mirrored) image and
 * dx negated for a mirrored one (that is, in[y - dy][w - 1 - x - dx]); indices
 * outside m are zero or reflected. Draws per image: dy, dx (with a shift),
 * flip (with flip), then the cutout's centre row and column (with cutout).
 */
export function augmentBatch(x: Float32Array, n: number, h: number, w: number, c: number, options: Augmentation, random: Random): void {
  const shift = options.shift ?? 0;
  const cutout = options.cutout ?? 0;
  const reflectPad = options.padMode === 'reflect';
  const size = h * w * c;
  const rowSize = w * c;
  if (reflectPad && scratch.length < size) scratch = new Float32Array(size);
  for (let b = 0; b < n; b++) {
    const dy = shift ? random.int(2 * shift + 1) - shift : 0;
    let dx = shift ? random.int(2 * shift + 1) - shift : 0;
    const flip = options.flip ? random.next() < 0.5 : false;
    const base = b * size;
    if (flip) {
      for (let y = 0; y < h; y++) {
        const row = base + y * rowSize;
        for (let left = 0, right = w - 1; left < right; left++, right--) {
          for (let ch = 0; ch < c; ch++) {
            const t = x[row + left * c + ch];
            x[row + left * c + ch] = x[row + right * c + ch];
            x[row + right * c + ch] = t;
          }
        }
      }
      dx = -dx;
    }
    if (dy !== 0 || dx !== 0) {
      if (reflectPad) shiftReflected(x, base, h, w, c, dy, dx);
      else shiftZeroed(x, base, h, w, c, dy, dx);
    }
    if (cutout > 0) {
      const cy = random.int(h) - (cutout >> 1);
      const cx = random.int(w) - (cutout >> 1);
      const x0 = Math.max(cx, 0) * c;
      const x1 = Math.min(cx + cutout, w) * c;
      for (let y = Math.max(cy, 0); y < Math.min(cy + cutout, h); y++) if (x1 > x0) x.fill(0, base + y * rowSize + x0, base + y * rowSize + x1);
    }
  }
}

function shiftZeroed(x: Float32Array, base: number, h: number, w: number, c: number, dy: number, dx: number): void {
  const size = h * w * c;
  const rowSize = w * c;
  if (Math.abs(dy) >= h || Math.abs(dx) >= w) {
    x.fill(0, base, base + size);
    return;
  }
  const offset = dy * rowSize + dx * c;
  if (offset > 0) x.copyWithin(base + offset, base, base + size - offset);
  else x.copyWithin(base, base - offset, base + size);
  // Rows shifted in at the top or bottom.
  if (dy > 0) x.fill(0, base, base + dy * rowSize);
  else if (dy < 0) x.fill(0, base + (h + dy) * rowSize, base + size);
  // Columns shifted in at the left or right (where pixels wrapped from the neighbouring row).
  if (dx !== 0) {
    const from = dx > 0 ? 0 : (w + dx) * c;
    const count = Math.abs(dx) * c;
    for (let y = Math.max(dy, 0); y < h + Math.min(dy, 0); y++) x.fill(0, base + y * rowSize + from, base + y * rowSize + from + count);
  }
}

function shiftReflected(x: Float32Array, base: number, h: number, w: number, c: number, dy: number, dx: number): void {
  const rowSize = w * c;
  scratch.set(x.subarray(base, base + h * rowSize));
  for (let y = 0; y < h; y++) {
    const src = reflect(y - dy, h) * rowSize;
    const dst = base + y * rowSize;
    for (let xx = 0; xx < w; xx++) {
      const from = src + reflect(xx - dx, w) * c;
      for (let ch = 0; ch < c; ch++) x[dst + xx * c + ch] = scratch[from + ch];
    }
  }
}

/** Writes the left-right mirror of each of n NHWC images of src into dst (the two must not overlap). */
export function mirrorImagesInto(src: Float32Array, dst: Float32Array, n: number, h: number, w: number, c: number): void {
  const rowSize = w * c;
  for (let row = 0; row < n * h; row++) {
    const base = row * rowSize;
    for (let x = 0; x < w; x++) {
      const from = base + x * c;
      const to = base + (w - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) dst[to + ch] = src[from + ch];
    }
  }
}
