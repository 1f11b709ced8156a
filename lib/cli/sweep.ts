// `convkit sweep` and `convkit worker`: many runs from a file or the command
// line's comma lists, here or through a queue (lib/sweep/).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUN_SETTINGS, type RunSetting, type SettingValue, type SweepSpec, checkSweepSpec, readSweepFile, resolvePaths } from '../sweep/spec.js';
import { type SweepResult, sweep } from '../sweep/sweep.js';
import { sweepPaths } from '../sweep/runner.js';
import { type Flags, int, Interrupted, UsageError } from './options.js';
import { checkOutputs } from './outputs.js';
import { runDirsOf, writeRunComparison } from './compare.js';

/** The sweep's flags beyond Flags: the grid's settings as comma lists. */
export type SweepFlags = Omit<Flags, 'report'> & { report?: string | boolean };

/** Settings the command line may give (as `--flag a,b,c`), by flag name. */
const GRID_FLAGS = Object.fromEntries(
  (Object.entries(RUN_SETTINGS) as [RunSetting, string][]).filter(([k]) => k !== 'dataDir').map(([k, flag]) => [flag, k]),
) as Record<string, RunSetting>;

function parseValue(text: string): SettingValue {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) && !/^0\d/.test(text) ? n : text;
}

/** The spec the command line describes: one value → every run; a comma list → a grid axis. */
export function specFromFlags(flags: SweepFlags, file: SweepSpec | null): SweepSpec {
  const spec: SweepSpec = file ? { ...file, base: { ...file.base }, grid: { ...file.grid } } : { name: flags.name ?? 'sweep', base: {}, runs: [], grid: {} };
  if (flags.name) spec.name = flags.name;
  const record = flags as unknown as Record<string, unknown>;
  for (const [flag, key] of Object.entries(GRID_FLAGS)) {
    const raw = record[flag];
    if (raw === undefined) continue;
    if (typeof raw === 'boolean') {
      spec.base[key] = raw;
      continue;
    }
    const values = String(raw).split(',').map((v) => v.trim()).filter(Boolean).map(parseValue);
    if (values.length === 0) throw new UsageError(`--${flag} is empty`);
    if (values.length === 1) spec.base[key] = values[0];
    else spec.grid[key] = values;
  }
  return resolvePaths(checkSweepSpec(spec, 'convkit sweep'), process.cwd());
}

/**
 * The first of these signals aborts (the running runs save and stop), a
 * second exits at once, as train's Ctrl-C does. Returns the signal and the
 * handlers' removal.
 */
function stopOn(signals: readonly NodeJS.Signals[], message: string, say: (m: string) => void): { signal: AbortSignal; release: () => void } {
  const stop = new AbortController();
  const handler = () => {
    if (stop.signal.aborted) process.exit(130);
    say(message);
    stop.abort();
  };
  for (const s of signals) process.on(s, handler);
  return { signal: stop.signal, release: () => signals.forEach((s) => process.off(s, handler)) };
}

function table(result: SweepResult): string {
  const rows = result.rows.map((r) => [r.name, r.status, r.testAccuracy === null ? '–' : `${(r.testAccuracy * 100).toFixed(2)}%`, r.testLoss === null ? '–' : r.testLoss.toFixed(4), r.seconds === null ? '–' : r.seconds.toFixed(1)]);
  const head = ['run', 'status', 'test accuracy', 'test loss', 'seconds'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export async function sweepCommand(flags: SweepFlags, file?: string): Promise<void> {
  if (!flags.out) throw new UsageError('sweep needs --out DIR (the sweep directory: one run directory per run, summary.json, report.html)');
  checkOutputs([{ flag: '--out', path: flags.out, kind: 'folder' }]);
  const spec = specFromFlags(flags, file ? await readSweepFile(file) : null);
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const workers = flags.workers !== undefined ? int(flags as Flags, 'workers', 1) : undefined;
  const threads = flags.threads !== undefined ? int(flags as Flags, 'threads', 1) : undefined;
  // Ctrl-C: each running run saves and stops (exit 130, resumable); the same command finishes the sweep.
  const interrupt = stopOn(['SIGINT'], '\nconvkit: stopping the sweep: each running run saves and stops (Ctrl-C again to quit at once)', say);
  let result: SweepResult;
  try {
    result = await sweep(spec, { out: flags.out, workers, threads, queue: flags.queue, dataDir: flags['data-dir'], signal: interrupt.signal, say });
  } finally {
    interrupt.release();
  }
  say(`\n${table(result)}\n\nsummary: ${sweepPaths(result.dir).summary}`);
  const done = result.rows.filter((r) => r.status === 'done').length;
  if (flags.report !== false && done > 0) {
    const report = await writeRunComparison(sweepPaths(result.dir).report, runDirsOf([result.dir]), { title: `Sweep '${result.name}': ${done} of ${result.rows.length} runs`, dataDir: flags['data-dir'], say });
    say(`report: ${report}`);
  }
  if (flags.json) console.log(JSON.stringify(JSON.parse(readFileSync(sweepPaths(result.dir).summary, 'utf8'))));
  if (result.interrupted) {
    say(`convkit: the sweep stopped with ${result.rows.length - done} run(s) unfinished; the same command finishes it (finished runs are not run again)`);
    throw new Interrupted();
  }
  if (result.failed) throw new Error(`${result.failed} of ${result.rows.length} runs failed; their logs are in ${resolve(result.dir, 'logs')}`);
}

export async function workerCommand(flags: SweepFlags): Promise<void> {
  if (!flags.queue) throw new UsageError('worker needs --queue redis://HOST:PORT (the one the sweep was given)');
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const stop = stopOn(['SIGINT', 'SIGTERM'], 'convkit worker: stopping: the running run saves and goes back to the queue', say);
  try {
    const { runWorker } = await import('../sweep/queue.js');
    await runWorker({ url: flags.queue, threads: flags.threads !== undefined ? int(flags as Flags, 'threads', 1) : 1, say, signal: stop.signal });
  } finally {
    stop.release();
  }
}
