// The optimizer's skeleton: a learning rate and its schedule, per-parameter
// slots kept by parameter name (saved with a run), gradient clipping, and one
// update over a model whose parameters lie back to back.
import { checkFunction } from '../core/check.js';
import { type Schedule } from './schedules.js';
import { FormatError, ValueError, describe } from '../core/errors.js';
import type { Parameter } from '../nn/layers/layer.js';
import type { Tensor } from '../core/tensor.js';

export function positive(value: unknown, name: string, op: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ValueError(`${op}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${describe(value)}`);
  }
  return value;
}

/**
 * When params lie back to back in one array (a built Sequential packs them so),
 * a single parameter spanning them all, so one native call updates the model.
 * Its name lists the first and last parameter, so optimizer state stays tied to the model's layout.
 */
function packedView(params: readonly Parameter[]): Parameter | null {
  if (params.length < 2) return null;
  const first = params[0];
  const values = first.value.data;
  const grads = first.grad.data;
  let end = values.byteOffset;
  for (const p of params) {
    const v = p.value.data;
    const g = p.grad.data;
    if (v.buffer !== values.buffer || g.buffer !== grads.buffer || v.byteOffset !== end || g.byteOffset - grads.byteOffset !== v.byteOffset - values.byteOffset) return null;
    end += v.byteLength;
  }
  const count = (end - values.byteOffset) / 4;
  const value = new Float32Array(values.buffer, values.byteOffset, count);
  const grad = new Float32Array(grads.buffer, grads.byteOffset, count);
  return { name: `${first.name}..${params[params.length - 1].name}`, value: { data: value, size: count } as Tensor, grad: { data: grad, size: count } as Tensor };
}

/**
 * Gradient clipping before each step. clipNorm scales all gradients together
 * when their global L2 norm exceeds it (torch's clip_grad_norm_, Keras's
 * global_clipnorm); clipValue clamps each to ±clipValue (torch's
 * clip_grad_value_, Keras's clipvalue). One or the other, as Keras allows.
 */
export interface ClipOptions {
  clipNorm?: number;
  clipValue?: number;
  /**
   * Rates of their own for some layers' weights (PyTorch's param_groups, as
   * fine-tuning uses: a small rate for a pretrained body, a larger one for a
   * new head). A schedule scales every group's rate by the same factor.
   */
  parameterGroups?: readonly ParameterGroup[];
}

/** Some layers' weights and the learning rate they train at. */
export interface ParameterGroup {
  /** The names of the layers whose weights and biases this group holds. */
  layers: readonly string[];
  learningRate: number;
}

export const CLIP_OPTIONS = ['clipNorm', 'clipValue', 'parameterGroups'];

function checkGroups(groups: unknown, op: string): ParameterGroup[] {
  if (!Array.isArray(groups)) throw new ValueError(`${op}: parameterGroups must be a list of {layers, learningRate}, got ${describe(groups)}`);
  const seen = new Set<string>();
  return groups.map((g, i) => {
    const at = `parameterGroups[${i}]`;
    if (!g || typeof g !== 'object' || !Array.isArray(g.layers) || g.layers.length === 0 || g.layers.some((l: unknown) => typeof l !== 'string')) throw new ValueError(`${op}: ${at}.layers must be a non-empty list of layer names, got ${describe(g?.layers)}`);
    for (const l of g.layers as string[]) {
      if (seen.has(l)) throw new ValueError(`${op}: layer '${l}' is in two parameter groups`);
      seen.add(l);
    }
    return { layers: [...g.layers], learningRate: positive(g.learningRate, `${at}.learningRate`, op) };
  });
}

/** Updates parameters from their gradients; holds per-parameter state by parameter name. */
export abstract class Optimizer {
  abstract readonly kind: string;
  /** The base rate (a schedule multiplies it); a callback such as reduceLROnPlateau may lower it. */
  learningRate: number;
  readonly clipNorm: number | null;
  readonly clipValue: number | null;
  readonly schedule: Schedule | null;
  readonly parameterGroups: readonly ParameterGroup[];
  /** The base rate as given, which the groups' rates stand beside. */
  private readonly initialLearningRate: number;
  iterations = 0;
  protected readonly slots = new Map<string, Float32Array[]>();

