// A sweep from start to end: plan the runs, record the plan in the sweep
// directory (a restart must find the same plan), run what has not finished
// (here, or through a queue), and write one summary row per run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConvkitError } from '../core/errors.js';
import { jsonBytes, writeFileAtomic } from '../formats/atomic.js';
import { lockRunDir } from '../formats/run-lock.js';
import { poolShape, runLocally } from './local.js';
import { type FinishedRun, type RunOutcome, readFinished, sweepPaths } from './runner.js';
import { type PlannedRun, type RunSettings, type SweepSpec, planRuns } from './spec.js';

/** Options of `sweep`: the spec, the output folder, and how many runs at once (or a queue). */
export interface SweepOptions {
  /** The sweep directory: runs/, tensorboard/, logs/, sweep.json, summary.json. */
  out: string;
  /** Local pool size and threads per run (poolShape fills in what is not given). */
  workers?: number;
  threads?: number;
  /** redis://HOST:PORT: enqueue the runs for `convkit worker`s instead of running them here. */
  queue?: string;
  /** Passed to every run (the data sets' folder). */
  dataDir?: string;
  signal?: AbortSignal;
  /** Progress lines. */
  say?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** One row of summary.json: a run's settings and how it ended. */
export interface SummaryRow {
  name: string;
  varies: RunSettings;
  settings: RunSettings;
  status: 'done' | 'interrupted' | 'failed' | 'pending';
  testAccuracy: number | null;
  testLoss: number | null;
  bestValAccuracy: number | null;
  epochs: number | null;
  seconds: number | null;
  error?: string;
}

/** What `sweep` resolves to: each run's row and the summary file written. */
export interface SweepResult {
  dir: string;
  name: string;
  rows: SummaryRow[];
  /** Runs this call ran (the others had finished before it). */
  ran: number;
  interrupted: boolean;
  failed: number;
}


/** Records the plan, or checks that the directory's recorded plan is this one. */
function recordPlan(dir: string, name: string, runs: readonly PlannedRun[]): void {
  const file = sweepPaths(dir).plan;
  const plan = { name, runs: runs.map((r) => ({ name: r.name, settings: r.settings })) };
  if (existsSync(file)) {
    let recorded: typeof plan;
    try {
      recorded = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConvkitError(`${file}: cannot read the recorded sweep (${(error as Error).message})`);
    }
    if (JSON.stringify(recorded.runs) !== JSON.stringify(plan.runs)) {
      throw new ConvkitError(`${dir} holds another sweep ('${recorded.name}', ${recorded.runs?.length ?? 0} runs, not these ${runs.length}); choose another --out`);
    }
    return;
  }
  writeFileAtomic(file, jsonBytes(plan));
}

function historyOf(runDir: string): { epochs: number; bestVal: number | null } | null {
  try {
    const h = JSON.parse(readFileSync(`${runDir}/history.json`, 'utf8')) as { epochs: number[]; valAccuracy: number[] };
    return { epochs: h.epochs.length, bestVal: h.valAccuracy.length ? Math.max(...h.valAccuracy) : null };
  } catch {
    return null;
  }
}

export function summaryRow(dir: string, run: PlannedRun, outcome?: RunOutcome): SummaryRow {
  const runDir = sweepPaths(dir).run(run.name);
  const finished: FinishedRun | null = outcome?.result ?? readFinished(runDir);
  const history = historyOf(runDir);
  return {
    name: run.name, varies: run.varies, settings: run.settings,
    status: finished ? 'done' : outcome?.status ?? 'pending',
    testAccuracy: finished?.testAccuracy ?? null, testLoss: finished?.testLoss ?? null,
    bestValAccuracy: history?.bestVal ?? null, epochs: history?.epochs ?? null, seconds: finished?.seconds ?? null,
    ...(outcome?.error ? { error: outcome.error } : {}),
  };
}

/** Runs a sweep (or finishes one a restart finds half done) and writes summary.json. */
export async function sweep(spec: SweepSpec, options: SweepOptions): Promise<SweepResult> {
  const dir = resolve(options.out);
  const say = options.say ?? (() => {});
  const runs = planRuns(options.dataDir ? { ...spec, base: { ...spec.base, dataDir: resolve(options.dataDir) } } : spec);
  mkdirSync(dir, { recursive: true });
  const release = lockRunDir(dir);
  try {
    recordPlan(dir, spec.name, runs);
    const shape = poolShape(runs.length, options.workers, options.threads);
    const done = new Set(runs.filter((r) => readFinished(sweepPaths(dir).run(r.name))).map((r) => r.name));
    say(`sweep '${spec.name}': ${runs.length} runs in ${dir}${done.size ? ` (${done.size} finished before)` : ''}; ${options.queue ? `through the queue ${options.queue}, ${shape.threads} thread(s) per run` : `${shape.workers} worker(s) × ${shape.threads} thread(s)`}`);
    // The whole sweep at a glance: a line per run as it ends, with how many are done and running.
    let finished = done.size;
    let running = 0;
    const onStart = (run: PlannedRun) => {
      if (!done.has(run.name)) running++;
    };
    const onEnd = (run: PlannedRun, o: RunOutcome) => {
      if (!o.ran) return;
      running = Math.max(0, running - 1);
      if (o.status === 'done') finished++;
      const what = o.status === 'done' ? `${(o.result!.testAccuracy * 100).toFixed(2)}% in ${o.seconds.toFixed(1)} s` : o.status === 'interrupted' ? 'interrupted (resumable)' : `failed: ${o.error}`;
      say(`[${finished}/${runs.length}${running ? `, ${running} running` : ''}] ${run.name}: ${what}`);
    };
    const outcomes = options.queue
      ? await (await import('./queue.js')).runThroughQueue(dir, spec.name, runs, { url: options.queue, threads: shape.threads, onEnd, signal: options.signal, say })
      : await runLocally(dir, runs, { ...shape, onStart, onEnd, signal: options.signal, env: options.env });
    const rows = runs.map((r, i) => summaryRow(dir, r, outcomes[i]));
    writeFileAtomic(sweepPaths(dir).summary, jsonBytes({ name: spec.name, dir, rows }));
    return {
      dir, name: spec.name, rows,
      ran: outcomes.filter((o) => o?.ran).length,
      interrupted: rows.some((r) => r.status === 'interrupted' || r.status === 'pending'),
      failed: rows.filter((r) => r.status === 'failed').length,
    };
  } finally {
    release();
  }
}
