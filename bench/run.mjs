#!/usr/bin/env node
// npm run bench -- [--json FILE] [--quick] [--no-reference] [--batch 32,128] [--threads 2,1] [--peers] [--rounds N] [--main-job DATA_DIR]
// Training and inference images/s of the zoo networks, GFLOP/s of every
// kernel at mnist-3layer's real layer shapes, native against reference and,
// with --peers, against PyTorch measured in the same run (alternating
// rounds, two unless --rounds says otherwise; each side keeps its best).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { info, measurePeak, nativeBackend, setConvAlgorithm, setNumThreads } from '../dist/backend/select.js';
import { reference } from '../dist/backend/reference.js';
import { opCases, timeOp } from './ops.mjs';
import { machine, parseArgs, table } from './timing.mjs';
import { benchInfer, benchScaling, benchTrain } from './train.mjs';

const TRAIN_MFLOP = { 'mnist-3layer': 11.55, 'mnist-2layer': 17.03 };

const args = parseArgs(process.argv.slice(2));
const native = nativeBackend();
const threadList = args.threads ?? [availableParallelism(), 1];
const threads = threadList[0];
// The FP32 multiply-add peak of the ISA in use, measured here for every thread count the bench runs (the loop of ../shared/anchors/fma_peak.cpp, in the addon).
const peaks = {};
for (const t of threadList) {
  setNumThreads(t);
  peaks[t] = measurePeak().gflops;
}
const percentOfPeak = (gflops, t) => (gflops / peaks[t]) * 100;
setNumThreads(threads);
const meta = info();
const result = { machine: { ...machine(meta), threads, peak_gflops: peaks }, train: [], infer: [], ops: [] };
const reps = 5;
const log = (m) => process.stderr.write(`${m}\n`);

