// Winograd F(2x2, 3x3) and F(2x2, 5x5) (native/kernels/conv/winograd.h)
// forced on every 3x3 and 5x5 stride-1 convolution, under every ISA and 1 to
// 3 threads: forward, input gradient, weight gradient and the fused
// ReLU + pool passes against the float64 reference, with the conformance
// suite's tolerance taken over each tile (tileBound); the
// chained training pass with the layer-by-layer numbers, bit for bit,
// whichever thread runs which image; and the switch itself.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../../lib/backend/reference.js';
import { info, nativeBackend, setBackend, setConvAlgorithm, setIsa, setNumThreads, setSchedule } from '../../lib/backend/select.js';
import { pool2dGeometry } from '../../lib/ops/geometry.js';
import { Tensor, zooModel } from '../../lib/index.js';
import { skipNative } from '../helpers/backends.js';
import { abs, convSetup, expectWithin, outSize } from '../helpers/conformance.js';
import { type ConvCase, rng, uniform } from '../helpers/random.js';

const runs = { seed: 20261201, numRuns: 12 };

// Winograd rounds a tile at a time: the transforms add and subtract the
// whole input block (or all the taps of a filter) before the products,
// so an element's rounding follows its tile's magnitudes, not only its own
// terms' (an output whose every term is zero, from padding, comes out as a
// few ulps of its neighbours, where the direct kernels give 0). The bound
// is the conformance suite's, REL of the sum of |terms|, taken as its largest
// over the element's tile: its 2x2 block of outputs, or its filter's taps.
function tileBound(bound: Float64Array, n: number, h: number, w: number, c: number): Float64Array {
  const out = new Float64Array(bound.length);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++)
        for (let k = 0; k < c; k++) {
          let most = 0;
          for (let i = r & ~1; i < Math.min(h, (r & ~1) + 2); i++)
            for (let j = q & ~1; j < Math.min(w, (q & ~1) + 2); j++) most = Math.max(most, bound[((b * h + i) * w + j) * c + k]);
          out[((b * h + r) * w + q) * c + k] = most;
        }
  return out;
}

function tapsBound(bound: Float64Array, channels: number, taps: number): Float64Array {
  const out = new Float64Array(bound.length);
  for (let k = 0; k < channels; k++) {
    let most = 0;
    for (let t = 0; t < taps; t++) most = Math.max(most, bound[t * channels + k]);
    for (let t = 0; t < taps; t++) out[t * channels + k] = most;
  }
  return out;
}


/**
 * 3x3 and 5x5 stride-1 layers: every padding Winograd takes (0 to R - 1 a
 * side), odd and tiny sizes, channels on and off the vector width.
 */
const winogradCase: fc.Arbitrary<ConvCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 15 }),
    w: fc.integer({ min: 1, max: 15 }),
    c: fc.constantFrom(1, 3, 15, 16, 17, 32, 33),
    o: fc.constantFrom(1, 8, 16, 17, 32, 64),
    r: fc.constantFrom(3, 5),
    pads: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
  })
  .map(({ r, pads, ...k }) => ({ ...k, kh: r, kw: r, stride: 1, padding: pads.map((p) => p % r) as [number, number, number, number] }))
  .filter((k) => k.h + k.padding[0] + k.padding[1] >= k.kh && k.w + k.padding[2] + k.padding[3] >= k.kw);

const isas = skipNative ? [] : (info().supportedIsas ?? []);
const configs = isas.flatMap((isa) => [1, 2, 3].map((threads) => ({ isa, threads })));

