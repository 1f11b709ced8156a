import type { WindowGeometry } from './geometry.js';
import type { Backend, ConvChainBlock, ConvChainForwardBlock, ConvChainForwardHead, ConvChainHead } from './backend.js';
import { batchNormBackward, batchNormInferForward, batchNormTrainForward } from './reference-norm.js';

/**
 * The reference backend: every op as a textbook writes it, one loop per
 * index, accumulating in float64. It is slow on purpose and is the
 * definition the native kernels are tested against. Its kernels accept
 * Float64Array as well, so gradient checks can run in double precision.
 */
export type Floats = Float32Array | Float64Array;

/** Index of element (n, h, w, c) in an NHWC array of the given height, width and channels. */
function nhwc(n: number, h: number, w: number, c: number, H: number, W: number, C: number): number {
  return ((n * H + h) * W + w) * C + c;
}

function conv2d(y: Floats, x: Floats, w: Floats, b: Floats | null, g: WindowGeometry, relu = false): void {
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let o = 0; o < g.outC; o++) {
          let sum = b ? b[o] : 0;
          for (let kh = 0; kh < g.kH; kh++) {
            const ih = oh * g.strideH - g.padTop + kh;
            if (ih < 0 || ih >= g.inH) continue; // a zero-padding row
            for (let kw = 0; kw < g.kW; kw++) {
              const iw = ow * g.strideW - g.padLeft + kw;
              if (iw < 0 || iw >= g.inW) continue;
              for (let c = 0; c < g.inC; c++) {
                sum += x[nhwc(n, ih, iw, c, g.inH, g.inW, g.inC)] * w[((kh * g.kW + kw) * g.inC + c) * g.outC + o];
              }
            }
          }
          y[nhwc(n, oh, ow, o, g.outH, g.outW, g.outC)] = relu && sum < 0 ? 0 : sum;
        }
}

function conv2dBackwardData(dx: Floats, dy: Floats, w: Floats, g: WindowGeometry): void {
  dx.fill(0);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let o = 0; o < g.outC; o++) {
          const d = dy[nhwc(n, oh, ow, o, g.outH, g.outW, g.outC)];
          for (let kh = 0; kh < g.kH; kh++) {
            const ih = oh * g.strideH - g.padTop + kh;
            if (ih < 0 || ih >= g.inH) continue;
            for (let kw = 0; kw < g.kW; kw++) {
              const iw = ow * g.strideW - g.padLeft + kw;
              if (iw < 0 || iw >= g.inW) continue;
              for (let c = 0; c < g.inC; c++) {
                dx[nhwc(n, ih, iw, c, g.inH, g.inW, g.inC)] += d * w[((kh * g.kW + kw) * g.inC + c) * g.outC + o];
              }
            }
          }
        }
}

function conv2dBackwardFilter(dw: Floats, db: Floats | null, dy: Floats, x: Floats, g: WindowGeometry): void {
  for (let kh = 0; kh < g.kH; kh++)
    for (let kw = 0; kw < g.kW; kw++)
      for (let c = 0; c < g.inC; c++)
        for (let o = 0; o < g.outC; o++) {
          let sum = 0;
          for (let n = 0; n < g.batch; n++)
            for (let oh = 0; oh < g.outH; oh++) {
              const ih = oh * g.strideH - g.padTop + kh;
              if (ih < 0 || ih >= g.inH) continue;
              for (let ow = 0; ow < g.outW; ow++) {
                const iw = ow * g.strideW - g.padLeft + kw;
                if (iw < 0 || iw >= g.inW) continue;
                sum += x[nhwc(n, ih, iw, c, g.inH, g.inW, g.inC)] * dy[nhwc(n, oh, ow, o, g.outH, g.outW, g.outC)];
              }
            }
          dw[((kh * g.kW + kw) * g.inC + c) * g.outC + o] = sum;
        }
  if (db) {
    for (let o = 0; o < g.outC; o++) {
      let sum = 0;
      for (let i = o; i < dy.length; i += g.outC) sum += dy[i];
      db[o] = sum;
    }
  }
}

