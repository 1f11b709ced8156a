// A run directory is one transaction. The trainer is killed (SIGKILL) at
// every write and rename of its saves in turn (CONVKIT_FAULT_AT=k, in a child
// process); after each kill, `--resume` either finishes with the same weights
// and history as an uninterrupted run, or refuses with a clear message. A full
// disk (an injected ENOSPC) at any write leaves the previous generation whole
// and resumable. Also: a second writer is refused, an old run is not replaced
// without --overwrite, a tampered file is refused, and a run interrupted in
// the middle of an epoch resumes to the uninterrupted history.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mnistFixture } from './helpers/mnist-fixture.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const fixture = mnistFixture;

function convkit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CONVKIT_FAULT_AT: '', ...env }, timeout: 120_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout };
}

const common = ['--model', 'cnn-14', '--epochs', '3', '--batch-size', '16', '--seed', '5', '--threads', '1', '--quiet'];

/** The history without its timings (seconds, images/s), which no two runs share. */
function historyOf(dir: string): unknown {
  const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
  return { ...h, epochs: h.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...rest }: Record<string, unknown>) => rest) };
}

describe('a run directory is one transaction', () => {
  const dataDir = fixture(96);
  const straight = mkdtempSync(join(tmpdir(), 'straight-'));
  const whole = convkit(['train', '--data-dir', dataDir, '--out', straight, ...common]);

  it('the uninterrupted reference run', () => {
    expect(whole.status, whole.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(straight, 'checkpoint.json'), 'utf8')).generation).toBe(4); // 3 epochs and the final save
  });

  /** Resumes a run that was killed or failed, and checks that it ends as the uninterrupted run, or that there was nothing to resume and resuming says so. */
  function resumesToTheSameEnd(run: string): void {
    if (!existsSync(join(run, 'checkpoint.json'))) {
      const r = convkit(['train', '--resume', run, '--data-dir', dataDir]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/cannot read run.json|no such checkpoint/);
      return;
    }
    const resumed = convkit(['train', '--resume', run, '--data-dir', dataDir, '--threads', '1', '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(run, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
    expect(readFileSync(join(run, 'optimizer.safetensors')).equals(readFileSync(join(straight, 'optimizer.safetensors')))).toBe(true);
    expect(historyOf(run)).toEqual(historyOf(straight));
  }

  // Each save writes 4 files and the manifest, then renames 4 files: 9 steps. Three epoch saves and the final save are 36 steps.
  const SAVE_STEPS = Array.from({ length: 36 }, (_, i) => i + 1);

  it.each(SAVE_STEPS)('killed at step %i of the saves, --resume ends as the uninterrupted run', (step) => {
    const run = mkdtempSync(join(tmpdir(), 'killed-'));
    const killed = convkit(['train', '--data-dir', dataDir, '--out', run, ...common], { CONVKIT_FAULT_AT: String(step) });
    expect(killed.signal).toBe('SIGKILL');
    if (step > 27) {
      // Killed in the final save: the last epoch's generation (or the final one) is whole.
      expect(JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8')).generation).toBeGreaterThanOrEqual(3);
    }
    resumesToTheSameEnd(run);
  });

  // A Ctrl-C after batch 9 (epoch 2, batch 3 of 6) saves a mid-epoch state: steps 10..18 are that save's.
  it.each(Array.from({ length: 9 }, (_, i) => i + 10))('killed at step %i, inside the save that Ctrl-C makes, --resume ends as the uninterrupted run', (step) => {
    const run = mkdtempSync(join(tmpdir(), 'ctrl-c-'));
    const killed = convkit(['train', '--data-dir', dataDir, '--out', run, ...common], { CONVKIT_FAULT_AT: String(step), CONVKIT_INTERRUPT_AT: '9' });
    expect(killed.signal).toBe('SIGKILL');
    const generation = JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8')).generation;
    expect(generation).toBe(step <= 14 ? 1 : 2); // the manifest's rename (step 14) is the commit
    resumesToTheSameEnd(run);
  });

  it('an uninjected Ctrl-C after batch 9 saves mid-epoch, and resuming ends as the uninterrupted run', () => {
    const run = mkdtempSync(join(tmpdir(), 'ctrl-c-'));
    const stopped = convkit(['train', '--data-dir', dataDir, '--out', run, ...common], { CONVKIT_INTERRUPT_AT: '9' });
    expect(stopped.status).toBe(130);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).progress).toMatchObject({ epochsDone: 1, batchesDone: 3 });
    resumesToTheSameEnd(run);
  });

  it.each(SAVE_STEPS)('a full disk at step %i fails naming the file and leaves the last generation resumable', (step) => {
    const run = mkdtempSync(join(tmpdir(), 'full-'));
    const failed = convkit(['train', '--data-dir', dataDir, '--out', run, ...common], { CONVKIT_FAULT_AT: `${step}:ENOSPC` });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/convkit: ConvkitError: .*(model.safetensors|optimizer.safetensors|history.json|run.json|checkpoint.json): cannot write \(ENOSPC/);
    expect(existsSync(join(run, 'checkpoint.json'))).toBe(step > 5); // the first manifest is written at step 5
    resumesToTheSameEnd(run);
  });

  it('refuses a directory whose files disagree with the manifest', () => {
    const run = mkdtempSync(join(tmpdir(), 'tampered-'));
    expect(convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--epochs', '1']).status).toBe(0);
    const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
    history.loss[0] = 0;
    writeFileSync(join(run, 'history.json'), JSON.stringify(history));
    const r = convkit(['train', '--resume', run, '--data-dir', dataDir, '--epochs', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/history.json does not match generation 2 of checkpoint.json; its files disagree/);
  });

  it('refuses to start a new run into an old one without --overwrite', () => {
    const run = mkdtempSync(join(tmpdir(), 'old-'));
    expect(convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--epochs', '1']).status).toBe(0);
    const before = readFileSync(join(run, 'run.json'));
    const again = convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--epochs', '1', '--seed', '9']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/holds a run already; continue it with --resume .*, or pass --overwrite to replace it/);
    expect(readFileSync(join(run, 'run.json')).equals(before)).toBe(true);
    expect(convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--epochs', '1', '--seed', '9', '--overwrite']).status).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).settings.seed).toBe(9);
  });

  it('refuses a second writer while the first runs, and takes over a dead owner\'s lock', async () => {
    const run = mkdtempSync(join(tmpdir(), 'locked-'));
    const big = fixture(3000);
    const first = spawn(process.execPath, [cli, 'train', '--data-dir', big, '--out', run, ...common, '--epochs', '20'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(join(run, '.lock')); i++) await new Promise((r) => setTimeout(r, 50));
    const second = convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--overwrite']);
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/is being written by another convkit process \(pid \d+\)/);
    // The killed owner left its lock behind: the next writer takes it over.
    expect(existsSync(join(run, '.lock'))).toBe(true);
    const third = convkit(['train', '--data-dir', dataDir, '--out', run, ...common, '--epochs', '1', '--overwrite']);
    expect(third.status, third.stderr).toBe(0);
    expect(existsSync(join(run, '.lock'))).toBe(false);
  });
});
