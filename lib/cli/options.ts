// The convkit command's options, help text, defaults and the small parsers they share.
import { setBackend, setNumThreads } from '../backend/select.js';

/** Bad usage: exit code 2. */
export class UsageError extends Error {}

/** Training stopped by Ctrl-C after saving; exit code 130 like a shell. */
export class Interrupted extends Error {}

export { TRAINING_DEFAULTS as DEFAULTS } from '../core/defaults.js';

/** The flags of every command, by their --kebab-case names (lib/cli.ts declares which command takes which). */
export interface Flags {
  model?: string;
  dataset?: string;
  'data-dir'?: string;
  data?: string;
  test?: string;
  'test-split'?: string;
  resize?: string;
  scaler?: string;
  'class-weight'?: string;
  shift?: string;
  flip?: boolean;
  probabilities?: boolean;
  epochs?: string;
  'batch-size'?: string;
  optimizer?: string;
  lr?: string;
  'lr-decay'?: string;
  'lr-schedule'?: string;
  'warmup-epochs'?: string;
  milestones?: string;
  augment?: string;
  'weight-decay'?: string;
  'label-smoothing'?: string;
  tta?: 'none' | 'flip';
  validation?: string;
  limit?: string;
  seed?: string;
  out?: string;
  backend?: string;
  threads?: string;
  checkpoint?: string;
  input?: string;
  csv?: string;
  resume?: string;
  init?: string;
  'skip-bad-images'?: boolean;
  freeze?: string;
  format?: string;
  output?: string;
  names?: string;
  tensorboard?: string;
  report?: string;
  quiet?: boolean;
  overwrite?: boolean;
  json?: boolean;
  'no-check-finite'?: boolean;
  verbose?: boolean;
  workers?: string;
  queue?: string;
  name?: string;
  title?: string;
}

export function int(flags: Flags, name: keyof Flags, fallback: number, min = 1): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

export function num(flags: Flags, name: keyof Flags): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${raw}'`);
  return n;
}

export function applyRuntime(flags: Flags): void {
  if (flags.backend !== undefined) {
    if (flags.backend !== 'native' && flags.backend !== 'reference') throw new UsageError(`--backend must be 'native' or 'reference', got '${flags.backend}'`);
    setBackend(flags.backend);
  }
  if (flags.threads !== undefined) setNumThreads(int(flags, 'threads', 1));
}
