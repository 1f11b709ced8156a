// onnxruntime-node's inference of the zoo networks, exported by convkit to
// ONNX, for bench:peers. Run as its own process (its thread pool must not
// share a process with convkit's OpenMP threads): node bench/onnx.mjs THREADS
// [BATCH] [--quick]; prints one JSON object: {threads, infer: [{net, batch, img_per_s}]}.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, zooModel } from '../dist/index.js';
import { rate, stats } from './timing.mjs';

const argv = process.argv.slice(2);
const threads = Number(argv[0] ?? 2);
const batch = Number(argv.find((a, i) => i > 0 && /^\d+$/.test(a)) ?? 256);
const quick = argv.includes('--quick');
const ort = createRequire(import.meta.url)('onnxruntime-node');

/** Seconds per call of an async function: warm-up, then reps timed blocks of about targetMs each. */
async function timeAsync(fn, { reps = 5, warmup = 10, targetMs = 600 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const t0 = performance.now();
  await fn();
  const once = Math.max(performance.now() - t0, 1e-3);
  const calls = Math.max(1, Math.round(targetMs / once));
  const seconds = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    seconds.push((performance.now() - start) / 1000 / calls);
  }
  return seconds;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-onnx-'));
const infer = [];
try {
  for (const net of ['mnist-3layer', 'mnist-2layer']) {
    const model = zooModel(net, { seed: 1 });
    const path = join(dir, `${net}.onnx`);
    await exportOnnx(model, path);
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    let s = 7;
    const x = Float32Array.from({ length: batch * 784 }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32));
    const feeds = { input: new ort.Tensor('float32', x, [batch, 28, 28, 1]) };
    const seconds = stats(await timeAsync(() => session.run(feeds), { targetMs: quick ? 150 : 600 }));
    infer.push({ net, batch, threads, img_per_s: rate(seconds, batch) });
    await session.release();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ onnxruntime: ort.env?.versions?.common ?? null, threads, infer }));
