import { checkNumber, checkOptions, checkPositiveInt } from '../core/check.js';
import { FormatError, ValueError, describe } from '../core/errors.js';

/** A learning-rate multiplier as a function of the iteration (optimizer steps so far). */
export type Schedule = (iteration: number) => number;

/** The JSON a checkpoint keeps of a schedule convkit can rebuild. */
export type ScheduleSpec =
  | { kind: 'stepDecay'; every: number; factor: number }
  | { kind: 'multiStepDecay'; milestones: number[]; gamma: number }
  | { kind: 'cosineDecay'; decaySteps: number; alpha: number; warmupSteps: number }
  | { kind: 'exponentialDecay'; decaySteps: number; decayRate: number; staircase: boolean }
  | { kind: 'oneCycle'; totalSteps: number; pctStart: number; divFactor: number; finalDivFactor: number };

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
 * Multiplies the rate by gamma at each milestone iteration (PyTorch's
 * `MultiStepLR` stepped per batch; Keras's `PiecewiseConstantDecay` with
 * values lr·gammaᵏ): He et al.'s ResNet schedule is milestones at 32k and 48k
 * iterations with gamma 0.1.
 */
export function multiStepDecay(options: { milestones: number[]; gamma?: number }): Schedule {
  if (options === undefined) throw new ValueError('multiStepDecay: options {milestones, gamma?} are required, got undefined');
  const { milestones, gamma = 0.1 } = checkOptions(options, ['milestones', 'gamma'], 'multiStepDecay');
  if (!Array.isArray(milestones) || milestones.length === 0) throw new ValueError(`multiStepDecay: milestones must be a non-empty array of iterations, got ${describe(milestones)}`);
  milestones.forEach((m, i) => {
    checkPositiveInt(m, `milestones[${i}]`, 'multiStepDecay');
    if (i > 0 && !(m > milestones[i - 1])) throw new ValueError(`multiStepDecay: milestones must increase, got ${milestones[i - 1]} then ${m} at index ${i}`);
  });
  checkNumber(gamma, 'gamma', 'multiStepDecay', { min: 0, minExclusive: true });
  const at = [...milestones];
  const schedule: Schedule = (iteration) => {
    let passed = 0;
    while (passed < at.length && at[passed] <= iteration) passed++;
    return Math.pow(gamma, passed);
  };
  return withSpec(schedule, { kind: 'multiStepDecay', milestones: at, gamma });
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

/**
 * Keras's ExponentialDecay: decayRate^(iteration / decaySteps), or
 * decayRate^floor(iteration / decaySteps) with staircase (PyTorch's
 * ExponentialLR(gamma) stepped per epoch is decaySteps = batches per epoch,
 * staircase true).
 */
export function exponentialDecay(options: { decaySteps: number; decayRate: number; staircase?: boolean }): Schedule {
  if (options === undefined) throw new ValueError('exponentialDecay: options {decaySteps, decayRate, staircase?} are required, got undefined');
  const { decaySteps, decayRate, staircase = false } = checkOptions(options, ['decaySteps', 'decayRate', 'staircase'], 'exponentialDecay');
  checkPositiveInt(decaySteps, 'decaySteps', 'exponentialDecay');
  checkNumber(decayRate, 'decayRate', 'exponentialDecay', { min: 0, minExclusive: true });
  if (typeof staircase !== 'boolean') throw new ValueError(`exponentialDecay: staircase must be true or false, got ${describe(staircase)}`);
  return withSpec((iteration) => Math.pow(decayRate, staircase ? Math.floor(iteration / decaySteps) : iteration / decaySteps), { kind: 'exponentialDecay', decaySteps, decayRate, staircase });
}

/**
 * The one-cycle policy (Smith & Topin 2018) as PyTorch's OneCycleLR with
 * cosine annealing: the optimizer's learningRate is the peak (max_lr). The
 * multiplier rises from 1/divFactor to 1 over the first pctStart of
 * totalSteps, then falls to 1/(divFactor·finalDivFactor) at the last step.
 * (PyTorch also cycles momentum by default; this schedule does not.)
 */
export function oneCycle(options: { totalSteps: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }): Schedule {
  if (options === undefined) throw new ValueError('oneCycle: options {totalSteps, pctStart?, divFactor?, finalDivFactor?} are required, got undefined');
  const { totalSteps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = checkOptions(options, ['totalSteps', 'pctStart', 'divFactor', 'finalDivFactor'], 'oneCycle');
  checkPositiveInt(totalSteps, 'totalSteps', 'oneCycle');
  if (totalSteps < 2) throw new ValueError(`oneCycle: totalSteps must be at least 2, got ${totalSteps}`);
  checkNumber(pctStart, 'pctStart', 'oneCycle', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  checkNumber(divFactor, 'divFactor', 'oneCycle', { min: 0, minExclusive: true });
  checkNumber(finalDivFactor, 'finalDivFactor', 'oneCycle', { min: 0, minExclusive: true });
  const start = 1 / divFactor;
  const end = start / finalDivFactor;
  const peakStep = pctStart * totalSteps - 1;
  const anneal = (from: number, to: number, pct: number) => to + ((from - to) / 2) * (1 + Math.cos(Math.PI * pct));
  const schedule: Schedule = (iteration) => {
    const step = Math.min(iteration, totalSteps - 1);
    if (step <= peakStep) return anneal(start, 1, peakStep > 0 ? step / peakStep : 1);
    return anneal(1, end, (step - peakStep) / (totalSteps - 1 - peakStep));
  };
  return withSpec(schedule, { kind: 'oneCycle', totalSteps, pctStart, divFactor, finalDivFactor });
}

/** Rebuilds a schedule from the spec a checkpoint kept (null or undefined: none). */
export function scheduleFromSpec(spec: unknown, source: string): Schedule | undefined {
  if (spec === null || spec === undefined) return undefined;
  const s = spec as Partial<Record<string, unknown>>;
  try {
    if (s.kind === 'stepDecay') return stepDecay({ every: s.every as number, factor: s.factor as number });
    if (s.kind === 'multiStepDecay') return multiStepDecay({ milestones: s.milestones as number[], gamma: s.gamma as number });
    if (s.kind === 'cosineDecay') return cosineDecay({ decaySteps: s.decaySteps as number, alpha: s.alpha as number, warmupSteps: s.warmupSteps as number });
    if (s.kind === 'exponentialDecay') return exponentialDecay({ decaySteps: s.decaySteps as number, decayRate: s.decayRate as number, staircase: s.staircase as boolean });
    if (s.kind === 'oneCycle') return oneCycle({ totalSteps: s.totalSteps as number, pctStart: s.pctStart as number, divFactor: s.divFactor as number, finalDivFactor: s.finalDivFactor as number });
  } catch (error) {
    throw new FormatError(`${source}: the learning-rate schedule ${JSON.stringify(spec)} is broken (${(error as Error).message})`);
  }
  throw new FormatError(`${source}: unknown learning-rate schedule kind ${describe(s.kind)}; convkit rebuilds 'stepDecay', 'multiStepDecay', 'cosineDecay', 'exponentialDecay' and 'oneCycle'`);
}
