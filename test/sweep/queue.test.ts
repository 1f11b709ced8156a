// The same sweep through BullMQ on a real Redis (Debian's redis-server,
// started here on 127.0.0.1) with two `convkit worker` processes: every run
// done exactly once, with the weights of the local sweep; a worker killed in
// the middle of a checkpoint write leaves its run to the other worker, which
// resumes and finishes it; a Redis that goes away mid-sweep and comes back
// empty loses nothing and runs nothing twice; a malformed job fails alone.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barsDataDir } from '../helpers/bars.js';
import { GRID, cli, convkit, starts, weights } from '../helpers/sweep.js';

const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
if (!redisServer) console.warn('skipping the queue tests: no redis-server (apt-get install redis-server)');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string; stdout: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (b) => ((output += b), (stdout += b)));
  child.stderr!.on('data', (b) => (output += b));
  return Object.assign(child, { output: () => output, stdout: () => stdout });
}

function startRedis(port: number): ChildProcess {
  return spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function redisUp(port: number): Promise<void> {
  const { Redis } = await import('ioredis');
  // The server may not listen yet: a fresh client each try, for up to 10 s.
  for (let i = 0; ; i++) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      return;
    } catch (error) {
      if (i === 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      client.disconnect();
    }
  }
}

const finishedRuns = (out: string) => {
  const runs = join(out, 'runs');
  return existsSync(runs) ? readdirSync(runs).filter((n) => /testAccuracy/.test(readIfThere(join(runs, n, 'run.json')))) : [];
};
const readIfThere = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

