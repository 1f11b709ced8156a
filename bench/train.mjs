// Training and inference throughput of zoo networks through the public
// model API: a training pass (forward, loss, backward) and an optimizer step, cycling through a
// pool of 8 synthetic batches (as the PyTorch anchor does).
import { Adam, SGD, Tensor, zooModel } from '../dist/index.js';
import { setBackend, setNumThreads } from '../dist/backend/select.js';
import { rate, stats, timeCalls } from './timing.mjs';

function batches(count, batch, seed) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => ({
    x: new Tensor(Float32Array.from({ length: batch * 784 }, next), [batch, 28, 28, 1]),
    y: Int32Array.from({ length: batch }, () => Math.floor(next() * 10)),
  }));
}

/** A training step function for one configuration, and the model it trains. */
export function trainStep(net, batch, optimizer) {
  const model = zooModel(net, { seed: 1 });
  const loss = model.defaultLoss();
  const opt = optimizer === 'adam' ? new Adam({ learningRate: 1e-3 }) : new SGD({ learningRate: 0.01 });
  const params = model.parameters();
  const pool = batches(8, batch, 7);
  let i = 0;
  const step = () => {
    const b = pool[(i = (i + 1) % 8)];
    model.trainPass(b.x, b.y, loss);
    opt.step(params);
  };
  return { model, step };
}

export function benchTrain({ net, batch, optimizer, backend, threads, reps = 5, targetMs = 400 }) {
  setBackend(backend);
  if (backend === 'native') setNumThreads(threads);
  const { step } = trainStep(net, batch, optimizer);
  const reference = backend === 'reference';
  const seconds = stats(timeCalls(step, { reps, warmup: reference ? 1 : 10, warmupMs: reference ? 0 : 500, targetMs: reference ? 1 : targetMs }));
  const before = process.resourceUsage();
  const steps = reference ? 2 : 200;
  for (let k = 0; k < steps; k++) step();
  const after = process.resourceUsage();
  return {
    net, batch, optimizer, backend, threads: reference ? 1 : threads,
    img_per_s: rate(seconds, batch),
    minor_faults_per_step: (after.minorPageFault - before.minorPageFault) / steps,
  };
}

export function benchInfer({ net, batch, backend, threads, reps = 5, targetMs = 400 }) {
  setBackend(backend);
  if (backend === 'native') setNumThreads(threads);
  const model = zooModel(net, { seed: 1 });
  const x = batches(1, batch, 3)[0].x;
  const seconds = stats(timeCalls(() => model.forwardInPlace(x, false), { reps, warmup: 10, warmupMs: 500, targetMs }));
  return { net, batch, backend, threads, img_per_s: rate(seconds, batch) };
}

/**
 * Thread scaling without the machine's drift: blocks of training steps
 * alternate between 1 and `threads` threads on the same model and batches,
 * for `seconds`; the ratio of the two medians of per-block images/s.
 */
export function benchScaling({ net, batch, threads, seconds = 10 }) {
  setBackend('native');
  const { step } = trainStep(net, batch, 'sgd');
  const perBlock = Math.max(4, Math.round(4096 / batch));
  const rates = { one: [], many: [] };
  setNumThreads(threads);
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) step();
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (const [key, n] of [['one', 1], ['many', threads]]) {
      setNumThreads(n);
      step(); // the other count's scratch and caches settle
      const t0 = performance.now();
      for (let k = 0; k < perBlock; k++) step();
      rates[key].push((perBlock * batch) / ((performance.now() - t0) / 1000));
    }
  }
  setNumThreads(threads);
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const one = median(rates.one), many = median(rates.many);
  return { net, batch, threads, blocks: rates.one.length, img_per_s_1_thread: one, img_per_s: many, ratio: many / one };
}