function conv2dReluPool(
  convOut: Floats | null, pooled: Floats, cells: Uint8Array | null, x: Floats, w: Floats, b: Floats | null, g: WindowGeometry, pg: WindowGeometry,
): void {
  const out = convOut ?? new Float64Array(g.batch * g.outH * g.outW * g.outC);
  conv2d(out, x, w, b, g, true);
  maxPool2d(pooled, out, pg);
  if (!cells) return;
  for (let n = 0; n < pg.batch; n++)
    for (let oh = 0; oh < pg.outH; oh++)
      for (let ow = 0; ow < pg.outW; ow++)
        for (let c = 0; c < pg.inC; c++) {
          const pixel = Math.floor(argMaxInWindow(out, pg, n, oh, ow, c) / pg.inC) % (pg.inH * pg.inW);
          const ih = Math.floor(pixel / pg.inW);
          const iw = pixel % pg.inW;
          cells[nhwc(n, oh, ow, c, pg.outH, pg.outW, pg.outC)] = (ih - oh * pg.strideH + pg.padTop) * pg.kW + (iw - ow * pg.strideW + pg.padLeft);
        }
}

function conv2dReluPoolBackward(
  dx: Floats | null, dw: Floats, db: Floats | null, dPooled: Floats, x: Floats, w: Floats, pooled: Floats, cells: Uint8Array,
  g: WindowGeometry, pg: WindowGeometry,
): void {
  // By definition: each pooled gradient goes to the cell its maximum came
  // from, where that maximum (a ReLU output) is > 0; then the convolution's backward.
  const dConv = new Float64Array(g.batch * g.outH * g.outW * g.outC);
  for (let n = 0; n < pg.batch; n++)
    for (let oh = 0; oh < pg.outH; oh++)
      for (let ow = 0; ow < pg.outW; ow++)
        for (let c = 0; c < pg.inC; c++) {
          const at = nhwc(n, oh, ow, c, pg.outH, pg.outW, pg.outC);
          if (!(pooled[at] > 0) || cells[at] >= pg.kH * pg.kW) continue;
          const ih = oh * pg.strideH - pg.padTop + Math.floor(cells[at] / pg.kW);
          const iw = ow * pg.strideW - pg.padLeft + (cells[at] % pg.kW);
          dConv[nhwc(n, ih, iw, c, pg.inH, pg.inW, pg.inC)] += dPooled[at];
        }
  conv2dBackwardFilter(dw, db, dConv, x, g);
  if (dx) conv2dBackwardData(dx, dConv, w, g);
}

/** Calls visit(inputIndex) for each input cell inside window (n, oh, ow, c), in row-major order. */
function forEachInWindow(g: WindowGeometry, n: number, oh: number, ow: number, c: number, visit: (index: number) => void): void {
  for (let kh = 0; kh < g.kH; kh++) {
    const ih = oh * g.strideH - g.padTop + kh;
    if (ih < 0 || ih >= g.inH) continue;
    for (let kw = 0; kw < g.kW; kw++) {
      const iw = ow * g.strideW - g.padLeft + kw;
      if (iw < 0 || iw >= g.inW) continue;
      visit(nhwc(n, ih, iw, c, g.inH, g.inW, g.inC));
    }
  }
}

/** The input index of the first maximum of window (n, oh, ow, c). */
function argMaxInWindow(x: Floats, g: WindowGeometry, n: number, oh: number, ow: number, c: number): number {
  let best = -1;
  forEachInWindow(g, n, oh, ow, c, (i) => {
    if (best < 0 || x[i] > x[best] || Number.isNaN(x[i])) best = i; // strict ">" keeps the first of equal values; NaN wins, as in PyTorch
  });
  return best;
}

function maxPool2d(y: Floats, x: Floats, g: WindowGeometry): void {
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let c = 0; c < g.inC; c++) {
          y[nhwc(n, oh, ow, c, g.outH, g.outW, g.outC)] = x[argMaxInWindow(x, g, n, oh, ow, c)];
        }
}

function maxPool2dBackward(dx: Floats, dy: Floats, x: Floats, g: WindowGeometry, reluMask = false): void {
  dx.fill(0);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let c = 0; c < g.inC; c++) {
          const at = argMaxInWindow(x, g, n, oh, ow, c);
          if (reluMask && !(x[at] > 0)) continue; // the ReLU before the pool passed no gradient here
          dx[at] += dy[nhwc(n, oh, ow, c, g.outH, g.outW, g.outC)];
        }
}

