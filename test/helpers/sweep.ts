// Shared by the sweep tests: the CLI as a user runs it, a grid of 8 short
// runs on the bars data, and what a sweep directory says about its runs.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../lib/formats/safetensors.js';

export const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const GRID = ['--model', 'cnn-14,mnist-2layer', '--lr', '0.002,0.01', '--seed', '0,1', '--epochs', '1', '--limit', '300', '--resize', '14'];

export function convkit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** How often each run was started or resumed (runner.ts writes one line per start). */
export function starts(sweepDir: string): Record<string, number> {
  const logs = join(sweepDir, 'logs');
  return Object.fromEntries(readdirSync(logs).map((f) => [f.replace(/\.log$/, ''), (readFileSync(join(logs, f), 'utf8').match(/^== .* (started|resumed) by pid/gm) ?? []).length]));
}

/** Every weight of a run's checkpoint, by name. */
export function weights(runDir: string): Record<string, number[]> {
  const { tensors } = readSafetensors(join(runDir, 'model.safetensors'));
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Array.from(t.data)]));
}
