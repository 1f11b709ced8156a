// The same sweep through BullMQ on a real Redis (Debian's redis-server,
// started here on 127.0.0.1) with two `convkit worker` processes: every run
// done exactly once, with the weights of the local sweep; a worker killed
// mid-run leaves its run to the other worker, which resumes and finishes it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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

function start(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  return Object.assign(child, { output: () => output });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

describe.skipIf(!redisServer)('convkit sweep --queue, with convkit workers', () => {
  let redis: ChildProcess;
  let url = '';
  const dataDir = barsDataDir();
  // Quick takeover of a dead worker's job: its lock lapses after 2 s.
  const env = { CONVKIT_QUEUE_LOCK_MS: '2000' };

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    const { Redis } = await import('ioredis');
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 50 ? null : 100) });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
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

  it('hands a killed worker\'s run to another worker, which resumes it to the uninterrupted weights', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sweep-kill-'));
    // Two longer runs (4 epochs of 3,000 images at 28×28), so that the kill lands after an epoch's save.
    const longer = barsDataDir(3000, 200);
    const grid = ['--model', 'mnist-2layer', '--seed', '0,1', '--epochs', '4', '--batch-size', '64'];
    const sweep = start(['sweep', ...grid, '--data-dir', longer, '--out', out, '--threads', '1', '--queue', url, '--no-report'], env);
    const first = start(['worker', '--queue', url], env);
    let second: (ChildProcess & { output: () => string }) | null = null;
    try {
      // Wait until the first worker's run has saved an epoch, then kill the worker.
      const saved = () => ['0-seed=0', '1-seed=1'].find((n) => existsSync(join(out, 'runs', n, 'run.json')));
      for (let i = 0; i < 1200 && !saved(); i++) await new Promise((r) => setTimeout(r, 50));
      const victim = saved();
      expect(victim, first.output()).toBeDefined();
      expect(JSON.parse(readFileSync(join(out, 'runs', victim!, 'run.json'), 'utf8')).testAccuracy).toBeUndefined();
      first.kill('SIGKILL');
      await exited(first);
      second = start(['worker', '--queue', url], env);
      expect(await exited(sweep), sweep.output() + second.output()).toBe(0);
      const log = readFileSync(join(out, 'logs', `${victim}.log`), 'utf8');
      expect(log).toMatch(new RegExp(`started by pid ${first.pid}`));
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
});
