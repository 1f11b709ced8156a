// Timing helpers shared by the benchmarks: warm up, then time repetitions
// long enough to read, and report the median, min and max.
import os from 'node:os';
import { execSync } from 'node:child_process';

/**
 * Runs fn repeatedly: `warmup` untimed calls, then `reps` timed repetitions
 * of `inner` calls each, where `inner` is chosen so one repetition takes
 * about `targetMs`. Returns seconds per call for each repetition.
 */
export function timeCalls(fn, { reps = 5, warmup = 2, warmupMs = 0, targetMs = 60 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  // Then keep warming for warmupMs: the JIT, the thread team and the page
  // tables settle over the first few hundred milliseconds, not 10 calls.
  for (const start = performance.now(); performance.now() - start < warmupMs; ) fn();
  const t0 = performance.now();
  fn();
  const once = Math.max(performance.now() - t0, 1e-3);
  const inner = Math.max(1, Math.round(targetMs / once));
  const perCall = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < inner; i++) fn();
    perCall.push((performance.now() - start) / 1000 / inner);
  }
  return perCall;
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Maps each of {median, min, max} through f (e.g. seconds → rate; min time is max rate). */
export function rate(secondsStats, work) {
  return { median: work / secondsStats.median, min: work / secondsStats.max, max: work / secondsStats.min };
}

export function machine(info) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = execSync("grep -m1 'model name' /proc/cpuinfo", { encoding: 'utf8' }).split(':')[1].trim();
  } catch {}
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    isa: info.isa,
    openmp: info.openmp,
    date: new Date().toISOString(),
  };
}

export function parseArgs(argv) {
  const args = { json: null, quick: false, reference: true, batches: [32, 128], threads: null, peers: false, rounds: null, mainJob: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = argv[++i];
    else if (a === '--quick') args.quick = true;
    else if (a === '--no-reference') args.reference = false;
    else if (a === '--batch') args.batches = argv[++i].split(',').map(Number);
    else if (a === '--threads') args.threads = argv[++i].split(',').map(Number);
    else if (a === '--peers') args.peers = true;
    else if (a === '--rounds') {
      args.rounds = Number(argv[++i]);
      if (!Number.isInteger(args.rounds) || args.rounds < 1) {
        console.error(`--rounds takes a whole number of at least 1, got ${argv[i]}`);
        process.exit(2);
      }
    } else if (a === '--main-job') args.mainJob = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--json FILE] [--quick] [--no-reference] [--batch 32,128] [--threads 2,1] [--peers] [--rounds N] [--main-job DATA_DIR]');
      process.exit(0);
    } else {
      console.error(`unknown argument: ${a}`);
      process.exit(2);
    }
  }
  return args;
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => cells.map((v, i) => String(v ?? '').padStart(widths[i])).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n');
}
