// Every backward of the reference backend against central finite differences
// in float64, on random shapes (fast-check, fixed seed) that include stride
// > 1, every padding form, non-square kernels and inputs, odd sizes where the
// floor drops a row, batch > 1 and several channels.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { referenceKernels as ref } from '../../lib/backend/reference.js';
import { conv2dGeometry, pool2dGeometry } from '../../lib/ops/geometry.js';
import { dot, expectGradientsClose, numericalGradient, randomFloat64 } from '../helpers/gradcheck.js';
import { convCaseArbitrary, distinct, poolCaseArbitrary, rng } from '../helpers/random.js';

const runs = { seed: 20261124, numRuns: 30 };

describe('conv2d backward (reference, float64)', () => {
  it('matches finite differences for dx, dw and db on random geometries', () => {
    fc.assert(
      fc.property(convCaseArbitrary(), fc.integer({ min: 1, max: 1e9 }), (k, seed) => {
        const random = rng(seed);
        const g = conv2dGeometry([k.batch, k.h, k.w, k.c], [k.kh, k.kw, k.c, k.o], { stride: k.stride, padding: k.padding });
        const x = randomFloat64(random, k.batch * k.h * k.w * k.c);
        const w = randomFloat64(random, k.kh * k.kw * k.c * k.o);
        const b = randomFloat64(random, k.o);
        const r = randomFloat64(random, g.batch * g.outH * g.outW * g.outC);
        const y = new Float64Array(r.length);
        const loss = () => {
          ref.conv2d(y, x, w, b, g);
          return dot(y, r);
        };
        const dx = new Float64Array(x.length);
        const dw = new Float64Array(w.length);
        const db = new Float64Array(b.length);
        ref.conv2dBackwardData(dx, r, w, g);
        ref.conv2dBackwardFilter(dw, db, r, x, g);
        const label = JSON.stringify(k);
        expectGradientsClose(dx, numericalGradient(loss, x), `dx ${label}`);
        expectGradientsClose(dw, numericalGradient(loss, w), `dw ${label}`);
        expectGradientsClose(db, numericalGradient(loss, b), `db ${label}`);
      }),
      runs,
    );
  });

  it('covers the named hard cases explicitly', () => {
    const cases = [
      { x: [2, 7, 5, 3], w: [3, 2, 3, 4], stride: [2, 3] as [number, number], padding: [1, 0, 2, 1] as const },
      { x: [3, 6, 6, 2], w: [3, 3, 2, 2], stride: 2, padding: 'same' as const },
      { x: [1, 5, 8, 1], w: [4, 1, 1, 3], stride: 3, padding: 0 },
    ];
    const random = rng(7);
    for (const c of cases) {
      const g = conv2dGeometry(c.x, c.w, { stride: c.stride, padding: c.padding });
      const x = randomFloat64(random, c.x.reduce((a, b) => a * b));
      const w = randomFloat64(random, c.w.reduce((a, b) => a * b));
      const r = randomFloat64(random, g.batch * g.outH * g.outW * g.outC);
      const y = new Float64Array(r.length);
      const loss = () => (ref.conv2d(y, x, w, null, g), dot(y, r));
      const dx = new Float64Array(x.length);
      const dw = new Float64Array(w.length);
      ref.conv2dBackwardData(dx, r, w, g);
      ref.conv2dBackwardFilter(dw, null, r, x, g);
      expectGradientsClose(dx, numericalGradient(loss, x), `dx ${JSON.stringify(c)}`);
      expectGradientsClose(dw, numericalGradient(loss, w), `dw ${JSON.stringify(c)}`);
    }
  });
});

describe('pooling backward (reference, float64)', () => {
  it('max pooling matches finite differences (distinct values, overlapping windows, padding)', () => {
    fc.assert(
      fc.property(poolCaseArbitrary(), fc.integer({ min: 1, max: 1e9 }), (p, seed) => {
        const random = rng(seed);
        const g = pool2dGeometry([p.batch, p.h, p.w, p.c], { kernel: p.kernel, stride: p.stride, padding: p.padding }, 'test');
        const x = distinct(random, p.batch * p.h * p.w * p.c);
        const r = randomFloat64(random, g.batch * g.outH * g.outW * g.outC);
        const y = new Float64Array(r.length);
        const loss = () => (ref.maxPool2d(y, x, g), dot(y, r));
        const dx = new Float64Array(x.length);
        ref.maxPool2dBackward(dx, r, x, g);
        expectGradientsClose(dx, numericalGradient(loss, x), `max ${JSON.stringify(p)}`);
      }),
      runs,
    );
  });

  it('average pooling matches finite differences', () => {
    fc.assert(
      fc.property(poolCaseArbitrary(), fc.integer({ min: 1, max: 1e9 }), (p, seed) => {
        const random = rng(seed);
        const g = pool2dGeometry([p.batch, p.h, p.w, p.c], { kernel: p.kernel, stride: p.stride, padding: p.padding }, 'test');
        const x = randomFloat64(random, p.batch * p.h * p.w * p.c);
        const r = randomFloat64(random, g.batch * g.outH * g.outW * g.outC);
        const y = new Float64Array(r.length);
        const loss = () => (ref.avgPool2d(y, x, g), dot(y, r));
        const dx = new Float64Array(x.length);
        ref.avgPool2dBackward(dx, r, g);
        expectGradientsClose(dx, numericalGradient(loss, x), `avg ${JSON.stringify(p)}`);
      }),
      runs,
    );
  });
});

