// The parsers of convkit train's run flags: sizes, class weights, fractions,
// weight decay, label smoothing and the learning-rate schedule.
import type { Augmentation } from '../data/augment.js';
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

/**
 * --augment crop:4[:reflect],flip,cutout:8 as fit's augment: crop:N is a random
 * crop of the image padded by N pixels (zeros, or its reflection), the same as
 * a shift of up to N; flip mirrors at random; cutout:N zeroes an N×N square.
 */
export function parseAugment(raw: string): Augmentation {
  const out: Augmentation = {};
  const wrong = (why: string) => new UsageError(`--augment ${why}; give parts such as crop:4, crop:4:reflect, flip, cutout:8 joined by commas, got '${raw}'`);
  const count = (v: string | undefined, part: string) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1) throw wrong(`${part} needs a whole number of pixels of 1 or more`);
    return n;
  };
  for (const part of raw.split(',').map((p) => p.trim())) {
    const [name, value, mode, ...rest] = part.split(':');
    if (rest.length) throw wrong(`'${part}' has too many fields`);
    const seen = name === 'crop' || name === 'shift' ? 'shift' : name;
    if (seen in out) throw wrong(`names ${name} twice`);
    if (name === 'crop' || name === 'shift') {
      out.shift = count(value, name);
      if (mode !== undefined && mode !== 'zero' && mode !== 'reflect') throw wrong(`pads with zero or reflect, not '${mode}'`);
      if (mode === 'reflect') out.padMode = 'reflect';
    } else if (name === 'flip' && value === undefined) out.flip = true;
    else if (name === 'cutout' && mode === undefined) out.cutout = count(value, 'cutout');
    else throw wrong(`has no part '${part}'`);
  }
  return out;
}

/** --label-smoothing: torch's CrossEntropyLoss(label_smoothing); 0 (none) when absent. */
export function labelSmoothingFlag(flags: Flags): number {
  const v = num(flags, 'label-smoothing') ?? 0;
  if (!(v >= 0 && v < 1)) throw new UsageError(`--label-smoothing must be in [0, 1), got '${flags['label-smoothing']}'`);
  return v;
}

/**
 * --milestones E1,E2,...: increasing epochs after which --lr-schedule multistep
 * multiplies the rate by --lr-decay. One at or past the run's end never fires
 * (as in torch's MultiStepLR), and serves a run that a resume extends.
 */
function parseMilestones(raw: string | undefined): number[] {
  if (raw === undefined) throw new UsageError('--lr-schedule multistep needs --milestones E1,E2,... (the epochs after which the rate drops, e.g. 30,45)');
  const m = raw.split(',').map((v) => Number(v.trim()));
  const bad = m.findIndex((v, i) => !Number.isInteger(v) || v < 1 || (i > 0 && v <= m[i - 1]));
  if (bad >= 0) throw new UsageError(`--milestones must be increasing whole epochs of 1 or more (e.g. 30,45), got '${raw}'`);
  return m;
}

type ScheduleSettings = { lrSchedule?: 'step' | 'cosine' | 'onecycle' | 'multistep'; warmupEpochs?: number; milestones?: number[]; lrDecay?: number };

export function scheduleFlags(flags: Flags, epochs: number): ScheduleSettings {
  const kind = flags['lr-schedule'] ?? 'step';
  if (kind !== 'step' && kind !== 'cosine' && kind !== 'onecycle' && kind !== 'multistep') throw new UsageError(`--lr-schedule must be step, cosine, onecycle or multistep, got '${kind}'`);
  if (kind !== 'multistep' && flags.milestones !== undefined) throw new UsageError('--milestones goes with --lr-schedule multistep');
  if (kind !== 'cosine' && flags['warmup-epochs'] !== undefined) throw new UsageError(`--warmup-epochs goes with --lr-schedule cosine${kind === 'onecycle' ? ' (one cycle warms up by itself)' : ''}`);
  if (kind === 'step') return {};
  if (kind === 'multistep') {
    // torch's MultiStepLR: gamma (here --lr-decay) defaults to 0.1.
    return { lrSchedule: 'multistep', milestones: parseMilestones(flags.milestones), lrDecay: num(flags, 'lr-decay') ?? 0.1 };
  }
  if (flags['lr-decay'] !== undefined) throw new UsageError(`--lr-decay goes with --lr-schedule step or multistep; ${kind === 'onecycle' ? 'one cycle anneals' : 'cosine decays to 0'} by itself`);
  if (kind === 'onecycle') return { lrSchedule: 'onecycle' };
  const warmupEpochs = flags['warmup-epochs'] === undefined ? 0 : int(flags, 'warmup-epochs', 0, 0);
  if (warmupEpochs >= epochs) throw new UsageError(`--warmup-epochs ${warmupEpochs} leaves no epoch of the ${epochs} to decay over`);
  return { lrSchedule: 'cosine', warmupEpochs };
}
