import { PNG } from 'pngjs';

/**
 * PNG encoding (pngjs) of images given as floats: gray [H, W] in [0, 1], or
 * a gray image with a heat map in [0, 1] blended over it.
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  png.data.set(rgba);
  return new Uint8Array(PNG.sync.write(png));
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
