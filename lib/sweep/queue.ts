// Sweeps across machines on BullMQ (Redis). `convkit sweep --queue URL`
// enqueues each unfinished run as a job whose id names the sweep and the run,
// so a run is queued once however often the sweep restarts; `convkit worker
// --queue URL`, on any number of machines, takes jobs one at a time and runs
// them (runner.ts) into the sweep's directory, which every machine must see
// at the same path (a shared file system). BullMQ holds a lock on each active
// job that its worker renews; a worker that dies stops renewing, and the job
// goes back to the queue for another worker, which resumes the run from its
// last saved generation. Failed runs are retried (3 attempts).
//
// Nothing here trusts Redis to remember: the run directories are the record.
// A run is finished when its run.json says so, whatever the queue holds; a
// run whose job Redis lost (a restart without persistence) is queued again;
// and a worker given a run that a live process still writes (its old job
// handed on while Redis was away) waits for that process instead of running
// it a second time (run-lock.ts says who holds a run directory).
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { ConvkitError, ValueError } from '../core/errors.js';
import { runDirHolder } from '../formats/run-lock.js';
import { type JobData, runOfJob } from './job.js';
import { type RunOutcome, readFinished, runOne, sweepPaths } from './runner.js';
import type { PlannedRun } from './spec.js';

export const QUEUE_NAME = 'convkit-runs';
const ATTEMPTS = 3;

type BullMQ = typeof import('bullmq');

async function bullmq(): Promise<BullMQ> {
  try {
    return await import('bullmq');
  } catch {
    throw new ConvkitError("--queue needs BullMQ and its Redis client, which convkit does not install by default: npm install bullmq ioredis");
  }
}

/** redis://[:password@]HOST[:PORT][/DB] as BullMQ's connection options. */
export function connectionFrom(url: string): { host: string; port: number; password?: string; db?: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValueError(`--queue must be a redis://HOST:PORT URL, got '${url}'`);
  }
  if (u.protocol !== 'redis:') throw new ValueError(`--queue must be a redis://HOST:PORT URL, got '${url}'`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new ValueError(`--queue: the database in '${url}' must be a number`);
  return {
    host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}), ...(db !== undefined ? { db } : {}),
    // Workers block on Redis; BullMQ requires this so that a slow reply is not an error.
    maxRetriesPerRequest: null,
  };
}

/** How long a job's lock lasts without renewal (a dead worker's job returns to the queue after about this). */
function lockMs(): number {
  const n = Number(process.env.CONVKIT_QUEUE_LOCK_MS);
  return Number.isInteger(n) && n >= 1000 ? n : 30_000;
}

/** A job id per sweep directory and run: the same run is never queued twice. */
function jobId(sweepDir: string, run: string): string {
  return `${createHash('sha1').update(sweepDir).digest('hex').slice(0, 12)}__${run}`;
}

export interface QueueRunOptions {
  url: string;
  threads: number;
  onEnd?: (run: PlannedRun, outcome: RunOutcome) => void;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

/** Enqueues the sweep's unfinished runs and waits until each has finished or failed for good (or the signal aborts the wait). */
export async function runThroughQueue(sweepDir: string, sweep: string, runs: readonly PlannedRun[], options: QueueRunOptions): Promise<RunOutcome[]> {
  const { Queue } = await bullmq();
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: connectionFrom(options.url) });
  // While Redis is away its commands wait for it to come back (maxRetriesPerRequest: null); say so once per outage.
  let away = false;
  queue.on('error', (e) => {
    if (!away) options.say?.(`lost the queue at ${options.url} (${e.message}); waiting for it to come back`);
    away = true;
  });
  const outcomes: RunOutcome[] = new Array(runs.length);
  const add = (run: PlannedRun, id: string) =>
    queue.add(run.name, { sweepDir, sweep, run, threads: options.threads }, { jobId: id, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: true, removeOnFail: false });
  try {
    const pending = new Map<string, number>();
    for (const [i, run] of runs.entries()) {
      const finished = readFinished(sweepPaths(sweepDir).run(run.name));
      if (finished) {
        outcomes[i] = { name: run.name, status: 'done', ran: false, result: finished, seconds: 0 };
        continue;
      }
      const id = jobId(sweepDir, run.name);
      const existing = await queue.getJob(id);
      const state = existing ? await existing.getState() : null;
      if (existing && state === 'failed') await existing.retry('failed');
      else if (existing && state === 'completed') await existing.remove(); // finished, yet its run directory is not: run it again
      if (!existing || state === 'completed') await add(run, id);
      pending.set(id, i);
    }
    options.say?.(`queued ${pending.size} run(s) on ${options.url} (queue '${QUEUE_NAME}'); start workers with: convkit worker --queue ${options.url}`);
    while (pending.size > 0 && !options.signal?.aborted) {
      for (const [id, i] of [...pending]) {
        const run = runs[i];
        const finished = readFinished(sweepPaths(sweepDir).run(run.name));
        const job = await queue.getJob(id);
        if (away) options.say?.(`the queue at ${options.url} is back`);
        away = false;
        const state = job ? await job.getState() : 'gone';
        if (!finished && (state === 'gone' || state === 'unknown')) {
          // Redis forgot the job (restarted empty, or flushed): the run is queued again under the same id.
          await add(run, id);
          continue;
        }
        if (finished && state !== 'active') {
          outcomes[i] = { name: run.name, status: 'done', ran: true, result: finished, seconds: finished.seconds };
        } else if (state === 'failed' && job) {
          // Final: a job that BullMQ will retry waits (or is delayed) instead.
          outcomes[i] = { name: run.name, status: 'failed', ran: true, result: null, seconds: 0, error: job.failedReason };
        } else continue;
        pending.delete(id);
        options.onEnd?.(run, outcomes[i]);
      }
      if (pending.size) await new Promise((r) => setTimeout(r, 300));
    }
    for (const [, i] of pending) outcomes[i] = { name: runs[i].name, status: 'interrupted', ran: false, result: null, seconds: 0 };
  } finally {
    await queue.close();
  }
  return outcomes;
}