// PyTorch (../shared/anchors/torch_bench.py), when asked for: the whole set of its rows, or null.
function runTorch() {
  const script = '../shared/anchors/torch_bench.py';
  // CONVKIT_BENCH_PYTHON: the interpreter that has the PyTorch to compare with (a venv's for the pip wheel); else Debian's.
  const python = process.env.CONVKIT_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  if (!existsSync(script)) {
    log(`peers: ${script} not found; skipped`);
    return null;
  }
  log('peers: running PyTorch (../shared/anchors/torch_bench.py)...');
  const r = spawnSync(python, [script, String(threads)], { encoding: 'utf8', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '1000000000', MALLOC_TRIM_THRESHOLD_: '1000000000' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    log(`peers: PyTorch did not run (${(r.stderr || '').trim().split('\n').pop()}); install python3-torch from Debian, or set CONVKIT_BENCH_PYTHON to a Python that has torch`);
    return null;
  }
  return JSON.parse(r.stdout);
}

// onnxruntime-node (bench/onnx.mjs, its own process) on the zoo networks as convkit exports them to ONNX: inference rows, or null.
function runOnnx() {
  log('peers: running onnxruntime (bench/onnx.mjs)...');
  const r = spawnSync(process.execPath, ['bench/onnx.mjs', String(threads), ...(args.quick ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    log(`peers: onnxruntime did not run (${(r.stderr || '').trim().split('\n').pop()})`);
    return null;
  }
  return JSON.parse(r.stdout);
}

// Training (both nets, both batch sizes, SGD and Adam on mnist-3layer; each
// thread count) and inference at batch 256. With --peers, rounds alternate
// with PyTorch's (this machine's speed drifts by ±20% over minutes): each
// system keeps its best round per row, and every round is in the JSON.
const rounds = args.rounds ?? (args.peers ? 2 : 1);
const inferRounds = [];
const torchRuns = [];
const onnxRuns = [];
const trainRounds = [];
const scalingRounds = [];
for (let round = 1; round <= rounds; round++) {
  if (args.peers) {
    const t = runTorch();
    if (t) torchRuns.push(t);
    const o = runOnnx();
    if (o) onnxRuns.push(o);
  }
  const rows = [];
  for (const t of threadList) {
    for (const net of ['mnist-3layer', 'mnist-2layer']) {
      for (const batch of args.batches) {
        for (const optimizer of net === 'mnist-3layer' ? ['sgd', 'adam'] : ['sgd']) {
          if (t !== threads && (net !== 'mnist-3layer' || optimizer !== 'sgd')) continue; // thread scaling: one row per batch
          const r = benchTrain({ net, batch, optimizer, backend: 'native', threads: t, reps, targetMs: args.quick ? 150 : 600 });
          r.percent_of_peak = percentOfPeak((r.img_per_s.median * TRAIN_MFLOP[net]) / 1e3, t);
          rows.push(r);
          log(`train ${net} batch ${batch} ${optimizer} ${t} thread(s): ${Math.round(r.img_per_s.median)} img/s${rounds > 1 ? ` (round ${round})` : ''}`);
        }
      }
    }
  }
  trainRounds.push(rows);
  setNumThreads(threads);
  const inferRows = [];
  for (const net of ['mnist-3layer', 'mnist-2layer']) {
    const r = benchInfer({ net, batch: 256, backend: 'native', threads, reps, targetMs: args.quick ? 150 : 600 });
    inferRows.push(r);
    log(`infer ${net} batch 256: ${Math.round(r.img_per_s.median)} img/s${rounds > 1 ? ` (round ${round})` : ''}`);
  }
  inferRounds.push(inferRows);
  // Thread scaling, 1 against `threads` in alternating blocks: the rows above
  // are measured ~30 s apart, which this machine's drift can swing by 20%.
  // In every round: a neighbour on one core for a few seconds drags a
  // single measurement down (seen once at 1.01x).
  if (threads > 1) {
    scalingRounds.push(args.batches.map((batch) => {
      const r = benchScaling({ net: 'mnist-3layer', batch, threads, seconds: args.quick ? 3 : 10 });
      log(`scaling mnist-3layer batch ${batch}: ${r.ratio.toFixed(2)}x (${Math.round(r.img_per_s_1_thread)} -> ${Math.round(r.img_per_s)} img/s)${rounds > 1 ? ` (round ${round})` : ''}`);
      return r;
    }));
  }
}
// Each configuration's best round; the others' medians stay beside it.
function bestRounds(perRound) {
  return perRound[0].map((_, i) => {
    const all = perRound.map((rows) => rows[i]);
    const best = all.reduce((a, b) => (b.img_per_s.median > a.img_per_s.median ? b : a));
    return { ...best, rounds: all.map((x) => Math.round(x.img_per_s.median)) };
  });
}
result.train.push(...bestRounds(trainRounds));
result.infer.push(...bestRounds(inferRounds));
if (torchRuns.length) {
  // PyTorch's best round per row, the same way.
  const merged = structuredClone(torchRuns[0]);
  for (const kind of ['train', 'infer']) {
    merged[kind] = torchRuns[0][kind].map((row, i) => {
      const all = torchRuns.map((t) => t[kind][i]);
      const best = all.reduce((a, b) => (b.img_per_s.median > a.img_per_s.median ? b : a));
      return { ...best, rounds: all.map((x) => x.img_per_s.median) };
    });
  }
  result.peers = { torch: merged };
}
if (onnxRuns.length) {
  result.peers = {
    ...result.peers,
    onnxruntime: {
      version: onnxRuns[0].onnxruntime,
      infer: onnxRuns[0].infer.map((row, i) => {
        const all = onnxRuns.map((o) => o.infer[i]);
        const best = all.reduce((a, b) => (b.img_per_s.median > a.img_per_s.median ? b : a));
        return { ...best, rounds: all.map((x) => Math.round(x.img_per_s.median)) };
      }),
    },
  };
}
// Each batch size's median round of thread scaling (not the best: a slow
// 1-thread block would flatter the ratio), every round's ratio beside it.
if (scalingRounds.length) {
  result.thread_scaling = scalingRounds[0].map((_, i) => {
    const all = scalingRounds.map((rows) => rows[i]).sort((a, b) => a.ratio - b.ratio);
    return { ...all[(all.length - 1) >> 1], rounds: scalingRounds.map((rows) => Number(rows[i].ratio.toFixed(3))) };
  });
}
if (args.reference) {
  const r = benchTrain({ net: 'mnist-3layer', batch: 32, optimizer: 'sgd', backend: 'reference', threads: 1, reps });
  result.train.push(r);
  log(`train mnist-3layer batch 32 sgd reference: ${r.img_per_s.median.toFixed(1)} img/s`);
}
// Kernels.
const { setBackend } = await import('../dist/backend/select.js');
setBackend('native');
setNumThreads(threads);
const opRows = [];
for (const batch of args.batches) {
  for (const c of opCases(batch)) {
    const n = timeOp(c, native, { quick: args.quick });
    const algorithm = info().convAlgorithm;
    result.ops.push({ op: c.op, shape: c.shape, backend: 'native', threads, algorithm, gflops: n.gflops, percent_of_peak: percentOfPeak(n.gflops, threads) });
    const row = { op: c.op, shape: c.shape, 'native GFLOP/s': n.gflops.toFixed(1), '% of peak': percentOfPeak(n.gflops, threads).toFixed(1) };
    // A convolution's effective GFLOP/s (direct-convolution FLOPs over the
    // time) with each algorithm forced: Winograd does fewer multiplications,
    // so its effective rate can pass the peak.
    if (c.op.startsWith('conv2d.')) {
      for (const forced of ['direct', 'winograd']) {
        setConvAlgorithm(forced);
        const f = timeOp(c, native, { quick: args.quick });
        result.ops.push({ op: c.op, shape: c.shape, backend: 'native', threads, algorithm: forced, gflops: f.gflops, percent_of_peak: percentOfPeak(f.gflops, threads) });
        row[`${forced} GFLOP/s`] = f.gflops.toFixed(1);
        row[`${forced} %`] = percentOfPeak(f.gflops, threads).toFixed(1);
      }
      setConvAlgorithm(algorithm);
    }
    if (args.reference && batch === args.batches[0]) {
      const r = timeOp(c, reference, { reference: true });
      result.ops.push({ op: c.op, shape: c.shape, backend: 'reference', threads: 1, gflops: r.gflops });
      row['reference GFLOP/s'] = r.gflops.toFixed(3);
      row['native/reference'] = `${Math.round(n.gflops / r.gflops)}x`;
    }
    opRows.push(row);
  }
}

// The main job, end to end, when the data is at hand.
if (args.mainJob) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['dist/cli.js', 'train', '--data-dir', args.mainJob, '--quiet', '--threads', String(threads)], { encoding: 'utf8' });
  const accuracy = /test accuracy: ([\d.]+)%/.exec(r.stdout)?.[1];
  result.main_job = { command: `convkit train --data-dir ${args.mainJob}`, wall_s: (Date.now() - started) / 1000, test_accuracy_percent: accuracy ? Number(accuracy) : null, exit: r.status };
  log(`main job: ${result.main_job.wall_s.toFixed(1)} s, test accuracy ${accuracy}%`);
}
result.max_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);

