// The parsers of convkit train's run flags: sizes, class weights, fractions,
// weight decay, label smoothing and the learning-rate schedule.
import type { ClassWeight } from '../data/sampling.js';
import { type Flags, int, num, UsageError } from './options.js';

/** "32" or "32x28" as [32, 32] or [32, 28]. */
export function parseSize(raw: string, flag: string): [number, number] {
  const parts = raw.toLowerCase().split(/[x×,]/).map(Number);
  if (parts.length > 2 || parts.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) throw new UsageError(`--${flag} must be a size such as 32 or 64x48, got '${raw}'`);
  return parts.length === 1 ? [parts[0], parts[0]] : [parts[0], parts[1]];
}

export function parseClassWeight(raw: string | undefined): ClassWeight | null {
  if (raw === undefined) return null;
  if (raw === 'balanced') return 'balanced';
  const w = raw.split(',').map(Number);
  if (w.length < 2 || w.some((v) => !Number.isFinite(v) || v < 0)) throw new UsageError(`--class-weight must be 'balanced' or one non-negative weight per class (e.g. 1,2.9), got '${raw}'`);
  return w;
}

export function parseFraction(raw: string | undefined, flag: string): number | null {
  if (raw === undefined) return null;
  const v = Number(raw);
  if (!(v > 0 && v < 1)) throw new UsageError(`--${flag} must be a fraction in (0, 1), got '${raw}'`);
  return v;
}

export function weightDecayFlag(flags: Flags): number {
  const v = num(flags, 'weight-decay') ?? 0;
  if (!(v >= 0 && v < 1)) throw new UsageError(`--weight-decay must be in [0, 1), got '${flags['weight-decay']}'`);
  return v;
}

/** --label-smoothing: torch's CrossEntropyLoss(label_smoothing); 0 (none) when absent. */
export function labelSmoothingFlag(flags: Flags): number {
  const v = num(flags, 'label-smoothing') ?? 0;
  if (!(v >= 0 && v < 1)) throw new UsageError(`--label-smoothing must be in [0, 1), got '${flags['label-smoothing']}'`);
  return v;
}

export function scheduleFlags(flags: Flags, epochs: number): { lrSchedule?: 'step' | 'cosine' | 'onecycle'; warmupEpochs?: number } {
  const kind = flags['lr-schedule'] ?? 'step';
  if (kind !== 'step' && kind !== 'cosine' && kind !== 'onecycle') throw new UsageError(`--lr-schedule must be step, cosine or onecycle, got '${kind}'`);
  if (kind === 'step' || kind === 'onecycle') {
    if (flags['warmup-epochs'] !== undefined) throw new UsageError(`--warmup-epochs goes with --lr-schedule cosine${kind === 'onecycle' ? ' (one cycle warms up by itself)' : ''}`);
    if (kind === 'onecycle' && flags['lr-decay'] !== undefined) throw new UsageError('--lr-decay goes with --lr-schedule step; one cycle anneals by itself');
    return kind === 'onecycle' ? { lrSchedule: 'onecycle' } : {};
  }
  if (flags['lr-decay'] !== undefined) throw new UsageError('--lr-decay goes with --lr-schedule step; cosine decays to 0 by itself');
  const warmupEpochs = flags['warmup-epochs'] === undefined ? 0 : int(flags, 'warmup-epochs', 0, 0);
  if (warmupEpochs >= epochs) throw new UsageError(`--warmup-epochs ${warmupEpochs} leaves no epoch of the ${epochs} to decay over`);
  return { lrSchedule: 'cosine', warmupEpochs };
}

