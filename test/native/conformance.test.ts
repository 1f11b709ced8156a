// Native kernels against the reference backend, for every op, under every
// ISA this CPU supports and 1 and 2 threads. Random shapes (fast-check,
// fixed seed) include stride > 1, padding, non-square kernels and inputs,
// odd sizes, batch 1 and > 1, and channel counts on and off the SIMD width.
// Tolerances: each element may differ by 2e-5 of the sum of the absolute
// values of the terms that produced it (float32 accumulating in another order).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../../lib/backend/reference.js';
import { info, nativeBackend, setIsa, setNumThreads } from '../../lib/backend/select.js';
import { type WindowGeometry, conv2dGeometry, pool2dGeometry } from '../../lib/ops/geometry.js';
import { skipNative } from '../helpers/backends.js';
import { type ConvCase, convCaseArbitrary, rng, uniform } from '../helpers/random.js';
import { abs, convSetup, expectWithin, outSize } from '../helpers/conformance.js';

const runs = { seed: 424242, numRuns: 25 };

/** Channel counts on, below and above the 8- and 16-wide SIMD registers and the GEMM tiles. */
const channels = fc.constantFrom(1, 3, 8, 15, 16, 17, 32, 33);

const bigConvCase: fc.Arbitrary<ConvCase> = fc
  .record({
    base: convCaseArbitrary({ batch: 4, size: 12, channels: 4, kernel: 5 }),
    c: channels,
    o: channels,
  })
  .map(({ base, c, o }) => ({ ...base, c, o }));

/** For windows that tile y's images: the row-major cell of each window's first maximum. */
function firstMaxCells(y: Float32Array, pg: WindowGeometry): Uint8Array {
  const cells = new Uint8Array(pg.batch * pg.outH * pg.outW * pg.outC);
  for (let n = 0; n < pg.batch; n++)
    for (let oh = 0; oh < pg.outH; oh++)
      for (let ow = 0; ow < pg.outW; ow++)
        for (let c = 0; c < pg.inC; c++) {
          let best = -Infinity;
          let which = -1;
          for (let kh = 0; kh < pg.kH; kh++)
            for (let kw = 0; kw < pg.kW; kw++) {
              const v = y[((n * pg.inH + oh * pg.kH + kh) * pg.inW + ow * pg.kW + kw) * pg.inC + c];
              if (which < 0 || v > best) [best, which] = [v, kh * pg.kW + kw];
            }
          cells[((n * pg.outH + oh) * pg.outW + ow) * pg.outC + c] = which;
        }
  return cells;
}

const isas = skipNative ? [] : (info().supportedIsas ?? []);
const configs = isas.flatMap((isa) => [1, 2].map((threads) => ({ isa, threads })));

