#!/usr/bin/env node
// ResNet-20 (the zoo's, He et al.'s CIFAR-10 network) training and inference
// images/s at batch 32 and 128 on 32×32×3 synthetic batches, beside PyTorch's
// same network (bench/torch_resnet.py) measured in the same run: rounds
// alternate between the two (this machine's speed drifts over minutes) and
// each keeps its best round per row.
//   node bench/cifar.mjs [--json FILE] [--rounds 2] [--threads 2] [--batch 32,128] [--net resnet-20]
// PyTorch runs from CONVKIT_BENCH_PYTHON (a venv with the pip wheel), else /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { SGD, Tensor, zooModel } from '../dist/index.js';
import { info, measurePeak, setNumThreads } from '../dist/backend/select.js';
import { machine, rate, stats, timeCalls } from './timing.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = Number(arg('threads', availableParallelism()));
const batches = arg('batch', '32,128').split(',').map(Number);
const rounds = Number(arg('rounds', 2));
const net = arg('net', 'resnet-20');
const log = (m) => process.stderr.write(`${m}\n`);
setNumThreads(threads);

function synthetic(count, batch, seed) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => ({
    x: new Tensor(Float32Array.from({ length: batch * 3072 }, next), [batch, 32, 32, 3]),
    y: Int32Array.from({ length: batch }, () => Math.floor(next() * 10)),
  }));
}

function convkitRound() {
  const rows = { train: [], infer: [] };
  for (const batch of batches) {
    const model = zooModel(net, { seed: 1 });
    const loss = model.defaultLoss();
    const opt = new SGD({ learningRate: 0.05, momentum: 0.9 });
    const params = model.parameters();
    const pool = synthetic(8, batch, 7);
    let i = 0;
    const step = () => {
      const b = pool[(i = (i + 1) % 8)];
      model.trainPass(b.x, b.y, loss);
      opt.step(params);
    };
    rows.train.push({ net, batch, img_per_s: rate(stats(timeCalls(step, { reps: 5, warmup: 3, warmupMs: 1000, targetMs: 1000 })), batch) });
    log(`convkit train ${net} b${batch}: ${rows.train.at(-1).img_per_s.median.toFixed(0)} img/s`);
    const x = pool[0].x;
    rows.infer.push({ net, batch, img_per_s: rate(stats(timeCalls(() => model.forwardInPlace(x, false), { reps: 5, warmup: 3, warmupMs: 500, targetMs: 1000 })), batch) });
    log(`convkit infer ${net} b${batch}: ${rows.infer.at(-1).img_per_s.median.toFixed(0)} img/s`);
  }
  return rows;
}

function torchRound() {
  const python = process.env.CONVKIT_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const r = spawnSync(python, ['bench/torch_resnet.py', String(threads), batches.join(',')], { encoding: 'utf8', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '1000000000', MALLOC_TRIM_THRESHOLD_: '1000000000' }, maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    log(`peers: PyTorch did not run (${(r.stderr || '').trim().split('\n').pop()}); set CONVKIT_BENCH_PYTHON to a Python that has torch`);
    return null;
  }
  const out = JSON.parse(r.stdout);
  log(`torch ${out.torch}: ${out.train.map((t) => `train b${t.batch}${t.channels_last ? ' cl' : ''} ${t.img_per_s.median}`).join(', ')}`);
  return out;
}

if (net !== 'resnet-20' && argv.includes('--peers')) log('peers: bench/torch_resnet.py defines resnet-20 only');
const peak = measurePeak().gflops;
const convkitRounds = [];
const torchRounds = [];
for (let r = 0; r < rounds; r++) {
  convkitRounds.push(convkitRound());
  if (net === 'resnet-20') {
    const t = torchRound();
    if (t) torchRounds.push(t);
  }
}

const best = (rows) => rows.reduce((a, b) => (b.img_per_s.median > a.img_per_s.median ? b : a));
const summary = [];
for (const kind of ['train', 'infer']) {
  for (const batch of batches) {
    const ours = best(convkitRounds.map((r) => r[kind].find((x) => x.batch === batch)));
    const theirs = torchRounds.length ? best(torchRounds.flatMap((t) => t[kind].filter((x) => x.batch === batch))) : null;
    summary.push({ kind, net, batch, convkit: ours.img_per_s.median, torch: theirs?.img_per_s.median ?? null, torch_channels_last: theirs?.channels_last ?? null, ratio: theirs ? ours.img_per_s.median / theirs.img_per_s.median : null });
  }
}
const meta = info();
const result = { machine: { ...machine(meta), threads, peak_gflops: peak }, convkitRounds, torchRounds, summary };
for (const s of summary) log(`${s.kind} ${s.net} b${s.batch}: convkit ${s.convkit.toFixed(0)} img/s${s.torch ? `, PyTorch ${s.torch.toFixed(0)} (${s.torch_channels_last ? 'channels_last' : 'NCHW'}), ratio ${s.ratio.toFixed(2)}` : ''}`);
const file = arg('json', null);
if (file) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  log(`wrote ${file}`);
} else console.log(JSON.stringify(result, null, 1));
