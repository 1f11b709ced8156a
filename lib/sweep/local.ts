// A sweep on this machine: a pool of worker processes, each running one run
// at a time with a share of the cores, so that the machine is not
// oversubscribed (workers × threads ≤ cores).
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { type RunOutcome, runOne } from './runner.js';
import type { PlannedRun } from './spec.js';

export interface PoolShape {
  workers: number;
  threads: number;
}

/**
 * Workers and threads per run: given either, the other fills the cores;
 * given neither, one thread per run and a worker per core (small runs scale
 * better across processes than across threads).
 */
export function poolShape(runs: number, workers?: number, threads?: number, cores = availableParallelism()): PoolShape {
  const t = threads ?? Math.max(1, Math.floor(cores / Math.max(1, workers ?? cores)));
  const w = workers ?? Math.max(1, Math.floor(cores / t));
  return { workers: Math.max(1, Math.min(w, runs)), threads: t };
}

export interface LocalOptions extends PoolShape {
  /** Each run as it ends, and each as it starts. */
  onStart?: (run: PlannedRun) => void;
  onEnd?: (run: PlannedRun, outcome: RunOutcome) => void;
  /** Aborting stops new runs and sends each running one a single SIGINT (it saves and exits 130). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Runs every planned run that has not finished; resolves with every outcome, in plan order. */
export async function runLocally(sweepDir: string, runs: readonly PlannedRun[], options: LocalOptions): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = new Array(runs.length);
  const running = new Set<ChildProcess>();
  const interrupt = () => {
    for (const child of running) child.kill('SIGINT');
  };
  options.signal?.addEventListener('abort', interrupt, { once: true });
  let next = 0;
  const worker = async () => {
    while (next < runs.length && !options.signal?.aborted) {
      const i = next++;
      const run = runs[i];
      options.onStart?.(run);
      let child: ChildProcess | null = null;
      const outcome = await runOne(sweepDir, run, {
        threads: options.threads,
        env: options.env,
        onStart: (c) => {
          child = c;
          running.add(c);
          if (options.signal?.aborted) c.kill('SIGINT');
        },
      });
      if (child) running.delete(child);
      outcomes[i] = outcome;
      options.onEnd?.(run, outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.workers }, worker));
  } finally {
    options.signal?.removeEventListener('abort', interrupt);
  }
  return outcomes;
}
