#!/usr/bin/env node
// node bench/winograd-error.mjs [--json FILE]
// The rounding error of each convolution algorithm against the float64
// reference, over random inputs at the zoo's 3x3 and 5x5 layer shapes: for each
// pass (forward, input gradient, weight gradient), the largest error over
// the sum of the absolute values of the terms (the conformance suite's
// measure, in units of float32's epsilon), and the RMS error over the RMS
// of the exact values. Inputs uniform in [-1, 1], 5 seeds of 8 images each.
import { writeFileSync } from 'node:fs';
import { nativeBackend, setConvAlgorithm, setNumThreads } from '../dist/backend/select.js';
import { referenceKernels as ref } from '../dist/backend/reference.js';
import { conv2dGeometry } from '../dist/ops/geometry.js';

const EPS = 2 ** -23;
const LAYERS = [
  { name: 'mnist-3layer conv2', x: [14, 14, 16], w: [3, 3, 16, 32] },
  { name: 'mnist-3layer conv3', x: [7, 7, 32], w: [3, 3, 32, 64] },
  { name: 'mnist-gap conv3', x: [14, 14, 32], w: [3, 3, 32, 64] },
  { name: 'xray-binary conv2', x: [16, 16, 16], w: [3, 3, 16, 32] },
  { name: 'mnist-2layer conv2', x: [14, 14, 16], w: [5, 5, 16, 32] },
];

function uniform(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}
const abs = (a) => a.map(Math.abs);

function measure(native, exact, bound) {
  let worst = 0;
  let se = 0;
  let sx = 0;
  for (let i = 0; i < exact.length; i++) {
    const e = Math.abs(native[i] - exact[i]);
    if (bound[i] > 0) worst = Math.max(worst, e / bound[i]);
    se += e * e;
    sx += exact[i] * exact[i];
  }
  return { worst_over_terms_eps: worst / EPS, rms_relative: Math.sqrt(se / sx) };
}

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const nb = nativeBackend();
setNumThreads(1);
const rows = [];
for (const layer of LAYERS) {
  const batch = 8;
  const g = conv2dGeometry([batch, ...layer.x], layer.w, { padding: (layer.w[0] - 1) / 2 });
  const outLen = batch * g.outH * g.outW * g.outC;
  const results = {};
  for (const algorithm of ['direct', 'winograd']) {
    setConvAlgorithm(algorithm);
    const acc = { forward: [], input_gradient: [], weight_gradient: [] };
    for (let seed = 1; seed <= 5; seed++) {
      const x = uniform(batch * layer.x.reduce((a, b) => a * b), seed);
      const w = uniform(layer.w.reduce((a, b) => a * b), seed + 100);
      const dy = uniform(outLen, seed + 200);
      const y = new Float32Array(outLen), yRef = new Float64Array(outLen), yBound = new Float64Array(outLen);
      nb.conv2d(y, x, w, null, g);
      ref.conv2d(yRef, x, w, null, g);
      ref.conv2d(yBound, abs(x), abs(w), null, g);
      acc.forward.push(measure(y, yRef, yBound));
      const dx = new Float32Array(x.length), dxRef = new Float64Array(x.length), dxBound = new Float64Array(x.length);
      nb.conv2dBackwardData(dx, dy, w, g);
      ref.conv2dBackwardData(dxRef, dy, w, g);
      ref.conv2dBackwardData(dxBound, abs(dy), abs(w), g);
      acc.input_gradient.push(measure(dx, dxRef, dxBound));
      const dw = new Float32Array(w.length), dwRef = new Float64Array(w.length), dwBound = new Float64Array(w.length);
      nb.conv2dBackwardFilter(dw, null, dy, x, g);
      ref.conv2dBackwardFilter(dwRef, null, dy, x, g);
      ref.conv2dBackwardFilter(dwBound, null, abs(dy), abs(x), g);
      acc.weight_gradient.push(measure(dw, dwRef, dwBound));
    }
    results[algorithm] = Object.fromEntries(Object.entries(acc).map(([pass, list]) => [pass, {
      worst_over_terms_eps: Math.max(...list.map((m) => m.worst_over_terms_eps)),
      rms_relative: Math.max(...list.map((m) => m.rms_relative)),
    }]));
  }
  setConvAlgorithm('auto');
  rows.push({ layer: layer.name, x: layer.x, w: layer.w, ...results });
}
console.log('largest |error| / sum |terms| in float32 epsilons, and the largest RMS relative error, over 5 seeds:');
for (const r of rows) {
  for (const pass of ['forward', 'input_gradient', 'weight_gradient']) {
    const d = r.direct[pass], w = r.winograd[pass];
    console.log(`${r.layer.padEnd(20)} ${pass.padEnd(16)} direct ${d.worst_over_terms_eps.toFixed(2).padStart(6)} eps, rms ${d.rms_relative.toExponential(2)}   winograd ${w.worst_over_terms_eps.toFixed(2).padStart(6)} eps, rms ${w.rms_relative.toExponential(2)}`);
  }
}
if (jsonAt >= 0) writeFileSync(args[jsonAt + 1], `${JSON.stringify({ date: new Date().toISOString(), epsilon: EPS, rows }, null, 2)}\n`);