  constructor(learningRate: number, schedule: Schedule | undefined, op: string, clip: ClipOptions = {}) {
    this.learningRate = positive(learningRate, 'learningRate', op);
    this.clipNorm = clip.clipNorm === undefined ? null : positive(clip.clipNorm, 'clipNorm', op);
    this.clipValue = clip.clipValue === undefined ? null : positive(clip.clipValue, 'clipValue', op);
    if (this.clipNorm !== null && this.clipValue !== null) throw new ValueError(`${op}: give clipNorm or clipValue, not both (as Keras)`);
    this.parameterGroups = clip.parameterGroups === undefined ? [] : checkGroups(clip.parameterGroups, op);
    this.initialLearningRate = this.learningRate;
    this.schedule = schedule === undefined || schedule === null ? null : checkFunction<Schedule>(schedule, 'schedule', op, 'a function of the iteration giving a rate multiplier (e.g. stepDecay({every, factor}) or cosineDecay({decaySteps}))');
    this.op = op;
  }

  private readonly op: string;

  /** The rate this step uses. */
  currentLearningRate(): number {
    if (!this.schedule) return this.learningRate;
    const factor = this.schedule(this.iterations);
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
      throw new ValueError(`${this.op}: schedule(${this.iterations}) returned ${describe(factor)}; a schedule must return a finite multiplier >= 0 of the learning rate`);
    }
    return this.learningRate * factor;
  }

  /** Updates every parameter from its gradient, then advances the schedule. */
  step(params: readonly Parameter[]): void {
    const lr = this.currentLearningRate();
    this.iterations++;
    if (this.clipNorm !== null || this.clipValue !== null) this.clip(params);
    if (this.parameterGroups.length > 0) {
      // Each group at its own rate, scaled as the base rate is this step (by the schedule, and by reduceLROnPlateau's cuts).
      const factor = lr / this.initialLearningRate;
      for (const { params: group, rate } of this.partition(params)) this.updateAll(group, rate * factor);
      return;
    }
    this.updateAll(params, lr);
  }

  private updateAll(params: readonly Parameter[], lr: number): void {
    const packed = packedView(params);
    if (packed) this.update(packed, lr);
    else for (const p of params) this.update(p, lr);
  }

  /** The parameters split by group (the rest at the base rate), kept for the list fit passes every step. */
  private partition(params: readonly Parameter[]): { params: Parameter[]; rate: number }[] {
    const cached = this.partitions.get(params);
    if (cached) return cached;
    const rateOf = new Map<string, number>();
    for (const g of this.parameterGroups) for (const l of g.layers) rateOf.set(l, g.learningRate);
    const byRate = new Map<number, Parameter[]>();
    for (const p of params) {
      const rate = rateOf.get(p.name.slice(0, p.name.lastIndexOf('.'))) ?? this.learningRate;
      if (!byRate.has(rate)) byRate.set(rate, []);
      byRate.get(rate)!.push(p);
    }
    const parts = [...byRate].map(([rate, ps]) => ({ params: ps, rate }));
    this.partitions.set(params, parts);
    return parts;
  }

  private readonly partitions = new WeakMap<readonly Parameter[], { params: Parameter[]; rate: number }[]>();

  /** Clips the gradients in place, by global norm or by value. */
  private clip(params: readonly Parameter[]): void {
    if (this.clipValue !== null) {
      const c = this.clipValue;
      for (const p of params) {
        const g = p.grad.data;
        for (let i = 0; i < g.length; i++) g[i] = g[i] > c ? c : g[i] < -c ? -c : g[i];
      }
      return;
    }
    let sum = 0;
    for (const p of params) for (const v of p.grad.data) sum += v * v;
    const norm = Math.sqrt(sum);
    // torch's coefficient: max_norm / (norm + 1e-6), applied only when below 1.
    const scale = this.clipNorm! / (norm + 1e-6);
    if (scale < 1) for (const p of params) for (let i = 0, g = p.grad.data; i < g.length; i++) g[i] *= scale;
  }

  /** The clipping settings, for config(). */
  protected clipConfig(): ClipOptions {
    return {
      ...(this.clipNorm !== null ? { clipNorm: this.clipNorm } : {}),
      ...(this.clipValue !== null ? { clipValue: this.clipValue } : {}),
      ...(this.parameterGroups.length ? { parameterGroups: this.parameterGroups.map((g) => ({ layers: [...g.layers], learningRate: g.learningRate })) } : {}),
    };
  }

  protected slot(p: Parameter, count: number): Float32Array[] {
    let s = this.slots.get(p.name);
    if (!s) {
      s = Array.from({ length: count }, () => new Float32Array(p.value.size));
      this.slots.set(p.name, s);
    }
    return s;
  }

  protected abstract update(p: Parameter, lr: number): void;

  /** Slot arrays kept per parameter (SGD with momentum 1, Adam 2). */
  protected abstract readonly slotCount: number;

  /**
   * Refuses a state that belongs to other parameters: every slot must name
   * these parameters (one packed view of them all, or each by name) and have
   * its size.
   */
  checkStateFor(params: readonly Parameter[], source: string): void {
    const sizes = new Map(params.map((p) => [p.name, p.value.size]));
    const packed = packedView(params);
    if (packed) sizes.set(packed.name, packed.value.size);
    for (const [name, arrays] of this.slots) {
      const size = sizes.get(name);
      if (size === undefined) throw new FormatError(`${source}: the optimizer state is for '${name}', which this model does not have; it belongs to another model`);
      if (arrays[0].length !== size) throw new FormatError(`${source}: the optimizer state for '${name}' holds ${arrays[0].length} values, the model's ${size}`);
    }
  }

  /** State for checkpoints: the iteration count and every slot array by `${param}/${index}`. */
  state(): { iterations: number; slots: Record<string, Float32Array> } {
    const slots: Record<string, Float32Array> = {};
    for (const [name, arrays] of this.slots) arrays.forEach((a, i) => (slots[`${name}/${i}`] = a));
    return { iterations: this.iterations, slots };
  }

  /** Restores iterations and slots that state() returned (resuming from a checkpoint). */
  loadState(state: { iterations: number; slots: Record<string, Float32Array> }): void {
    this.iterations = state.iterations;
    this.slots.clear();
    const grouped = new Map<string, Float32Array[]>();
    for (const [key, array] of Object.entries(state.slots)) {
      const cut = key.lastIndexOf('/');
      const name = key.slice(0, cut);
      const index = Number(key.slice(cut + 1));
      // SGD keeps one slot per parameter, Adam two: a key naming slot 4294967294 is forged, not a state.
      if (cut <= 0 || !/^\d$/.test(key.slice(cut + 1)) || index >= this.slotCount) {
        throw new FormatError(`${this.op}: optimizer state key '${key}' is not '<parameter>/<slot>' with a slot below ${this.slotCount}`);
      }
      if (!(array instanceof Float32Array)) throw new FormatError(`${this.op}: optimizer state '${key}' is not a float32 array`);
      if (!grouped.has(name)) grouped.set(name, []);
      grouped.get(name)![index] = array.slice();
    }
    for (const [name, arrays] of grouped) {
      if (arrays.length !== this.slotCount || arrays.some((a) => a === undefined || a.length !== arrays[0].length)) {
        throw new FormatError(`${this.op}: optimizer state for '${name}' must have ${this.slotCount} slot(s) of one length`);
      }
      this.slots.set(name, arrays);
    }
  }

  /** The optimizer's settings as JSON (what checkpoints keep). */
  abstract config(): Record<string, unknown>;

  /** The schedule as JSON when it is one convkit can rebuild (stepDecay, cosineDecay), else null. */
  protected scheduleSpec(): unknown {
    return (this.schedule as (Schedule & { spec?: unknown }) | null)?.spec ?? null;
  }
}
