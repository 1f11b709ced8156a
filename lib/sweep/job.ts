// What a queued job may ask a worker to do. Anyone who can reach the Redis can
// put a job in the queue, and a job is only a name for work the sweep already
// planned: the worker runs the run of that name from the plan recorded in the
// sweep's directory (sweep.json), never settings a job carries itself. A job
// that names no such sweep or run is malformed and fails at once, alone.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { describe } from '../core/errors.js';
import { sweepPaths } from './runner.js';
import type { PlannedRun } from './spec.js';

/** A queued job's data as `convkit sweep --queue` writes it. */
export interface JobData {
  sweepDir: string;
  sweep: string;
  run: PlannedRun;
  threads: number;
}

/** The run a job names, from its sweep's recorded plan; a string saying what is wrong with a malformed job. */
export function runOfJob(data: unknown): { sweepDir: string; sweep: string; run: PlannedRun; threads?: number } | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return `its data is ${describe(data)}, not an object`;
  const { sweepDir, run, threads } = data as Partial<Record<keyof JobData, unknown>>;
  if (typeof sweepDir !== 'string' || !isAbsolute(sweepDir)) return `sweepDir is ${describe(sweepDir)}, not an absolute path`;
  const name = (run as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') return `run.name is ${describe(name)}, not a run's name`;
  let plan: { name?: unknown; runs?: unknown };
  try {
    plan = JSON.parse(readFileSync(sweepPaths(sweepDir).plan, 'utf8'));
  } catch (error) {
    return `${sweepPaths(sweepDir).plan} cannot be read as a sweep's plan (${(error as Error).message})`;
  }
  const runs = Array.isArray(plan?.runs) ? (plan.runs as { name?: unknown; settings?: unknown }[]) : [];
  const index = runs.findIndex((r) => r?.name === name);
  const planned = runs[index];
  if (!planned || typeof planned.settings !== 'object' || planned.settings === null) return `the sweep in ${sweepDir} has no run '${name}'`;
  const varies = (run as { varies?: unknown }).varies;
  return {
    sweepDir, sweep: typeof plan.name === 'string' ? plan.name : '(unnamed)',
    run: { index, name, settings: planned.settings as PlannedRun['settings'], varies: typeof varies === 'object' && varies !== null ? (varies as PlannedRun['varies']) : {} },
    ...(Number.isInteger(threads) && (threads as number) >= 1 && (threads as number) <= 1024 ? { threads: threads as number } : {}),
  };
}