// Tables.
const trainRows = result.train.map((r) => {
  const row = { net: r.net, batch: r.batch, optimizer: r.optimizer, backend: r.backend, threads: r.threads, 'img/s (median)': Math.round(r.img_per_s.median).toLocaleString('en-US'), 'min..max': `${Math.round(r.img_per_s.min)}..${Math.round(r.img_per_s.max)}`, '% of peak': r.percent_of_peak?.toFixed(1) ?? '' };
  const torch = result.peers?.torch?.train.filter((p) => p.net === r.net && p.batch === r.batch && p.opt === r.optimizer);
  if (torch?.length && r.backend === 'native' && r.threads === threads) {
    const best = Math.max(...torch.map((p) => p.img_per_s.median));
    row['PyTorch best'] = Math.round(best).toLocaleString('en-US');
    row['convkit/PyTorch'] = (r.img_per_s.median / best).toFixed(2);
  }
  return row;
});
console.log(`convkit bench — ${result.machine.cpu}, ISA ${meta.isa}, OpenMP ${meta.openmp ? 'on' : 'off'}, FP32 FMA peak measured here: ${threadList.map((t) => `${peaks[t].toFixed(0)} GFLOP/s on ${t} thread${t === 1 ? '' : 's'}`).join(', ')}\n`);
console.log(table(trainRows, [...new Set(trainRows.flatMap(Object.keys))]));
// The first batch size asked for (32 by default) stands for the rest in these lines.
const nativeTrain = result.train.find((r) => r.backend === 'native' && r.batch === args.batches[0] && r.optimizer === 'sgd' && r.net === 'mnist-3layer' && r.threads === threads);
const refTrain = result.train.find((r) => r.backend === 'reference');
if (refTrain && nativeTrain) console.log(`\nnative / reference training (mnist-3layer, batch 32): ${Math.round(nativeTrain.img_per_s.median / refTrain.img_per_s.median)}x`);
// Thread scaling from the alternating blocks: the 1-thread rows of the table
// were measured minutes away from the 2-thread rows.
for (const r of result.thread_scaling ?? []) {
  console.log(`${threads} threads / 1 thread, alternating blocks (mnist-3layer, batch ${r.batch}): ${r.ratio.toFixed(2)}x (${Math.round(r.img_per_s_1_thread).toLocaleString('en-US')} -> ${Math.round(r.img_per_s).toLocaleString('en-US')} img/s)${r.rounds.length > 1 ? `, median of rounds ${r.rounds.map((x) => x.toFixed(2)).join(' / ')}` : ''}`);
}
if (nativeTrain) console.log(`minor page faults per training step (batch ${nativeTrain.batch}): ${nativeTrain.minor_faults_per_step.toFixed(2)} (${Math.round(nativeTrain.minor_faults_per_step * 1875)} per 60,000-image epoch); peak RSS ${result.max_rss_mb} MB`);
const inferTable = result.infer.map((r) => {
  const torch = result.peers?.torch?.infer.filter((p) => p.net === r.net);
  const onnx = result.peers?.onnxruntime?.infer.find((p) => p.net === r.net && p.batch === r.batch);
  return {
    net: r.net, batch: r.batch, 'img/s (median)': Math.round(r.img_per_s.median).toLocaleString('en-US'),
    ...(torch?.length ? { 'PyTorch best': Math.round(Math.max(...torch.map((p) => p.img_per_s.median))).toLocaleString('en-US') } : {}),
    ...(onnx ? { 'onnxruntime best': Math.round(onnx.img_per_s.median).toLocaleString('en-US'), 'convkit/onnxruntime': (r.img_per_s.median / onnx.img_per_s.median).toFixed(2) } : {}),
  };
});
console.log('\n' + table(inferTable, [...new Set(inferTable.flatMap(Object.keys))]));
console.log('\n' + table(opRows, [...new Set(opRows.flatMap(Object.keys))]));
if (result.main_job) console.log(`\nmain job (convkit train, 5 epochs of mnist-3layer, load + train + evaluate): ${result.main_job.wall_s.toFixed(1)} s, test accuracy ${result.main_job.test_accuracy_percent}%`);
if (args.json) {
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${args.json}`);
}
