import { crc32, deflateSync } from 'node:zlib';

// PNG images of floats: gray [H, W] in [0, 1], or a gray image with a heat
// map in [0, 1] blended over it.

/** One chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An 8-bit RGBA image [height, width, 4] as PNG (each row unfiltered, then deflated). */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, filter set 0, no interlace
  const stride = width * 4;
  const rows = Buffer.alloc(height * (stride + 1)); // a 0 (no filter) byte before each row
  for (let y = 0; y < height; y++) rows.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return new Uint8Array(Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]));
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** A [H, W] (or [H, W, 1]) float image in [0, 1] as a gray PNG, scaled up by an integer factor. */
export function grayPng(pixels: ArrayLike<number>, width: number, height: number, scale = 1): Uint8Array {
  const w = width * scale;
  const h = height * scale;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = clamp(pixels[Math.floor(y / scale) * width + Math.floor(x / scale)] * 255);
      rgba.set([v, v, v, 255], (y * w + x) * 4);
    }
  return encodePng(rgba, w, h);
}

/** A jet-like colour for t in [0, 1]: blue → cyan → yellow → red. */
export function heatColor(t: number): [number, number, number] {
  const v = Math.max(0, Math.min(1, t));
  const r = clamp(255 * Math.min(Math.max(1.5 - Math.abs(4 * v - 3), 0), 1));
  const g = clamp(255 * Math.min(Math.max(1.5 - Math.abs(4 * v - 2), 0), 1));
  const b = clamp(255 * Math.min(Math.max(1.5 - Math.abs(4 * v - 1), 0), 1));
  return [r, g, b];
}

/** The image in gray with the heat map (normalised to [0, 1]) blended over it at `alpha`. */
export function overlayPng(pixels: ArrayLike<number>, heat: ArrayLike<number>, width: number, height: number, scale = 1, alpha = 0.5): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < width * height; i++) {
    lo = Math.min(lo, heat[i]);
    hi = Math.max(hi, heat[i]);
  }
  const span = hi > lo ? hi - lo : 1;
  const w = width * scale;
  const h = height * scale;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = Math.floor(y / scale) * width + Math.floor(x / scale);
      const g = pixels[i] * 255;
      const [r, gg, b] = heatColor((heat[i] - lo) / span);
      rgba.set([clamp(g * (1 - alpha) + r * alpha), clamp(g * (1 - alpha) + gg * alpha), clamp(g * (1 - alpha) + b * alpha), 255], (y * w + x) * 4);
    }
  return encodePng(rgba, w, h);
}

/** A PNG as a data: URI, for pages that fetch nothing. */
export const dataUri = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