describe.skipIf(skipNative)('native conformance', () => {
  afterAll(() => {
    setIsa(isas[0]);
    setNumThreads(2);
  });

  it('runs on every ISA the CPU supports', () => {
    expect(isas.length).toBeGreaterThan(0);
    expect(isas).toContain('generic');
  });

  describe.each(configs)('$isa, $threads thread(s)', ({ isa, threads }) => {
    const native = () => {
      const backend = nativeBackend();
      setIsa(isa);
      setNumThreads(threads);
      return backend;
    };

    it('conv2d forward, backward-data and backward-filter', () => {
      const nb = native();
      fc.assert(
        fc.property(bigConvCase, fc.integer({ min: 1, max: 1e9 }), (k, seed) => {
          const { g, x, w, b, dy } = convSetup(k, seed);
          const label = JSON.stringify(k);
          const y = new Float32Array(outSize(g));
          const yRef = new Float64Array(outSize(g));
          const yBound = new Float64Array(outSize(g));
          nb.conv2d(y, x, w, b, g);
          ref.conv2d(yRef, x, w, b, g);
          ref.conv2d(yBound, abs(x), abs(w), abs(b), g);
          expectWithin(`conv2d ${label}`, y, yRef, yBound);
          nb.conv2d(y, x, w, b, g, true);
          ref.conv2d(yRef, x, w, b, g, true);
          expectWithin(`conv2d+relu ${label}`, y, yRef, yBound);

          const dx = new Float32Array(x.length).fill(Number.NaN); // kernels must overwrite, not accumulate
          const dxRef = new Float64Array(x.length);
          const dxBound = new Float64Array(x.length);
          nb.conv2dBackwardData(dx, dy, w, g);
          ref.conv2dBackwardData(dxRef, dy, w, g);
          ref.conv2dBackwardData(dxBound, abs(dy), abs(w), g);
          expectWithin(`conv2dBackwardData ${label}`, dx, dxRef, dxBound);

          const dw = new Float32Array(w.length).fill(Number.NaN);
          const db = new Float32Array(b.length).fill(Number.NaN);
          const dwRef = new Float64Array(w.length);
          const dbRef = new Float64Array(b.length);
          const dwBound = new Float64Array(w.length);
          const dbBound = new Float64Array(b.length);
          nb.conv2dBackwardFilter(dw, db, dy, x, g);
          ref.conv2dBackwardFilter(dwRef, dbRef, dy, x, g);
          ref.conv2dBackwardFilter(dwBound, dbBound, abs(dy), abs(x), g);
          expectWithin(`conv2dBackwardFilter dw ${label}`, dw, dwRef, dwBound);
          expectWithin(`conv2dBackwardFilter db ${label}`, db, dbRef, dbBound);
        }),
        runs,
      );
    });

    // Stride-1 layers read their patches in place from the padded images:
    // one register tile per output row for the forward and the input
    // gradient, one K segment per output row for the weight gradient.
    it('conv2d at the real layer shapes and past the GEMM blocking (K > 512, M > 96)', () => {
      const nb = native();
      const random = rng(3);
      const shapes: [number[], number[], number][] = [
        [[2, 28, 28, 1], [3, 3, 1, 16], 1],
        [[2, 14, 14, 16], [3, 3, 16, 32], 1],
        [[12, 7, 7, 32], [3, 3, 32, 64], 1],
        [[3, 14, 14, 16], [5, 5, 16, 32], 2], // mnist-2layer's conv2
        [[1, 9, 11, 64], [3, 3, 64, 37], 0], // K = 576: two K blocks of kernel rows (192 + 384)
        [[3, 6, 5, 20], [1, 1, 20, 35], 0],  // pointwise path (no im2col)
      ];
      for (const [xs, ws, pad] of shapes) {
        const g = conv2dGeometry(xs, ws, { padding: pad });
        const x = uniform(random, xs.reduce((a, b) => a * b));
        const w = uniform(random, ws.reduce((a, b) => a * b));
        const dy = uniform(random, outSize(g));
        const y = new Float32Array(outSize(g));
        const yRef = new Float64Array(outSize(g));
        const bound = new Float64Array(outSize(g));
        nb.conv2d(y, x, w, null, g);
        ref.conv2d(yRef, x, w, null, g);
        ref.conv2d(bound, abs(x), abs(w), null, g);
        expectWithin(`conv2d ${xs}x${ws}`, y, yRef, bound);
        const dx = new Float32Array(x.length);
        const dxRef = new Float64Array(x.length);
        const dxBound = new Float64Array(x.length);
        nb.conv2dBackwardData(dx, dy, w, g);
        ref.conv2dBackwardData(dxRef, dy, w, g);
        ref.conv2dBackwardData(dxBound, abs(dy), abs(w), g);
        expectWithin(`conv2dBackwardData ${xs}x${ws}`, dx, dxRef, dxBound);
        const dw = new Float32Array(w.length);
        const dwRef = new Float64Array(w.length);
        const dwBound = new Float64Array(w.length);
        nb.conv2dBackwardFilter(dw, null, dy, x, g);
        ref.conv2dBackwardFilter(dwRef, null, dy, x, g);
        ref.conv2dBackwardFilter(dwBound, null, abs(dy), abs(x), g);
        expectWithin(`conv2dBackwardFilter ${xs}x${ws}`, dw, dwRef, dwBound);
      }
    });

    it('the fused conv + ReLU + max-pool backward', () => {
      const nb = native();
      fc.assert(
        fc.property(bigConvCase, fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 1e9 }), (k, pool, withDx, seed) => {
          const { g, x, w } = convSetup(k, seed);
          if (g.outH < pool || g.outW < pool) return;
          const random = rng(seed + 1);
          const pg = pool2dGeometry([g.batch, g.outH, g.outW, g.outC], { kernel: pool }, 'test');
          const convOut = new Float32Array(outSize(g));
          ref.conv2d(convOut, x, w, null, g, true);
          const dPooled = uniform(random, outSize(pg));
          const label = `${JSON.stringify(k)} pool ${pool} dx ${withDx}`;
          const dx = withDx ? new Float32Array(x.length).fill(Number.NaN) : null;
          const dw = new Float32Array(w.length).fill(Number.NaN);
          const db = new Float32Array(g.outC).fill(Number.NaN);
          const dxRef = withDx ? new Float64Array(x.length) : null;
          const dwRef = new Float64Array(w.length);
          const dbRef = new Float64Array(g.outC);
          // The fused forward: the ReLU'd convolution, its pooling and the cell each maximum came from.
          const fusedOut = new Float32Array(outSize(g));
          const pooled = new Float32Array(outSize(pg));
          const cells = new Uint8Array(outSize(pg)).fill(255);
          const pooledRef = new Float64Array(outSize(pg));
          const yBound = new Float64Array(outSize(g));
          nb.conv2dReluPool(fusedOut, pooled, cells, x, w, null, g, pg);
          ref.maxPool2d(pooledRef, convOut, pg);
          ref.conv2d(yBound, abs(x), abs(w), null, g);
          expectWithin(`fused forward conv ${label}`, fusedOut, convOut, yBound);
          expectWithin(`fused forward pool ${label}`, pooled, pooledRef, new Float64Array(pooled.length).fill(Math.max(...Array.from(yBound))));
          // The cells are exact: the first maximum of each window of the kernel's own output.
          expect(Array.from(cells), `cells ${label}`).toEqual(Array.from(firstMaxCells(fusedOut, pg)));
          // Without the convolution's output kept (inference), the pooled result is the same.
          const pooledOnly = new Float32Array(outSize(pg));
          nb.conv2dReluPool(null, pooledOnly, null, x, w, null, g, pg);
          expect(Array.from(pooledOnly), `pooled without convOut ${label}`).toEqual(Array.from(pooled));
          // The backward routes through the forward's cells, on both backends.
          nb.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, g, pg);
          ref.conv2dReluPoolBackward(dxRef, dwRef, dbRef, dPooled, x, w, pooled, cells, g, pg);
          // Bounds: the same products with absolute values.
          const dxBound = withDx ? new Float64Array(x.length) : null;
          const dwBound = new Float64Array(w.length);
          const dbBound = new Float64Array(g.outC);
          ref.conv2dReluPoolBackward(dxBound, dwBound, dbBound, abs(dPooled), abs(x), abs(w), pooled, cells, g, pg);
          expectWithin(`fused dw ${label}`, dw, dwRef, dwBound);
          expectWithin(`fused db ${label}`, db, dbRef, dbBound);
          if (dx && dxRef && dxBound) expectWithin(`fused dx ${label}`, dx, dxRef, dxBound);
          // Cells that name no cell of their window (a forged buffer) route nothing and write nowhere else.
          cells.fill(255);
          nb.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, g, pg);
          expect(dw.every((v) => v === 0) && db.every((v) => v === 0) && (!dx || dx.every((v) => v === 0)), `forged cells ${label}`).toBe(true);
        }),
        runs,
      );
    });

    it('the fused backward from the pooled gradient\'s entries (stride 1, square kernels, 16k input channels, windows of up to 4 cells)', () => {
      const nb = native();
      // Inputs after a ReLU (half exact zeros, so that some taps read only
      // zeros), pooled gradients with zeros, windows 2x2, 1x2, 2x1 and 1x1.
      const entriesCase = fc.record({
        batch: fc.integer({ min: 1, max: 5 }),
        h: fc.integer({ min: 1, max: 12 }),
        w: fc.integer({ min: 1, max: 12 }),
        c: fc.constantFrom(16, 32, 48),
        o: fc.integer({ min: 1, max: 40 }),
        k: fc.integer({ min: 1, max: 5 }),
        pads: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
        window: fc.constantFrom<[number, number]>([2, 2], [1, 2], [2, 1], [1, 1]),
        withDx: fc.boolean(),
        seed: fc.integer({ min: 1, max: 1e9 }),
      });
      fc.assert(
        fc.property(entriesCase, ({ batch, h, w: width, c, o, k, pads, window, withDx, seed }) => {
          const [top, bottom, left, right] = pads.map((p) => p % k);
          if (h + top + bottom < k + window[0] - 1 || width + left + right < k + window[1] - 1) return;
          const g = conv2dGeometry([batch, h, width, c], [k, k, c, o], { padding: [top, bottom, left, right] });
          const pg = pool2dGeometry([g.batch, g.outH, g.outW, g.outC], { kernel: window }, 'test');
          const random = rng(seed);
          const x = uniform(random, batch * h * width * c).map((v) => Math.max(0, v));
          const w = uniform(random, k * k * c * o);
          const dPooled = uniform(random, outSize(pg)).map((v) => (Math.abs(v) < 0.2 ? 0 : v));
          const convOut = new Float32Array(outSize(g));
          const pooled = new Float32Array(outSize(pg));
          const cells = new Uint8Array(outSize(pg));
          nb.conv2dReluPool(convOut, pooled, cells, x, w, null, g, pg);
          const label = `${JSON.stringify({ batch, h, width, c, o, k, pads: [top, bottom, left, right], window })} dx ${withDx}`;
          const dx = withDx ? new Float32Array(x.length).fill(Number.NaN) : null;
          const dw = new Float32Array(w.length).fill(Number.NaN);
          const db = new Float32Array(o).fill(Number.NaN);
          nb.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, g, pg);
          const dxRef = withDx ? new Float64Array(x.length) : null;
          const dwRef = new Float64Array(w.length);
          const dbRef = new Float64Array(o);
          ref.conv2dReluPoolBackward(dxRef, dwRef, dbRef, dPooled, x, w, pooled, cells, g, pg);
          const dxBound = withDx ? new Float64Array(x.length) : null;
          const dwBound = new Float64Array(w.length);
          const dbBound = new Float64Array(o);
          ref.conv2dReluPoolBackward(dxBound, dwBound, dbBound, abs(dPooled), abs(x), abs(w), pooled, cells, g, pg);
          // A bound of 0 (no nonzero product) leaves 1e-30: those weights' gradients must be exactly 0.
          expectWithin(`entries dw ${label}`, dw, dwRef, dwBound);
          expectWithin(`entries db ${label}`, db, dbRef, dbBound);
          if (dx && dxRef && dxBound) expectWithin(`entries dx ${label}`, dx, dxRef, dxBound);
          // The weight gradient does not depend on whether the input gradient is asked for too.
          const dwAgain = new Float32Array(w.length);
          nb.conv2dReluPoolBackward(null, dwAgain, null, dPooled, x, w, pooled, cells, g, pg);
          expect(Array.from(dwAgain), `entries dw without dx ${label}`).toEqual(Array.from(dw));
        }),
        runs,
      );
    });

    it('convolutions pooled without keeping their output (in registers, or by an implicit GEMM) equal those pooled from memory, bit for bit', () => {
      const nb = native();
      // The direct kernels' fixed shapes, odd sizes (the floor drops a row and a column), both strides.
      const cases: ConvCase[] = [
        { batch: 3, h: 9, w: 11, c: 1, o: 16, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] },
        { batch: 2, h: 13, w: 12, c: 1, o: 32, kh: 5, kw: 5, stride: [1, 1], padding: [2, 2] },
        { batch: 2, h: 12, w: 15, c: 3, o: 16, kh: 3, kw: 3, stride: [2, 1], padding: [1, 0] },
        { batch: 5, h: 28, w: 28, c: 1, o: 16, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] },
        // Read in place from the padded image, one K segment per kernel row (no im2col).
        { batch: 3, h: 14, w: 14, c: 16, o: 32, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] },
        { batch: 2, h: 15, w: 13, c: 5, o: 20, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] },
        { batch: 2, h: 12, w: 12, c: 8, o: 33, kh: 2, kw: 3, stride: [1, 1], padding: [0, 1] },
      ];
      for (const [i, k] of cases.entries()) {
        const { g, x, w, b } = convSetup(k, 100 + i);
        const pg = pool2dGeometry([g.batch, g.outH, g.outW, g.outC], { kernel: 2 }, 'test');
        const convOut = new Float32Array(outSize(g));
        const pooled = new Float32Array(outSize(pg));
        const cells = new Uint8Array(outSize(pg));
        nb.conv2dReluPool(convOut, pooled, cells, x, w, b, g, pg); // through memory
        const pooledFused = new Float32Array(outSize(pg)).fill(Number.NaN);
        const cellsFused = new Uint8Array(outSize(pg)).fill(255);
        nb.conv2dReluPool(null, pooledFused, cellsFused, x, w, b, g, pg); // in registers
        expect(Array.from(pooledFused), `pooled ${JSON.stringify(k)}`).toEqual(Array.from(pooled));
        expect(Array.from(cellsFused), `cells ${JSON.stringify(k)}`).toEqual(Array.from(cells));
        const pooledOnly = new Float32Array(outSize(pg));
        nb.conv2dReluPool(null, pooledOnly, null, x, w, b, g, pg); // inference
        expect(Array.from(pooledOnly)).toEqual(Array.from(pooled));
      }
    });

    it('image bytes to floats, exactly as the reference divides them', () => {
      const nb = native();
      // Large enough to be split between threads and to span huge pages.
      const x = Uint8Array.from({ length: (1 << 20) + 13 }, (_, i) => (i * 131 + (i >> 9)) & 255);
      const y = new Float32Array(x.length).fill(Number.NaN);
      const yRef = new Float32Array(x.length);
      nb.bytesToFloats(y, x, 255);
      ref.bytesToFloats(yRef, x, 255);
      expect(y.every((v, i) => v === yRef[i])).toBe(true);
    });

    it('max and average pooling, forward and backward', () => {
      const nb = native();
      const pool = fc
        .record({
          batch: fc.integer({ min: 1, max: 4 }),
          h: fc.integer({ min: 1, max: 11 }),
          w: fc.integer({ min: 1, max: 11 }),
          c: channels,
          kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
          stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
        })
        .filter((p) => p.padding[0] < p.kernel[0] && p.padding[1] < p.kernel[1] && p.h + 2 * p.padding[0] >= p.kernel[0] && p.w + 2 * p.padding[1] >= p.kernel[1]);
      fc.assert(
        fc.property(pool, fc.integer({ min: 1, max: 1e9 }), (p, seed) => {
          const random = rng(seed);
          const g = pool2dGeometry([p.batch, p.h, p.w, p.c], p, 'test');
          // Integers in a small range make ties common, so the first-maximum rule is exercised.
          const x = uniform(random, p.batch * p.h * p.w * p.c).map((v) => Math.round(v * 3));
          const dy = uniform(random, outSize(g));
          const label = JSON.stringify(p);
          const y = new Float32Array(outSize(g));
          const yRef = new Float64Array(outSize(g));
          nb.maxPool2d(y, x, g);
          ref.maxPool2d(yRef, x, g);
          expect(Array.from(y), `maxPool2d ${label}`).toEqual(Array.from(yRef));
          const dx = new Float32Array(x.length).fill(Number.NaN);
          const dxRef = new Float64Array(x.length);
          nb.maxPool2dBackward(dx, dy, x, g);
          ref.maxPool2dBackward(dxRef, dy, x, g);
          expectWithin(`maxPool2dBackward ${label}`, dx, dxRef, new Float64Array(x.length).fill(p.kernel[0] * p.kernel[1] * 2));
          nb.maxPool2dBackward(dx, dy, x, g, true);
          ref.maxPool2dBackward(dxRef, dy, x, g, true);
          expectWithin(`maxPool2dBackward+reluMask ${label}`, dx, dxRef, new Float64Array(x.length).fill(p.kernel[0] * p.kernel[1] * 2));
          nb.avgPool2d(y, x, g);
          ref.avgPool2d(yRef, x, g);
          expectWithin(`avgPool2d ${label}`, y, yRef, new Float64Array(y.length).fill(3));
          nb.avgPool2dBackward(dx, dy, g);
          ref.avgPool2dBackward(dxRef, dy, g);
          expectWithin(`avgPool2dBackward ${label}`, dx, dxRef, new Float64Array(x.length).fill(p.kernel[0] * p.kernel[1]));
        }),
        runs,
      );
    });

    it('dense forward and backward', () => {
      const nb = native();
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1e9 }), (rows, inF, outF, seed) => {
          const random = rng(seed);
          const x = uniform(random, rows * inF);
          const w = uniform(random, inF * outF);
          const b = uniform(random, outF);
          const dy = uniform(random, rows * outF);
          const y = new Float32Array(rows * outF);
          const yRef = new Float64Array(rows * outF);
          const yBound = new Float64Array(rows * outF);
          nb.dense(y, x, w, b, rows, inF, outF);
          ref.dense(yRef, x, w, b, rows, inF, outF);
          ref.dense(yBound, abs(x), abs(w), abs(b), rows, inF, outF);
          expectWithin('dense', y, yRef, yBound);
          const dx = new Float32Array(rows * inF);
          const dw = new Float32Array(inF * outF);
          const db = new Float32Array(outF);
          const dxRef = new Float64Array(rows * inF);
          const dwRef = new Float64Array(inF * outF);
          const dbRef = new Float64Array(outF);
          const dxB = new Float64Array(rows * inF);
          const dwB = new Float64Array(inF * outF);
          const dbB = new Float64Array(outF);
          nb.denseBackward(dx, dw, db, dy, x, w, rows, inF, outF);
          ref.denseBackward(dxRef, dwRef, dbRef, dy, x, w, rows, inF, outF);
          ref.denseBackward(dxB, dwB, dbB, abs(dy), abs(x), abs(w), rows, inF, outF);
          expectWithin('denseBackward dx', dx, dxRef, dxB);
          expectWithin('denseBackward dw', dw, dwRef, dwB);
          expectWithin('denseBackward db', db, dbRef, dbB);
        }),
        runs,
      );
    });

    it('activations, softmax and their backwards', () => {
      const nb = native();
      const random = rng(11);
      for (const n of [1, 15, 16, 17, 1000, 70000]) {
        const x = uniform(random, n, -6, 6);
        const dy = uniform(random, n);
        const y = new Float32Array(n);
        const yRef = new Float64Array(n);
        const dx = new Float32Array(n);
        const dxRef = new Float64Array(n);
        const unit = new Float64Array(n).fill(1);
        const pairs: [string, () => void, () => void][] = [
          ['add', () => nb.add(y, x, dy), () => ref.add(yRef, x, dy)],
          ['relu', () => nb.relu(y, x), () => ref.relu(yRef, x)],
          ['leakyRelu', () => nb.leakyRelu(y, x, 0.2), () => ref.leakyRelu(yRef, x, 0.2)],
          ['sigmoid', () => nb.sigmoid(y, x), () => ref.sigmoid(yRef, x)],
          ['tanh', () => nb.tanh(y, x), () => ref.tanh(yRef, x)],
        ];
        for (const [name, run, runRef] of pairs) {
          run();
          runRef();
          expectWithin(`${name} n=${n}`, y, yRef, unit, 1e-6);
        }
        const backs: [string, () => void, () => void][] = [
          ['reluBackward', () => nb.reluBackward(dx, dy, x), () => ref.reluBackward(dxRef, dy, x)],
          ['leakyReluBackward', () => nb.leakyReluBackward(dx, dy, x, 0.2), () => ref.leakyReluBackward(dxRef, dy, x, 0.2)],
          ['sigmoidBackward', () => nb.sigmoidBackward(dx, dy, y), () => ref.sigmoidBackward(dxRef, dy, y)],
          ['tanhBackward', () => nb.tanhBackward(dx, dy, y), () => ref.tanhBackward(dxRef, dy, y)],
        ];
        for (const [name, run, runRef] of backs) {
          run();
          runRef();
          expectWithin(`${name} n=${n}`, dx, dxRef, unit, 1e-6);
        }
      }
      for (const [rows, cols] of [[1, 1], [3, 10], [64, 17], [500, 100]]) {
        const x = uniform(random, rows * cols, -30, 30);
        const dy = uniform(random, rows * cols);
        const y = new Float32Array(rows * cols);
        const yRef = new Float64Array(rows * cols);
        nb.softmax(y, x, rows, cols);
        ref.softmax(yRef, x, rows, cols);
        expectWithin('softmax', y, yRef, new Float64Array(rows * cols).fill(1), 1e-6);
        const dx = new Float32Array(rows * cols);
        const dxRef = new Float64Array(rows * cols);
        nb.softmaxBackward(dx, dy, y, rows, cols);
        ref.softmaxBackward(dxRef, dy, y, rows, cols);
        expectWithin('softmaxBackward', dx, dxRef, new Float64Array(rows * cols).fill(2), 1e-6);
      }
    });

    it('softmax cross-entropy and sigmoid BCE, including logits of +-1000', () => {
      const nb = native();
      const random = rng(12);
      for (const [rows, cols, scale] of [[1, 2, 1], [32, 10, 5], [7, 3, 1000]]) {
        const logits = uniform(random, rows * cols, -scale, scale);
        const labels = Int32Array.from({ length: rows }, () => Math.floor(random() * cols));
        const probs = new Float32Array(rows * cols);
        const d = new Float32Array(rows * cols);
        const probsRef = new Float64Array(rows * cols);
        const dRef = new Float64Array(rows * cols);
        const loss = nb.softmaxCrossEntropy(probs, d, logits, labels, rows, cols);
        const lossRef = ref.softmaxCrossEntropy(probsRef, dRef, logits, labels, rows, cols);
        expect(Math.abs(loss - lossRef)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(lossRef)));
        expectWithin('probs', probs, probsRef, new Float64Array(rows * cols).fill(1), 1e-6);
        expectWithin('dLogits', d, dRef, new Float64Array(rows * cols).fill(1 / rows), 1e-6);
        const targets = Float32Array.from({ length: rows * cols }, () => (random() < 0.5 ? 0 : 1));
        const bce = nb.sigmoidBinaryCrossEntropy(d, logits, targets);
        const bceRef = ref.sigmoidBinaryCrossEntropy(dRef, logits, targets);
        expect(Math.abs(bce - bceRef)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(bceRef)));
        expectWithin('bce dLogits', d, dRef, new Float64Array(rows * cols).fill(1 / (rows * cols)), 1e-6);
      }
    });

    it('SGD, momentum and Adam updates', () => {
      const nb = native();
      const random = rng(13);
      for (const n of [5, 40000]) {
        const p0 = uniform(random, n);
        const grad = uniform(random, n);
        const p = p0.slice();
        const pRef = Float64Array.from(p0);
        const v = new Float32Array(n);
        const vRef = new Float64Array(n);
        for (let step = 0; step < 3; step++) {
          nb.sgdStep(p, v, grad, 0.1, 0.9, 1e-3);
          ref.sgdStep(pRef, vRef, grad, 0.1, 0.9, 1e-3);
        }
        expectWithin('sgd momentum', p, pRef, new Float64Array(n).fill(1), 1e-6);
        for (let step = 0; step < 3; step++) {
          nb.sgdStep(p, v, grad, 0.1, 0.9, 1e-3, true);
          ref.sgdStep(pRef, vRef, grad, 0.1, 0.9, 1e-3, true);
        }
        expectWithin('sgd nesterov', p, pRef, new Float64Array(n).fill(1), 1e-6);
        nb.sgdStep(p, null, grad, 0.1, 0, 0);
        ref.sgdStep(pRef, null, grad, 0.1, 0, 0);
        expectWithin('sgd', p, pRef, new Float64Array(n).fill(1), 1e-6);
        const m = new Float32Array(n);
        const s = new Float32Array(n);
        const mRef = new Float64Array(n);
        const sRef = new Float64Array(n);
        for (let step = 1; step <= 3; step++) {
          nb.adamStep(p, m, s, grad, 1e-3, 0.9, 0.999, 1e-8, step, 0);
          ref.adamStep(pRef, mRef, sRef, grad, 1e-3, 0.9, 0.999, 1e-8, step, 0);
        }
        expectWithin('adam', p, pRef, new Float64Array(n).fill(1), 1e-6);
      }
    });
  });

  it('gives the same bits for the same thread count, run after run', () => {
    const nb = nativeBackend();
    setNumThreads(2);
    const random = rng(21);
    const g = conv2dGeometry([8, 14, 14, 16], [3, 3, 16, 32], { padding: 1 });
    const x = uniform(random, 8 * 14 * 14 * 16);
    const dy = uniform(random, outSize(g));
    const first = new Float32Array(3 * 3 * 16 * 32);
    const again = new Float32Array(first.length);
    nb.conv2dBackwardFilter(first, null, dy, x, g);
    for (let i = 0; i < 3; i++) {
      nb.conv2dBackwardFilter(again, null, dy, x, g);
      expect(again).toEqual(first);
    }
  });
});
