// Ctrl-C during `convkit train`: the current batch finishes, a resumable
// state is saved, the exit code is 130; resuming reaches the same weights as
// an uninterrupted run with the same seed. A second Ctrl-C exits at once and
// leaves the last good checkpoint loadable.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../lib/index.js';
import { mnistFixture } from './helpers/mnist-fixture.js';
import { rng } from './helpers/random.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const fixture = mnistFixture;

interface Run {
  status: number | null;
  stderr: string;
}

/** Runs the CLI; when `when` first matches stderr, waits `delayMs` and sends SIGINT `signals` times. */
function run(args: string[], interrupt?: { when: RegExp; delayMs: number; signals: number }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stdout.resume();
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (interrupt && !sent && interrupt.when.test(stderr)) {
        sent = true;
        setTimeout(() => {
          for (let i = 0; i < interrupt.signals; i++) child.kill('SIGINT');
        }, interrupt.delayMs);
      }
    });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

const common = ['--model', 'cnn-14', '--epochs', '8', '--batch-size', '2', '--seed', '5', '--threads', '1'];

describe('interrupting training', () => {
  it('saves on Ctrl-C, exits 130, and a resumed run ends with the weights of an uninterrupted one', async () => {
    const dir = fixture(3000);
    const interrupted = mkdtempSync(join(tmpdir(), 'run-i-'));
    const straight = mkdtempSync(join(tmpdir(), 'run-s-'));
    const delay = Math.floor(rng(Date.now() % 1000)() * 150); // a random point in epoch 2 (an epoch takes ~200 ms)
    const first = await run(['train', '--data-dir', dir, '--out', interrupted, ...common], { when: /epoch 1\/8 ·/, delayMs: delay, signals: 1 });
    expect(first.status, first.stderr).toBe(130);
    // One message, after the progress output has stopped: the last line the user sees.
    expect(first.stderr.trimEnd().split('\n').pop()).toMatch(/^convkit: interrupted in epoch \d after \d+ batches; saved .*\. Resume with: convkit train --resume /);
    const progress = JSON.parse(readFileSync(join(interrupted, 'run.json'), 'utf8')).progress;
    expect(progress.epochsDone * 1500 + progress.batchesDone).toBeGreaterThan(1500);
    expect(progress.epochsDone).toBeLessThan(8);

    // As the message says, without --data-dir: the run reads its data where it started (run.json), not $CONVKIT_DATA's.
    const resumed = await run(['train', '--resume', interrupted, '--threads', '1']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const whole = await run(['train', '--data-dir', dir, '--out', straight, ...common]);
    expect(whole.status, whole.stderr).toBe(0);
    expect(readFileSync(join(interrupted, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
    // The history too: the interrupted epoch's loss and accuracy cover all its batches (timings aside).
    const historyOf = (dir: string) => {
      const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
      return { ...h, epochs: h.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...rest }: Record<string, unknown>) => rest) };
    };
    expect(historyOf(interrupted)).toEqual(historyOf(straight));
  });

  it('exits at once on a second Ctrl-C, leaving the last good checkpoint loadable', async () => {
    const dir = fixture(3000);
    const out = mkdtempSync(join(tmpdir(), 'run-2-'));
    const r = await run(['train', '--data-dir', dir, '--out', out, ...common], { when: /epoch 1\/8 ·/, delayMs: 0, signals: 2 });
    expect(r.status).toBe(130);
    expect(loadModel(out).name).toBe('cnn-14');
  });
});
