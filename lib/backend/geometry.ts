// The geometry of a sliding window as both backends receive it: computed
// and validated above (lib/ops/geometry.ts), read here and in native/.

/**
 * Everything a sliding-window kernel (convolution or pooling) needs, computed
 * once in TypeScript and handed to both backends as plain integers, so the
 * kernels infer nothing. NHWC input [batch, inH, inW, inC], output
 * [batch, outH, outW, outC]; for pooling outC === inC.
 */
export interface WindowGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
}

/** The order in which native code receives a geometry's fields. */
export const GEOMETRY_FIELDS = [
  'batch', 'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW',
  'strideH', 'strideW', 'padTop', 'padBottom', 'padLeft', 'padRight',
] as const;

/**
 * Pool windows that tile the input (stride = kernel, no padding) and hold at
 * most MAX_TILED_POOL_WINDOW cells: the case where a Conv → ReLU → MaxPool
 * block keeps one byte per output (which cell won) instead of the conv's
 * output, and the backward writes each input cell once. The native kernels
 * apply the same test (native/kernels/pool/pool.cc, pool_windows_tile()); a sweep over pool
 * sizes and strides in test/native/pool-tiles.test.ts holds the two together.
 */
export const MAX_TILED_POOL_WINDOW = 64;

export function poolWindowsTile(g: WindowGeometry): boolean {
  return g.strideH === g.kH && g.strideW === g.kW && g.padTop === 0 && g.padBottom === 0 && g.padLeft === 0 && g.padRight === 0 && g.kH * g.kW <= MAX_TILED_POOL_WINDOW;
}