describe.skipIf(skipNative)('Winograd convolutions', () => {
  afterAll(() => {
    setConvAlgorithm('auto');
    setIsa(isas[0]);
    setNumThreads(2);
    setSchedule('balanced');
  });

  describe.each(configs)('$isa, $threads thread(s)', ({ isa, threads }) => {
    const native = () => {
      const backend = nativeBackend();
      setIsa(isa);
      setNumThreads(threads);
      setConvAlgorithm('winograd');
      return backend;
    };

    it('forward, input gradient and weight gradient against the reference', () => {
      const nb = native();
      fc.assert(
        fc.property(winogradCase, fc.integer({ min: 1, max: 1e9 }), (k, seed) => {
          const { g, x, w, b, dy } = convSetup(k, seed);
          const label = JSON.stringify(k);
          const y = new Float32Array(outSize(g)).fill(Number.NaN);
          const yRef = new Float64Array(outSize(g));
          const yBound = new Float64Array(outSize(g));
          ref.conv2d(yBound, abs(x), abs(w), abs(b), g);
          const yTile = tileBound(yBound, g.batch, g.outH, g.outW, g.outC);
          for (const relu of [false, true]) {
            nb.conv2d(y, x, w, b, g, relu);
            ref.conv2d(yRef, x, w, b, g, relu);
            expectWithin(`forward relu=${relu} ${label}`, y, yRef, yTile);
          }
          const dx = new Float32Array(x.length).fill(Number.NaN);
          const dxRef = new Float64Array(x.length);
          const dxBound = new Float64Array(x.length);
          nb.conv2dBackwardData(dx, dy, w, g);
          ref.conv2dBackwardData(dxRef, dy, w, g);
          ref.conv2dBackwardData(dxBound, abs(dy), abs(w), g);
          expectWithin(`input gradient ${label}`, dx, dxRef, tileBound(dxBound, g.batch, g.inH, g.inW, g.inC));
          const dw = new Float32Array(w.length).fill(Number.NaN);
          const dwRef = new Float64Array(w.length);
          const dwBound = new Float64Array(w.length);
          nb.conv2dBackwardFilter(dw, null, dy, x, g);
          ref.conv2dBackwardFilter(dwRef, null, dy, x, g);
          ref.conv2dBackwardFilter(dwBound, null, abs(dy), abs(x), g);
          expectWithin(`weight gradient ${label}`, dw, dwRef, tapsBound(dwBound, g.inC * g.outC, k.kh * k.kw));
        }),
        runs,
      );
    });

    it('the fused conv + ReLU + max-pool, forward and backward, against the reference', () => {
      const nb = native();
      fc.assert(
        fc.property(winogradCase, fc.integer({ min: 1, max: 1e9 }), (k, seed) => {
          const { g, x, w, b } = convSetup(k, seed);
          if (g.outH < 2 || g.outW < 2) return;
          const pg = pool2dGeometry([g.batch, g.outH, g.outW, g.outC], { kernel: 2 }, 'test');
          const label = JSON.stringify(k);
          const convOut = new Float32Array(outSize(g));
          const pooled = new Float32Array(outSize(pg));
          const cells = new Uint8Array(outSize(pg));
          nb.conv2dReluPool(convOut, pooled, cells, x, w, b, g, pg);
          const convRef = new Float64Array(outSize(g));
          const bound = new Float64Array(outSize(g));
          ref.conv2d(convRef, x, w, b, g, true);
          ref.conv2d(bound, abs(x), abs(w), abs(b), g);
          expectWithin(`fused forward ${label}`, convOut, convRef, tileBound(bound, g.batch, g.outH, g.outW, g.outC));
          // Kept or not (pooled as the tiles are transformed back), the pooled values and cells are the same.
          const pooledOnly = new Float32Array(outSize(pg)).fill(Number.NaN);
          const cellsOnly = new Uint8Array(outSize(pg)).fill(255);
          nb.conv2dReluPool(null, pooledOnly, cellsOnly, x, w, b, g, pg);
          expect(Array.from(pooledOnly), `pooled ${label}`).toEqual(Array.from(pooled));
          expect(Array.from(cellsOnly), `cells ${label}`).toEqual(Array.from(cells));
          nb.conv2dReluPool(null, pooledOnly.fill(Number.NaN), null, x, w, b, g, pg);
          expect(Array.from(pooledOnly), `pooled without cells ${label}`).toEqual(Array.from(pooled));
          const dPooled = uniform(rng(seed + 1), outSize(pg));
          const dx = new Float32Array(x.length).fill(Number.NaN);
          const dw = new Float32Array(w.length).fill(Number.NaN);
          const db = new Float32Array(g.outC).fill(Number.NaN);
          const dxRef = new Float64Array(x.length);
          const dwRef = new Float64Array(w.length);
          const dbRef = new Float64Array(g.outC);
          const dxBound = new Float64Array(x.length);
          const dwBound = new Float64Array(w.length);
          const dbBound = new Float64Array(g.outC);
          nb.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, g, pg);
          ref.conv2dReluPoolBackward(dxRef, dwRef, dbRef, dPooled, x, w, pooled, cells, g, pg);
          ref.conv2dReluPoolBackward(dxBound, dwBound, dbBound, abs(dPooled), abs(x), abs(w), pooled, cells, g, pg);
          expectWithin(`fused dx ${label}`, dx, dxRef, tileBound(dxBound, g.batch, g.inH, g.inW, g.inC));
          expectWithin(`fused dw ${label}`, dw, dwRef, tapsBound(dwBound, g.inC * g.outC, k.kh * k.kw));
          expectWithin(`fused db ${label}`, db, dbRef, dbBound);
        }),
        runs,
      );
    });
  });

  // The chain hands images to whichever thread is free; each image's
  // Winograd weight gradient is one sum added once, so the numbers are
  // those of the static split and of the layer-by-layer calls.
  it('trains through the chain with the layer-by-layer numbers, bit for bit, whichever thread runs which image', () => {
    setBackend('native');
    setConvAlgorithm('winograd');
    try {
      for (const [net, threads] of [['mnist-3layer', 1], ['mnist-3layer', 2], ['mnist-3layer', 3], ['mnist-2layer', 2]] as const) {
        setNumThreads(threads);
        for (const batch of [1, 5, 32]) {
          const chain = zooModel(net, { seed: 4 });
          const layered = zooModel(net, { seed: 4 });
          const random = rng(batch);
          const x = new Tensor(uniform(random, batch * 784, 0, 1), [batch, 28, 28, 1]);
          const y = Int32Array.from({ length: batch }, () => Math.floor(random() * 10));
          setSchedule('static');
          const fixed = chain.trainPass(x, y, chain.defaultLoss());
          const fixedGrads = chain.parameters().map((p) => p.grad.data.slice());
          const logits = layered.forwardInPlace(x, true).reshape([batch, 10]);
          const { loss, dLogits } = layered.defaultLoss().compute(logits, y);
          layered.backward(dLogits.reshape([batch, 10]));
          expect(fixed.loss, `${net} loss, ${threads} threads, batch ${batch}`).toBe(loss);
          expect(fixed.logits.data).toEqual(logits.data);
          layered.parameters().forEach((p, i) => expect(p.grad.data, `gradient ${i}`).toEqual(fixedGrads[i]));
          for (const schedule of ['take-first', 'balanced'] as const) {
            setSchedule(schedule);
            const again = chain.trainPass(x, y, chain.defaultLoss());
            expect(again.loss).toBe(fixed.loss);
            chain.parameters().forEach((p, i) => expect(p.grad.data, `${schedule} gradient ${i}`).toEqual(fixedGrads[i]));
          }
        }
      }
    } finally {
      setSchedule('balanced');
      setConvAlgorithm('auto');
    }
  });

  it('switches: direct and Winograd differ in rounding only, and each is the same run after run', () => {
    const nb = nativeBackend();
    setNumThreads(2);
    const k: ConvCase = { batch: 6, h: 14, w: 14, c: 16, o: 32, kh: 3, kw: 3, stride: 1, padding: 1 };
    const { g, x, w, b, dy } = convSetup(k, 9);
    const results: Record<string, Float32Array[]> = {};
    try {
      for (const algorithm of ['direct', 'winograd', 'auto', 'fast'] as const) {
        setConvAlgorithm(algorithm);
        expect(info().convAlgorithm).toBe(algorithm);
        const run = () => {
          const y = new Float32Array(outSize(g));
          const dx = new Float32Array(x.length);
          const dw = new Float32Array(w.length);
          nb.conv2d(y, x, w, b, g);
          nb.conv2dBackwardData(dx, dy, w, g);
          nb.conv2dBackwardFilter(dw, null, dy, x, g);
          return [y, dx, dw];
        };
        results[algorithm] = run();
        expect(run(), `${algorithm} again`).toEqual(results[algorithm]);
      }
    } finally {
      setConvAlgorithm('auto');
    }
    // Winograd's forward rounds differently from the direct kernel's; 'auto'
    // takes it for this layer's forward (the table in winograd.cc), not for its gradients.
    for (let i = 0; i < 3; i++) expect(results.winograd[i], `pass ${i}`).not.toEqual(results.direct[i]);
    expect(results.auto[0]).toEqual(results.winograd[0]);
    expect(results.auto[1]).toEqual(results.direct[1]);
    expect(results.auto[2]).toEqual(results.direct[2]);
    // 'fast' also takes the weight gradient (49 tiles an image).
    expect(results.fast[0]).toEqual(results.winograd[0]);
    expect(results.fast[1]).toEqual(results.direct[1]);
    expect(results.fast[2]).toEqual(results.winograd[2]);
    expect(() => setConvAlgorithm('fft' as never)).toThrow(/setConvAlgorithm: algorithm must be 'auto', 'fast', 'direct' or 'winograd', got .*fft/);
  });

  it('CONVKIT_CONV chooses the algorithm when the backend loads, and names itself when wrong', () => {
    // The compiled package, as the CLI tests run it.
    const script = "import('./dist/index.js').then((m) => { m.setBackend('native'); console.log(m.info().convAlgorithm); }).catch((e) => { console.log(e.name + ': ' + e.message); })";
    const run = (value: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, CONVKIT_CONV: value }, encoding: 'utf8' }).trim();
    expect(run('direct')).toBe('direct');
    expect(run('winograd')).toBe('winograd');
    expect(run('fast')).toBe('fast');
    expect(run('fastest')).toMatch(/BackendError: CONVKIT_CONV=fastest: .*'auto', 'fast', 'direct' or 'winograd'/);
    // `convkit info` says which is in use.
    const info = (value: string) =>
      execFileSync(process.execPath, ['dist/cli.js', 'info'], { env: { ...process.env, CONVKIT_CONV: value }, encoding: 'utf8' });
    expect(info('direct')).toMatch(/^convolutions\s+direct/m);
    expect(info('auto')).toMatch(/^convolutions\s+auto \(Winograd where it measured faster/m);
  });
});