function avgPool2d(y: Floats, x: Floats, g: WindowGeometry): void {
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let c = 0; c < g.inC; c++) {
          let sum = 0;
          let count = 0;
          forEachInWindow(g, n, oh, ow, c, (i) => {
            sum += x[i];
            count++;
          });
          y[nhwc(n, oh, ow, c, g.outH, g.outW, g.outC)] = sum / count;
        }
}

function avgPool2dBackward(dx: Floats, dy: Floats, g: WindowGeometry): void {
  dx.fill(0);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let c = 0; c < g.inC; c++) {
          const cells: number[] = [];
          forEachInWindow(g, n, oh, ow, c, (i) => cells.push(i));
          const share = dy[nhwc(n, oh, ow, c, g.outH, g.outW, g.outC)] / cells.length;
          for (const i of cells) dx[i] += share;
        }
}

function dense(y: Floats, x: Floats, w: Floats, b: Floats | null, rows: number, inF: number, outF: number): void {
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < outF; j++) {
      let sum = b ? b[j] : 0;
      for (let i = 0; i < inF; i++) sum += x[r * inF + i] * w[i * outF + j];
      y[r * outF + j] = sum;
    }
}

function denseBackward(
  dx: Floats | null, dw: Floats, db: Floats | null, dy: Floats, x: Floats, w: Floats,
  rows: number, inF: number, outF: number,
): void {
  if (dx) {
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < inF; i++) {
        let sum = 0;
        for (let j = 0; j < outF; j++) sum += dy[r * outF + j] * w[i * outF + j];
        dx[r * inF + i] = sum;
      }
  }
  for (let i = 0; i < inF; i++)
    for (let j = 0; j < outF; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += x[r * inF + i] * dy[r * outF + j];
      dw[i * outF + j] = sum;
    }
  if (db) {
    for (let j = 0; j < outF; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += dy[r * outF + j];
      db[j] = sum;
    }
  }
}

function map(x: Floats, y: Floats, f: (v: number) => number): void {
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
}

function map2(a: Floats, b: Floats, out: Floats, f: (a: number, b: number) => number): void {
  for (let i = 0; i < a.length; i++) out[i] = f(a[i], b[i]);
}

/** 1 / (1 + e^-v), written so neither branch overflows. */
function logistic(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

function softmax(y: Floats, x: Floats, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[r * cols + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[r * cols + j] - max);
    for (let j = 0; j < cols; j++) y[r * cols + j] = Math.exp(x[r * cols + j] - max) / sum;
  }
}

function softmaxBackward(dx: Floats, dy: Floats, y: Floats, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[r * cols + j] * y[r * cols + j];
    for (let j = 0; j < cols; j++) dx[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - dot);
  }
}

function softmaxCrossEntropy(probs: Floats, dLogits: Floats, logits: Floats, labels: Int32Array, rows: number, cols: number): number {
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    // log-sum-exp around the row maximum keeps logits of ±1000 finite
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, logits[r * cols + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(logits[r * cols + j] - max);
    const logSum = Math.log(sum) + max;
    loss += logSum - logits[r * cols + labels[r]];
    for (let j = 0; j < cols; j++) {
      const p = Math.exp(logits[r * cols + j] - logSum);
      probs[r * cols + j] = p;
      dLogits[r * cols + j] = (p - (j === labels[r] ? 1 : 0)) / rows;
    }
  }
  return loss / rows;
}

function sigmoidBinaryCrossEntropy(dLogits: Floats, logits: Floats, targets: Floats): number {
  const count = logits.length;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const z = logits[i];
    const t = targets[i];
    // max(z, 0) - z·t + log(1 + e^-|z|): the stable form of -t·log σ(z) - (1-t)·log(1-σ(z))
    loss += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
    dLogits[i] = (logistic(z) - t) / count;
  }
  return loss / count;
}

function sgdStep(param: Floats, velocity: Floats | null, grad: Floats, lr: number, momentum: number, weightDecay: number, nesterov = false): void {
  for (let i = 0; i < param.length; i++) {
    let step = grad[i] + weightDecay * param[i];
    if (velocity) {
      velocity[i] = momentum * velocity[i] + step;
      step = nesterov ? step + momentum * velocity[i] : velocity[i]; // Nesterov: PyTorch's look-ahead form
    }
    param[i] -= lr * step;
  }
}

