// One run of a sweep: an ordinary `convkit train` in a child process, writing
// its run directory (and its TensorBoard folder) inside the sweep's. A run
// that holds a saved state resumes from it; a finished one is not run again.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdsRun } from '../formats/rundir.js';
import { type PlannedRun, trainArgs } from './spec.js';

/** The sweep directory's layout. */
export const sweepPaths = (dir: string) => ({
  plan: join(dir, 'sweep.json'),
  summary: join(dir, 'summary.json'),
  report: join(dir, 'report.html'),
  run: (name: string) => join(dir, 'runs', name),
  tensorboard: (name: string) => join(dir, 'tensorboard', name),
  log: (name: string) => join(dir, 'logs', `${name}.log`),
});

/** What a finished run's run.json records. */
export interface FinishedRun {
  settings: Record<string, unknown>;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  perClass?: { class: number; name: string; accuracy: number }[];
  confusionMatrix?: number[][];
}

export function readFinished(runDir: string): FinishedRun | null {
  try {
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Partial<FinishedRun>;
    return typeof run.testAccuracy === 'number' ? (run as FinishedRun) : null;
  } catch {
    return null;
  }
}

/** How a run ended: finished (its results), interrupted (resumable), or failed (the last lines of its log). */
export interface RunOutcome {
  name: string;
  status: 'done' | 'interrupted' | 'failed';
  /** Whether this call ran it (false: it had finished before). */
  ran: boolean;
  result: FinishedRun | null;
  error?: string;
  seconds: number;
}

/** The package's CLI (dist/cli.js), whether this module runs from dist/ or lib/ (the tests). */
const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface RunOptions {
  threads: number;
  /** Called with the child as soon as it starts (to forward an interrupt to it). */
  onStart?: (child: ChildProcess) => void;
  /** Extra environment for the child (tests inject faults this way). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs (or resumes) one run to its end. The child has its own process group,
 * so a Ctrl-C reaches it once, through whoever owns it; and an IPC channel,
 * so that it dies with its parent (lib/cli/train.ts): a killed worker leaves
 * a resumable run, never a second writer.
 */
export function runOne(sweepDir: string, run: PlannedRun, options: RunOptions): Promise<RunOutcome> {
  const paths = sweepPaths(sweepDir);
  const dir = paths.run(run.name);
  const finished = readFinished(dir);
  if (finished) return Promise.resolve({ name: run.name, status: 'done', ran: false, result: finished, seconds: 0 });
  const state = existsSync(dir) && holdsRun(dir) ? 'partial' : 'new';
  mkdirSync(join(sweepDir, 'logs'), { recursive: true });
  mkdirSync(join(sweepDir, 'runs'), { recursive: true });
  // A resumed run keeps its settings and data directory (run.json records both).
  const where = state === 'partial' ? ['--resume', dir] : [...trainArgs(run.settings), '--out', dir];
  const args = [cliPath, 'train', ...where, '--tensorboard', paths.tensorboard(run.name), '--threads', String(options.threads), '--quiet'];
  const log = openSync(paths.log(run.name), 'a');
  // One line per start: a run's log says how often it was started and resumed, and by which process.
  writeSync(log, `== ${new Date().toISOString()} ${state === 'partial' ? 'resumed' : 'started'} by pid ${process.pid} on ${hostname()}\n`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log, 'ipc'], detached: true, env: { ...process.env, ...options.env } });
    closeSync(log);
    options.onStart?.(child);
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      const seconds = (performance.now() - started) / 1000;
      const result = readFinished(dir);
      if (code === 0 && result) return resolve({ name: run.name, status: 'done', ran: true, result, seconds });
      if (code === 130) return resolve({ name: run.name, status: 'interrupted', ran: true, result: null, seconds });
      resolve({ name: run.name, status: 'failed', ran: true, result: null, seconds, error: spawnError?.message ?? `${signal ? `killed by ${signal}` : `exit ${code}`}: ${lastLines(paths.log(run.name))}` });
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

function lastLines(file: string, n = 3): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter((l) => !l.startsWith('== ')).slice(-n).join(' | ') || '(no output)';
  } catch {
    return '(no log)';
  }
}