describe('fused ReLU paths (reference)', () => {
  it('conv2d with relu equals relu(conv2d), and the masked pool backward equals relu backward after pool backward', () => {
    const random = rng(31);
    const g = conv2dGeometry([2, 6, 5, 3], [3, 3, 3, 4], { padding: 1 });
    const x = randomFloat64(random, 2 * 6 * 5 * 3);
    const w = randomFloat64(random, 3 * 3 * 3 * 4);
    const plain = new Float64Array(2 * 6 * 5 * 4);
    const fused = new Float64Array(plain.length);
    ref.conv2d(plain, x, w, null, g);
    ref.conv2d(fused, x, w, null, g, true);
    const relu = new Float64Array(plain.length);
    ref.relu(relu, plain);
    expectGradientsClose(fused, relu, 'conv2d relu', 0);
    const pg = pool2dGeometry([2, 6, 5, 4], { kernel: 2 }, 'test');
    const dy = randomFloat64(random, 2 * 3 * 2 * 4);
    const routed = new Float64Array(plain.length);
    const masked = new Float64Array(plain.length);
    const expected = new Float64Array(plain.length);
    ref.maxPool2dBackward(routed, dy, relu, pg);
    ref.reluBackward(expected, routed, plain);
    ref.maxPool2dBackward(masked, dy, relu, pg, true);
    expectGradientsClose(masked, expected, 'pool backward with relu mask', 0);
  });
});

describe('dense backward (reference, float64)', () => {
  it('matches finite differences for dx, dw and db', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1e9 }), (rows, inF, outF, seed) => {
        const random = rng(seed);
        const x = randomFloat64(random, rows * inF);
        const w = randomFloat64(random, inF * outF);
        const b = randomFloat64(random, outF);
        const r = randomFloat64(random, rows * outF);
        const y = new Float64Array(r.length);
        const loss = () => (ref.dense(y, x, w, b, rows, inF, outF), dot(y, r));
        const dx = new Float64Array(x.length);
        const dw = new Float64Array(w.length);
        const db = new Float64Array(b.length);
        ref.denseBackward(dx, dw, db, r, x, w, rows, inF, outF);
        expectGradientsClose(dx, numericalGradient(loss, x), 'dx');
        expectGradientsClose(dw, numericalGradient(loss, w), 'dw');
        expectGradientsClose(db, numericalGradient(loss, b), 'db');
      }),
      runs,
    );
  });
});

describe('activation backwards (reference, float64)', () => {
  const random = rng(99);
  // Keep away from ReLU's kink at 0, where the derivative is undefined.
  const x = randomFloat64(random, 40, -3, 3).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
  const r = randomFloat64(random, 40);
  const y = new Float64Array(40);
  const dx = new Float64Array(40);

  it('relu and leakyRelu', () => {
    ref.reluBackward(dx, r, x);
    expectGradientsClose(dx, numericalGradient(() => (ref.relu(y, x), dot(y, r)), x), 'relu');
    ref.leakyReluBackward(dx, r, x, 0.1);
    expectGradientsClose(dx, numericalGradient(() => (ref.leakyRelu(y, x, 0.1), dot(y, r)), x), 'leakyRelu');
  });

  it('sigmoid and tanh (backward from the output)', () => {
    ref.sigmoid(y, x);
    ref.sigmoidBackward(dx, r, y.slice());
    expectGradientsClose(dx, numericalGradient(() => (ref.sigmoid(y, x), dot(y, r)), x), 'sigmoid');
    ref.tanh(y, x);
    ref.tanhBackward(dx, r, y.slice());
    expectGradientsClose(dx, numericalGradient(() => (ref.tanh(y, x), dot(y, r)), x), 'tanh');
  });

  it('softmax over the last axis', () => {
    const rows = 5;
    const cols = 8;
    ref.softmax(y, x, rows, cols);
    ref.softmaxBackward(dx, r, y.slice(), rows, cols);
    expectGradientsClose(dx, numericalGradient(() => (ref.softmax(y, x, rows, cols), dot(y, r)), x), 'softmax');
  });
});

describe('loss gradients (reference, float64)', () => {
  it('softmax cross-entropy, mean over the batch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 10 }), fc.integer({ min: 1, max: 1e9 }), (rows, cols, seed) => {
        const random = rng(seed);
        const logits = randomFloat64(random, rows * cols, -4, 4);
        const labels = Int32Array.from({ length: rows }, () => Math.floor(random() * cols));
        const probs = new Float64Array(rows * cols);
        const d = new Float64Array(rows * cols);
        const loss = () => ref.softmaxCrossEntropy(probs, new Float64Array(rows * cols), logits, labels, rows, cols);
        ref.softmaxCrossEntropy(probs, d, logits, labels, rows, cols);
        expectGradientsClose(d, numericalGradient(loss, logits), 'dLogits');
      }),
      runs,
    );
  });

  it('sigmoid binary cross-entropy', () => {
    const random = rng(5);
    const logits = randomFloat64(random, 12, -5, 5);
    const targets = Float64Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 0.25 : i % 2));
    const d = new Float64Array(12);
    ref.sigmoidBinaryCrossEntropy(d, logits, targets);
    const loss = () => ref.sigmoidBinaryCrossEntropy(new Float64Array(12), logits, targets);
    expectGradientsClose(d, numericalGradient(loss, logits), 'dLogits');
  });
});