describe.skipIf(!redisServer)('convkit sweep --queue, with convkit workers', () => {
  let redis: ChildProcess;
  let url = '';
  const dataDir = barsDataDir();
  // Quick takeover of a dead worker's job: its lock lapses after 2 s.
  const env = { CONVKIT_QUEUE_LOCK_MS: '2000' };

  beforeAll(async () => {
    const port = await freePort();
    redis = startRedis(port);
    url = `redis://127.0.0.1:${port}`;
    await redisUp(port);
  });

  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('runs every run exactly once across two workers, with the local sweep\'s weights', async () => {
    const workers = [start(['worker', '--queue', url], env), start(['worker', '--queue', url], env)];
    try {
      // Both connected before the runs are queued, so that both take some.
      for (let i = 0; i < 300 && !workers.every((w) => /taking runs/.test(w.output())); i++) await new Promise((r) => setTimeout(r, 50));
      const out = mkdtempSync(join(tmpdir(), 'sweep-q-'));
      const r = convkit(['sweep', ...GRID, '--data-dir', dataDir, '--out', out, '--threads', '1', '--queue', url, '--json'], env);
      expect(r.status, r.stderr + workers.map((w) => w.output()).join('\n')).toBe(0);
      const rows = JSON.parse(r.stdout).rows as { name: string; status: string }[];
      expect(rows.map((row) => row.status)).toEqual(Array(8).fill('done'));
      expect(Object.values(starts(out))).toEqual(Array(8).fill(1)); // each run started once, resumed never
      // Both workers took runs (their output, held in the pipes while spawnSync blocked, read first).
      await new Promise((r) => setTimeout(r, 300));
      for (const w of workers) expect(w.output()).toMatch(/% in /);
      const local = mkdtempSync(join(tmpdir(), 'sweep-l-'));
      expect(convkit(['sweep', ...GRID, '--data-dir', dataDir, '--out', local, '--threads', '1', '--no-report']).status).toBe(0);
      for (const row of rows) expect(weights(join(out, 'runs', row.name)), row.name).toEqual(weights(join(local, 'runs', row.name)));
    } finally {
      for (const w of workers) w.kill('SIGKILL');
    }
  });

  it('retries a failing run, then reports it failed with its reason', async () => {
    const worker = start(['worker', '--queue', url], env);
    try {
      const out = mkdtempSync(join(tmpdir(), 'sweep-fail-'));
      const r = convkit(['sweep', '--model', 'mnist-3layer,no-such-net', '--epochs', '1', '--limit', '100', '--data-dir', dataDir, '--out', out, '--threads', '1', '--queue', url, '--no-report', '--json'], env);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/1 of 2 runs failed/);
      const rows = JSON.parse(r.stdout).rows as { name: string; status: string; error?: string }[];
      expect(rows.map((row) => row.status)).toEqual(['done', 'failed']);
      expect(rows[1].error).toMatch(/unknown --model 'no-such-net'/);
      expect(starts(out)['1-model=no-such-net']).toBe(3); // three attempts
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it("hands the run of a worker killed in the middle of a checkpoint write to another worker, which resumes it to the uninterrupted weights", async () => {
    const out = mkdtempSync(join(tmpdir(), 'sweep-kill-'));
    const longer = barsDataDir(3000, 200);
    const grid = ['--model', 'mnist-2layer', '--seed', '0,1', '--epochs', '4', '--batch-size', '64'];
    const sweep = start(['sweep', ...grid, '--data-dir', longer, '--out', out, '--threads', '1', '--queue', url, '--no-report'], env);
    // Each save writes 4 files and the manifest, then renames the 4 files: step 16 is a rename of the
    // second epoch's save, after its commit. The first worker's run kills the worker, then itself, there.
    const first = start(['worker', '--queue', url], { ...env, CONVKIT_FAULT_AT: '16:WORKER' });
    let second: (ChildProcess & { output: () => string; stdout: () => string }) | null = null;
    try {
      await exited(first);
      const victim = ['0-seed=0', '1-seed=1'].find((n) => readIfThere(join(out, 'logs', `${n}.log`)).includes(`started by pid ${first.pid}`));
      expect(victim, first.output()).toBeDefined();
      expect(finishedRuns(out)).toEqual([]);
      second = start(['worker', '--queue', url], env);
      expect(await exited(sweep), sweep.output() + second.output()).toBe(0);
      const log = readFileSync(join(out, 'logs', `${victim}.log`), 'utf8');
      expect(log).toMatch(new RegExp(`resumed by pid ${second.pid}`));
      expect(second.output()).toMatch(new RegExp(`${victim}.*attempt`));
      // The resumed run equals an uninterrupted one.
      const reference = mkdtempSync(join(tmpdir(), 'sweep-kill-ref-'));
      expect(convkit(['sweep', ...grid, '--data-dir', longer, '--out', reference, '--threads', '1', '--no-report']).status).toBe(0);
      expect(weights(join(out, 'runs', victim!))).toEqual(weights(join(reference, 'runs', victim!)));
    } finally {
      sweep.kill('SIGKILL');
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
    }
  });

  it('fails a malformed job alone and at once, naming what is wrong, and goes on with the sweep', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sweep-junk-'));
    // A real sweep's plan, so that the last job names a sweep directory (with no such run).
    const planned = mkdtempSync(join(tmpdir(), 'sweep-planned-'));
    writeFileSync(join(planned, 'sweep.json'), JSON.stringify({ name: 'planned', runs: [{ name: '0-lr=0.1', settings: { lr: 0.1 } }] }));
    const { Queue } = await import('bullmq');
    const queue = new Queue('convkit-runs', { connection: { host: '127.0.0.1', port: Number(new URL(url).port), maxRetriesPerRequest: null } });
    const junk: [string, unknown][] = [
      ['junk-not-an-object', 'rm -rf /'],
      ['junk-relative-dir', { sweepDir: 'runs', run: { name: 'x' } }],
      ['junk-no-sweep', { sweepDir: join(out, 'nowhere'), run: { name: 'x' } }],
      ['junk-escaping-name', { sweepDir: planned, run: { name: '../../etc', settings: { model: 'x' } } }],
    ];
    const worker = start(['worker', '--queue', url], env);
    try {
      for (const [id, data] of junk) await queue.add('junk', data as never, { jobId: id, attempts: 3 });
      const r = convkit(['sweep', '--model', 'mnist-3layer', '--epochs', '1', '--limit', '100', '--data-dir', dataDir, '--out', out, '--threads', '1', '--queue', url, '--no-report', '--json'], env);
      expect(r.status, r.stderr + worker.output()).toBe(0);
      expect(JSON.parse(r.stdout).rows.map((row: { status: string }) => row.status)).toEqual(['done']);
      for (const [id] of junk) {
        const job = (await queue.getJob(id))!;
        expect(await job.getState(), id).toBe('failed');
        expect(job.attemptsMade, id).toBe(1);
        expect(job.failedReason, id).toMatch(/^malformed job: /);
      }
      expect(worker.output()).toMatch(/malformed job 'junk-not-an-object' failed without retries: its data is 'rm -rf \/' \(string\), not an object/);
      expect(worker.output()).toMatch(/junk-escaping-name' failed without retries: the sweep in .* has no run '\.\.\/\.\.\/etc'/);
    } finally {
      worker.kill('SIGKILL');
      await queue.close();
    }
  });
});

describe.skipIf(!redisServer)('convkit sweep --queue, when Redis goes away and comes back empty', () => {
  it('finishes every run, none twice: the sweep queues again what Redis forgot, the run in flight is not redone', async () => {
    const port = await freePort();
    let redis = startRedis(port);
    await redisUp(port);
    const url = `redis://127.0.0.1:${port}`;
    const env = { CONVKIT_QUEUE_LOCK_MS: '2000' };
    const out = mkdtempSync(join(tmpdir(), 'sweep-outage-'));
    const dataDir = barsDataDir();
    const worker = start(['worker', '--queue', url], env);
    const sweep = start(['sweep', ...GRID, '--data-dir', dataDir, '--out', out, '--threads', '1', '--queue', url, '--no-report', '--json'], env);
    try {
      for (let i = 0; i < 1200 && finishedRuns(out).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(finishedRuns(out).length, sweep.output() + worker.output()).toBeGreaterThanOrEqual(2);
      redis.kill('SIGKILL');
      await exited(redis);
      await new Promise((r) => setTimeout(r, 1500));
      redis = startRedis(port); // no persistence: it comes back with an empty queue
      expect(await exited(sweep), sweep.output() + worker.output()).toBe(0);
      const rows = JSON.parse(sweep.stdout()).rows as { status: string }[];
      expect(rows.map((row) => row.status)).toEqual(Array(8).fill('done'));
      expect(Object.values(starts(out))).toEqual(Array(8).fill(1));
      expect(sweep.output()).toMatch(/lost the queue at redis:/);
    } finally {
      sweep.kill('SIGKILL');
      worker.kill('SIGKILL');
      redis.kill('SIGKILL');
    }
  });
});