export interface WorkerOptions {
  url: string;
  /** Threads per run when a job does not say (jobs carry the sweep's). */
  threads: number;
  say?: (line: string) => void;
  /** Aborting interrupts the running run (it saves) and closes the worker. */
  signal?: AbortSignal;
  /** Stop after this many jobs (tests); default: run until aborted. */
  maxJobs?: number;
}

/** Waits while a live process (a worker that lost its job while Redis was away) still writes the run. */
async function untilUnheld(runDir: string, name: string, say: (line: string) => void, signal?: AbortSignal): Promise<void> {
  let holder = runDirHolder(runDir);
  if (holder) say(`${name}: ${holder.description} still writes it; waiting for it to end`);
  while (holder && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 500));
    holder = runDirHolder(runDir);
  }
}

/** Takes runs from the queue one at a time until the signal aborts; resolves when the worker has closed. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { Worker, UnrecoverableError } = await bullmq();
  const say = options.say ?? (() => {});
  let child: ChildProcess | null = null;
  let jobs = 0;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const ms = lockMs();
  const worker = new Worker<JobData>(QUEUE_NAME, async (job) => {
    const asked = runOfJob(job.data);
    if (typeof asked === 'string') {
      say(`malformed job '${job.id}' failed without retries: ${asked}`);
      throw new UnrecoverableError(`malformed job: ${asked}`);
    }
    const { sweepDir, run } = asked;
    await untilUnheld(sweepPaths(sweepDir).run(run.name), run.name, say, options.signal);
    say(`${run.name} (sweep '${asked.sweep}', attempt ${job.attemptsMade + 1}): started`);
    const outcome = await runOne(sweepDir, run, {
      threads: asked.threads ?? options.threads,
      onStart: (c) => (child = c),
    });
    child = null;
    if (++jobs === options.maxJobs) stop();
    if (outcome.status === 'done') {
      say(`${run.name}: ${(outcome.result!.testAccuracy * 100).toFixed(2)}% in ${outcome.seconds.toFixed(1)} s`);
      return { testAccuracy: outcome.result!.testAccuracy, seconds: outcome.seconds, ran: outcome.ran };
    }
    say(`${run.name}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`);
    throw new Error(outcome.status === 'interrupted' ? 'interrupted (resumable)' : outcome.error);
  }, { connection: connectionFrom(options.url), concurrency: 1, lockDuration: ms, stalledInterval: ms, maxStalledCount: 5, drainDelay: 1 });
  worker.on('error', (e) => say(`queue error: ${e.message}`));
  options.signal?.addEventListener('abort', () => {
    (child as ChildProcess | null)?.kill('SIGINT');
    stop();
  }, { once: true });
  await worker.waitUntilReady();
  say(`worker ${process.pid} taking runs from ${options.url} (queue '${QUEUE_NAME}')`);
  await stopped;
  await worker.close();
}
