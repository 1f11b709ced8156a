import { checkNumber, checkOptions, checkPositiveInt } from '../core/check.js';
import { FormatError, ValueError, describe } from '../core/errors.js';

/** A learning-rate multiplier as a function of the iteration (optimizer steps so far). */
export type Schedule = (iteration: number) => number;

/** The JSON a checkpoint keeps of a schedule convkit can rebuild. */
export type ScheduleSpec =
  | { kind: 'stepDecay'; every: number; factor: number }
  | { kind: 'cosineDecay'; decaySteps: number; alpha: number; warmupSteps: number };

function withSpec(schedule: Schedule, spec: ScheduleSpec): Schedule {
  Object.defineProperty(schedule, 'spec', { value: spec });
  return schedule;
}

/** Multiplies the rate by factor every `every` iterations (the course's step decay). */
export function stepDecay(options: { every: number; factor: number }): Schedule {
  if (options === undefined) throw new ValueError('stepDecay: options {every, factor} are required, got undefined');
  const { every, factor } = checkOptions(options, ['every', 'factor'], 'stepDecay');
  checkPositiveInt(every, 'every', 'stepDecay');
  checkNumber(factor, 'factor', 'stepDecay', { min: 0, minExclusive: true });
  return withSpec((iteration) => Math.pow(factor, Math.floor(iteration / every)), { kind: 'stepDecay', every, factor });
}

/**
 * Cosine decay (Loshchilov & Hutter's SGDR without restarts; Keras's
 * `CosineDecay`, PyTorch's `CosineAnnealingLR` with eta_min = alpha·lr) behind
 * an optional linear warm-up: the multiplier climbs from 1/warmupSteps to 1
 * over warmupSteps iterations, then falls along half a cosine to alpha over
 * decaySteps more, and stays at alpha after.
 */
export function cosineDecay(options: { decaySteps: number; alpha?: number; warmupSteps?: number }): Schedule {
  if (options === undefined) throw new ValueError('cosineDecay: options {decaySteps, alpha?, warmupSteps?} are required, got undefined');
  const { decaySteps, alpha = 0, warmupSteps = 0 } = checkOptions(options, ['decaySteps', 'alpha', 'warmupSteps'], 'cosineDecay');
  checkPositiveInt(decaySteps, 'decaySteps', 'cosineDecay');
  checkNumber(alpha, 'alpha', 'cosineDecay', { min: 0, max: 1 });
  checkNumber(warmupSteps, 'warmupSteps', 'cosineDecay', { min: 0, integer: true });
  const schedule: Schedule = (iteration) => {
    if (iteration < warmupSteps) return (iteration + 1) / warmupSteps;
    const progress = Math.min(iteration - warmupSteps, decaySteps) / decaySteps;
    return alpha + (1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
  return withSpec(schedule, { kind: 'cosineDecay', decaySteps, alpha, warmupSteps });
}

/** Rebuilds a schedule from the spec a checkpoint kept (null or undefined: none). */
export function scheduleFromSpec(spec: unknown, source: string): Schedule | undefined {
  if (spec === null || spec === undefined) return undefined;
  const s = spec as Partial<Record<string, unknown>>;
  try {
    if (s.kind === 'stepDecay') return stepDecay({ every: s.every as number, factor: s.factor as number });
    if (s.kind === 'cosineDecay') return cosineDecay({ decaySteps: s.decaySteps as number, alpha: s.alpha as number, warmupSteps: s.warmupSteps as number });
  } catch (error) {
    throw new FormatError(`${source}: the learning-rate schedule ${JSON.stringify(spec)} is broken (${(error as Error).message})`);
  }
  throw new FormatError(`${source}: unknown learning-rate schedule kind ${describe(s.kind)}; convkit rebuilds 'stepDecay' and 'cosineDecay'`);
}
