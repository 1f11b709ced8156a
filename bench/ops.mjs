// GFLOP/s of each kernel at the real layer shapes of mnist-3layer (and mnist-gap's 14x14 conv3), through
// the Backend interface with preallocated buffers (the kernel, not allocation).
import { conv2dGeometry, pool2dGeometry } from '../dist/ops/geometry.js';
import { timeCalls, stats } from './timing.mjs';

function random(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

// pooled: followed by ReLU and a 2x2 max-pool in its network, with an input
// gradient (not a first layer): the fused backward that training runs.
const CONVS = [
  { name: 'conv1', x: [28, 28, 1], w: [3, 3, 1, 16] },
  { name: 'conv2', x: [14, 14, 16], w: [3, 3, 16, 32], pooled: true },
  { name: 'conv3', x: [7, 7, 32], w: [3, 3, 32, 64], pooled: true },
  { name: 'gap-conv3', x: [14, 14, 32], w: [3, 3, 32, 64] }, // mnist-gap's last convolution
  { name: '2layer-conv2', x: [14, 14, 16], w: [5, 5, 16, 32], pooled: true }, // mnist-2layer's 5x5
];
const POOLS = [
  { name: 'pool1', x: [28, 28, 16] },
  { name: 'pool2', x: [14, 14, 32] },
  { name: 'pool3', x: [7, 7, 64] },
];

/** The ops to time at one batch size: [{op, shape, flops, run(backend)}]. */
export function opCases(batch) {
  const cases = [];
  for (const c of CONVS) {
    const g = conv2dGeometry([batch, ...c.x], c.w, { padding: (c.w[0] - 1) / 2 });
    const x = random(batch * c.x[0] * c.x[1] * c.x[2], 1);
    const w = random(c.w.reduce((a, b) => a * b), 2);
    const b = random(c.w[3], 3);
    const y = new Float32Array(batch * g.outH * g.outW * g.outC);
    const dy = random(y.length, 4);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(b.length);
    const flops = 2 * batch * g.outH * g.outW * g.outC * g.kH * g.kW * g.inC;
    const shape = `${c.name} [${batch},${c.x}]*[${c.w}]`;
    cases.push({ op: 'conv2d.forward', shape, flops, run: (be) => be.conv2d(y, x, w, b, g) });
    cases.push({ op: 'conv2d.backwardData', shape, flops, run: (be) => be.conv2dBackwardData(dx, dy, w, g) });
    cases.push({ op: 'conv2d.backwardFilter', shape, flops, run: (be) => be.conv2dBackwardFilter(dw, db, dy, x, g) });
    if (c.pooled) {
      // The fused ReLU + max-pool backward, input and weight gradients (direct
      // FLOPs of both), from the cells of the fused forward, run once.
      const pg = pool2dGeometry([batch, g.outH, g.outW, g.outC], { kernel: 2 }, 'bench');
      const pooled = new Float32Array(batch * pg.outH * pg.outW * pg.outC);
      const cells = new Uint8Array(pooled.length);
      const dPooled = random(pooled.length, 11);
      let forward = true;
      const run = (be) => {
        if (forward) be.conv2dReluPool(null, pooled, cells, x, w, b, g, pg);
        forward = false;
        be.conv2dReluPoolBackward(dx, dw, db, dPooled, x, w, pooled, cells, g, pg);
      };
      cases.push({ op: 'conv2d.reluPoolBackward', shape, flops: 2 * flops, run });
    }
  }
  for (const p of POOLS) {
    const g = pool2dGeometry([batch, ...p.x], { kernel: 2 }, 'bench');
    const x = random(batch * p.x[0] * p.x[1] * p.x[2], 5);
    const y = new Float32Array(batch * g.outH * g.outW * g.outC);
    const dy = random(y.length, 6);
    const dx = new Float32Array(x.length);
    const flops = y.length * 4; // one comparison per window cell
    const shape = `${p.name} [${batch},${p.x}] 2x2`;
    cases.push({ op: 'maxPool2d.forward', shape, flops, run: (be) => be.maxPool2d(y, x, g) });
    cases.push({ op: 'maxPool2d.backward', shape, flops, run: (be) => be.maxPool2dBackward(dx, dy, x, g) });
  }
  {
    const x = random(batch * 576, 7);
    const w = random(576 * 10, 8);
    const b = random(10, 9);
    const y = new Float32Array(batch * 10);
    const dy = random(y.length, 10);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(10);
    const flops = 2 * batch * 576 * 10;
    const shape = `dense [${batch},576]*[576,10]`;
    cases.push({ op: 'dense.forward', shape, flops, run: (be) => be.dense(y, x, w, b, batch, 576, 10) });
    cases.push({ op: 'dense.backward', shape, flops: 2 * flops, run: (be) => be.denseBackward(dx, dw, db, dy, x, w, batch, 576, 10) });
  }
  return cases;
}

/** Times one case on one backend; returns GFLOP/s (median) and the spread. */
export function timeOp(c, backend, { quick = false, reference = false } = {}) {
  const seconds = stats(timeCalls(() => c.run(backend), {
    reps: 5,
    warmup: reference ? 1 : 3,
    targetMs: reference ? 1 : quick ? 20 : 80,
  }));
  return { gflops: c.flops / seconds.median / 1e9, seconds };
}
