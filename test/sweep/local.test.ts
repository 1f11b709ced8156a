// `convkit sweep` on this machine, as a user runs it (dist/cli.js): eight
// short runs complete; a sweep interrupted in the middle finishes when
// started again, without running a finished run a second time.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { barsDataDir } from '../helpers/bars.js';
import { GRID, cli, convkit, starts, weights } from '../helpers/sweep.js';

describe('convkit sweep, here', () => {
  const dataDir = barsDataDir();

  it('runs a grid of 8 runs on a pool sized to the cores, with a summary and a comparison report', () => {
    const out = mkdtempSync(join(tmpdir(), 'sweep-'));
    const r = convkit(['sweep', ...GRID, '--data-dir', dataDir, '--out', out, '--threads', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.rows).toHaveLength(8);
    for (const row of summary.rows) {
      expect(row.status).toBe('done');
      expect(row.testAccuracy).toBeGreaterThan(0.1);
      expect(existsSync(join(out, 'runs', row.name, 'model.safetensors'))).toBe(true);
      expect(readdirSync(join(out, 'tensorboard', row.name)).some((f) => f.startsWith('events.out.tfevents'))).toBe(true);
    }
    expect(r.stderr).toMatch(/2 worker\(s\) × 1 thread\(s\)/);
    expect(Object.values(starts(out))).toEqual(Array(8).fill(1));
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<table class="runs">');
    // Run again: nothing to do.
    const again = convkit(['sweep', ...GRID, '--data-dir', dataDir, '--out', out, '--threads', '1', '--no-report']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/8 finished before/);
    expect(Object.values(starts(out))).toEqual(Array(8).fill(1));
    // Another plan into the same directory is refused.
    const other = convkit(['sweep', '--lr', '0.1,0.2', '--data-dir', dataDir, '--out', out]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/holds another sweep/);
  });

  it('stops on Ctrl-C with its runs saved, and the same command finishes it without redoing a finished run', async () => {
    // Runs long enough (4 epochs of 2,000 images at 28×28) that Ctrl-C lands inside one.
    const longer = barsDataDir(2000, 200);
    const grid = ['--model', 'mnist-2layer', '--seed', '0,1,2', '--epochs', '4', '--batch-size', '64'];
    const out = mkdtempSync(join(tmpdir(), 'sweep-int-'));
    const args = [cli, 'sweep', ...grid, '--data-dir', longer, '--out', out, '--workers', '1', '--threads', '1', '--no-report'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const exit = new Promise<number | null>((r) => child.once('exit', r));
    // Interrupt once a run has finished and the next has saved an epoch (it is training its second).
    const running = () => readdirSync(join(out, 'runs')).find((n) => existsSync(join(out, 'runs', n, 'run.json')) && JSON.parse(readFileSync(join(out, 'runs', n, 'run.json'), 'utf8')).testAccuracy === undefined);
    for (let i = 0; i < 1200 && child.exitCode === null && !((stderr.match(/^\[\d+\/3[\],]/gm) ?? []).length >= 1 && existsSync(join(out, 'runs')) && running()); i++) await new Promise((r) => setTimeout(r, 50));
    const interrupted = running();
    child.kill('SIGINT');
    const code = await exit;
    expect(code, stderr).toBe(130);
    expect(interrupted).toBeDefined();
    expect(stderr).toMatch(/the same command finishes it/);
    expect(readFileSync(join(out, 'logs', `${interrupted}.log`), 'utf8')).toMatch(/interrupted in epoch \d after \d+ batches; saved/);
    const before = starts(out);
    const finished = readdirSync(join(out, 'runs')).filter((name) => JSON.parse(readFileSync(join(out, 'runs', name, 'run.json'), 'utf8')).testAccuracy !== undefined);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished.length).toBeLessThan(3);
    const r = convkit(args.slice(1));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${finished.length} finished before`));
    const after = starts(out);
    for (const name of finished) expect(after[name], name).toBe(before[name]); // not run again
    expect(readFileSync(join(out, 'logs', `${interrupted}.log`), 'utf8')).toMatch(/resumed by pid/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.rows.map((row: { status: string }) => row.status)).toEqual(Array(3).fill('done'));
    // The resumed run ends with the weights of an uninterrupted one (same settings, same thread count).
    const seed = /seed=(\d+)/.exec(interrupted!)![1];
    const reference = mkdtempSync(join(tmpdir(), 'sweep-ref-'));
    expect(convkit(['sweep', ...grid.slice(0, 2), '--seed', seed, ...grid.slice(4), '--data-dir', longer, '--out', reference, '--threads', '1', '--no-report']).status).toBe(0);
    const [only] = readdirSync(join(reference, 'runs'));
    expect(weights(join(out, 'runs', interrupted!))).toEqual(weights(join(reference, 'runs', only)));
  });
});