function adamStep(
  param: Floats, m: Floats, v: Floats, grad: Floats,
  lr: number, beta1: number, beta2: number, eps: number, step: number, weightDecay: number,
): void {
  const correction1 = 1 - Math.pow(beta1, step);
  const correction2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] + weightDecay * param[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const mHat = m[i] / correction1;
    const vHat = v[i] / correction2;
    param[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}

/** A chain's blocks forward then its head (cells recorded in training); returns the head's input. */
function chainForward(blocks: readonly (ConvChainForwardBlock & { cells?: Uint8Array })[], head: ConvChainForwardHead, x: Float32Array, classes: number): Float32Array {
  let input = x;
  for (const k of blocks) {
    conv2dReluPool(null, k.pooled, k.cells ?? null, input, k.w, k.b, k.g, k.pg);
    input = k.pooled;
  }
  const rows = blocks[0].g.batch;
  dense(head.logits, input, head.w, head.b, rows, input.length / rows, classes);
  return input;
}

/** The layer-by-layer definition of convChainForward. */
function convChainForward(blocks: readonly ConvChainForwardBlock[], head: ConvChainForwardHead, x: Float32Array, classes: number): void {
  chainForward(blocks, head, x, classes);
}

/** The layer-by-layer definition of convChainTrainPass. */
function convChainTrainPass(
  blocks: readonly ConvChainBlock[], head: ConvChainHead, probs: Float32Array, dLogits: Float32Array, x: Float32Array,
  labels: Int32Array, classes: number,
): number {
  const rows = labels.length;
  const input = chainForward(blocks, head, x, classes);
  const features = input.length / rows;
  const loss = softmaxCrossEntropy(probs, dLogits, head.logits, labels, rows, classes);
  denseBackward(head.dx, head.dw, head.db, dLogits, input, head.w, rows, features, classes);
  let dPooled = head.dx;
  for (let s = blocks.length - 1; s >= 0; s--) {
    const k = blocks[s];
    conv2dReluPoolBackward(k.dx, k.dw, k.db, dPooled, s > 0 ? blocks[s - 1].pooled : x, k.w, k.pooled, k.cells, k.g, k.pg);
    if (k.dx) dPooled = k.dx;
  }
  return loss;
}

export const referenceKernels = {
  name: 'reference' as const,
  conv2d,
  conv2dBackwardData,
  conv2dBackwardFilter,
  conv2dReluPool,
  conv2dReluPoolBackward,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  dense,
  denseBackward,
  bytesToFloats: (y: Floats, x: Uint8Array, divisor: number) => {
    for (let i = 0; i < x.length; i++) y[i] = x[i] / divisor;
  },
  add: (y: Floats, a: Floats, b: Floats) => map2(a, b, y, (u, v) => u + v),
  relu: (y: Floats, x: Floats) => map(x, y, (v) => (v < 0 ? 0 : v)), // NaN passes, as in PyTorch
  reluBackward: (dx: Floats, dy: Floats, x: Floats) => map2(dy, x, dx, (d, v) => (v > 0 ? d : 0)),
  leakyRelu: (y: Floats, x: Floats, alpha: number) => map(x, y, (v) => (v > 0 ? v : alpha * v)),
  leakyReluBackward: (dx: Floats, dy: Floats, x: Floats, alpha: number) => map2(dy, x, dx, (d, v) => (v > 0 ? d : alpha * d)),
  sigmoid: (y: Floats, x: Floats) => map(x, y, logistic),
  sigmoidBackward: (dx: Floats, dy: Floats, y: Floats) => map2(dy, y, dx, (d, s) => d * s * (1 - s)),
  tanh: (y: Floats, x: Floats) => map(x, y, Math.tanh),
  tanhBackward: (dx: Floats, dy: Floats, y: Floats) => map2(dy, y, dx, (d, t) => d * (1 - t * t)),
  softmax,
  softmaxBackward,
  softmaxCrossEntropy,
  batchNormTrainForward,
  batchNormInferForward,
  batchNormBackward,
  convChainForward,
  convChainTrainPass,
  sigmoidBinaryCrossEntropy,
  sgdStep,
  adamStep,
};

export const reference: Backend = referenceKernels;
