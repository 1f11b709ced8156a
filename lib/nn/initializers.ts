import { foldName } from '../core/check.js';
import { ValueError, describe } from '../core/errors.js';
import type { Random } from '../core/random.js';

/**
 * Weight initializers, each filling an array from a fan-in and fan-out.
 *
 * convkit's own names (kept for the course nets and older checkpoints):
 * he: N(0, 2 / fanIn), untruncated (He et al. 2015), the default of Conv2D and Dense;
 * glorot: U(-l, l), l = sqrt(6 / (fanIn + fanOut)) (Glorot & Bengio 2010), the same as glorotUniform;
 * gaussian: N(0, 1) times a scale (0.01 unless given), as the from-scratch courses do;
 * zeros.
 *
 * Keras's and TensorFlow.js's names, with their meanings (Keras's
 * `glorot_uniform`, `HeNormal` and tfjs's `heNormal` are all accepted):
 * glorotUniform, glorotNormal, heNormal, heUniform, leCunNormal,
 * leCunUniform (all varianceScaling: their "normal" is truncated at two
 * standard deviations and rescaled, as Keras does), varianceScaling {scale,
 * mode, distribution}, randomNormal {mean, stddev}, randomUniform {minval,
 * maxval}, truncatedNormal {mean, stddev}, ones, constant {value}.
 *
 * PyTorch's: kaimingUniform and kaimingNormal {a, mode}; PyTorch's default
 * for Conv2d and Linear weights is {name: 'kaimingUniform', a: Math.sqrt(5)},
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export type InitializerName =
  | 'he' | 'glorot' | 'gaussian' | 'zeros' | 'ones'
  | 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'leCunNormal' | 'leCunUniform'
  | 'kaimingUniform' | 'kaimingNormal' | 'varianceScaling' | 'randomNormal' | 'randomUniform' | 'truncatedNormal';

/** Which fan varianceScaling and kaiming* divide by: fan-in, fan-out or their mean (Keras's fan_in, fan_out, fan_avg). */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** What varianceScaling draws from: a normal cut at two standard deviations (and rescaled), a plain normal, or a uniform. */
export type Distribution = 'truncatedNormal' | 'untruncatedNormal' | 'uniform';

/** How a layer's weights start: a name, or a name with its parameters. */
export type Initializer =
  | InitializerName
  | { name: 'gaussian'; scale: number }
  | { name: 'varianceScaling'; scale?: number; mode?: FanMode; distribution?: Distribution }
  | { name: 'kaimingUniform' | 'kaimingNormal'; a?: number; mode?: 'fanIn' | 'fanOut' }
  | { name: 'randomNormal' | 'truncatedNormal'; mean?: number; stddev?: number }
  | { name: 'randomUniform'; minval?: number; maxval?: number }
  | { name: 'constant'; value: number };

/** The parameters each kind takes, and their defaults (Keras's and PyTorch's). */
const KINDS: Record<string, Record<string, number | string>> = {
  he: {}, glorot: {}, zeros: {}, ones: {},
  gaussian: { scale: 0.01 },
  glorotUniform: {}, glorotNormal: {}, heNormal: {}, heUniform: {}, leCunNormal: {}, leCunUniform: {},
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  kaimingUniform: { a: 0, mode: 'fanIn' },
  kaimingNormal: { a: 0, mode: 'fanIn' },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  constant: { value: 0 },
};

/** Every spelling users bring (glorot_uniform, GlorotUniform, glorotUniform) to one key. */
const BY_FOLDED = new Map(Object.keys(KINDS).map((k) => [foldName(k), k]));

const MODES = new Map<string, FanMode>([['fanin', 'fanIn'], ['fanout', 'fanOut'], ['fanavg', 'fanAvg']]);
// Keras's legacy 'normal' and tfjs's 'normal' are both the truncated one.
const DISTRIBUTIONS = new Map<string, Distribution>([['truncatednormal', 'truncatedNormal'], ['normal', 'truncatedNormal'], ['untruncatednormal', 'untruncatedNormal'], ['uniform', 'uniform']]);

const NAMES_TEXT = `'he', 'glorot', 'gaussian', 'zeros', 'ones', Keras's names ('glorotUniform', 'glorotNormal', 'heNormal', 'heUniform', 'leCunNormal', 'leCunUniform'), PyTorch's ('kaimingUniform', 'kaimingNormal'), or {name, ...parameters} for 'varianceScaling', 'randomNormal', 'randomUniform', 'truncatedNormal', 'constant', 'gaussian', 'kaimingUniform', 'kaimingNormal'`;

function kindOf(name: unknown, kind: string): string {
  const key = typeof name === 'string' ? BY_FOLDED.get(foldName(name)) : undefined;
  if (key === undefined) throw new ValueError(`${kind}: kernelInitializer must be ${NAMES_TEXT}; got ${describe(name)}`);
  return key;
}

/**
 * Checks an initializer when a layer is made, not when it is built, and
 * returns its canonical form: a name when it takes no parameters, else
 * {name, ...every parameter, defaults filled in}. Accepts Keras's
 * serialized form {className, config} too.
 */
export function checkInitializer(init: unknown, kind: string): Initializer {
  if (typeof init === 'string') {
    const key = kindOf(init, kind);
    if (key === 'constant') throw new ValueError(`${kind}: kernelInitializer 'constant' needs its value: {name: 'constant', value}`);
    return key as InitializerName;
  }
  if (init === null || typeof init !== 'object' || Array.isArray(init)) throw new ValueError(`${kind}: kernelInitializer must be ${NAMES_TEXT}; got ${describe(init)}`);
  const given = init as Record<string, unknown>;
  // Keras / tfjs serialization: {class_name | className, config: {...}}.
  const className = given.className ?? given.class_name;
  const raw = className !== undefined ? { name: className, ...((given.config as object | null | undefined) ?? {}) } as Record<string, unknown> : given;
  const key = kindOf(raw.name, kind);
  const defaults = KINDS[key];
  const out: Record<string, number | string> = { name: key };
  for (const [k, v] of Object.entries(raw)) {
    // Keras configs carry a seed (convkit seeds the model) and a dtype.
    if (k === 'name' || (className !== undefined && (k === 'seed' || k === 'dtype'))) continue;
    if (!(k in defaults)) throw new ValueError(`${kind}: kernelInitializer '${key}' takes ${Object.keys(defaults).map((p) => `'${p}'`).join(', ') || 'no parameters'}, got '${k}'`);
    out[k] = v as number | string;
  }
  for (const [k, d] of Object.entries(defaults)) {
    const v = out[k] ?? d;
    if (typeof d === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${kind}: kernelInitializer '${key}' ${k} must be a finite number, got ${describe(v)}`);
    } else if (k === 'mode') {
      const mode = typeof v === 'string' ? MODES.get(foldName(v)) : undefined;
      if (mode === undefined || (key.startsWith('kaiming') && mode === 'fanAvg')) throw new ValueError(`${kind}: kernelInitializer '${key}' mode must be 'fanIn', 'fanOut'${key.startsWith('kaiming') ? '' : " or 'fanAvg'"}, got ${describe(v)}`);
      out[k] = mode;
      continue;
    } else if (k === 'distribution') {
      const dist = typeof v === 'string' ? DISTRIBUTIONS.get(foldName(v)) : undefined;
      if (dist === undefined) throw new ValueError(`${kind}: kernelInitializer '${key}' distribution must be 'truncatedNormal', 'untruncatedNormal' or 'uniform', got ${describe(v)}`);
      out[k] = dist;
      continue;
    }
    out[k] = v;
  }
  const positive = (k: string) => {
    if (!((out[k] as number) > 0)) throw new ValueError(`${kind}: kernelInitializer '${key}' ${k} must be > 0, got ${describe(out[k])}`);
  };
  if (key === 'gaussian') positive('scale');
  if (key === 'varianceScaling') positive('scale');
  if (key === 'randomNormal' || key === 'truncatedNormal') positive('stddev');
  if (key === 'randomUniform' && !((out.maxval as number) > (out.minval as number))) throw new ValueError(`${kind}: kernelInitializer 'randomUniform' needs minval < maxval, got ${out.minval} and ${out.maxval}`);
  if (Object.keys(defaults).length === 0) return key as InitializerName;
  return out as unknown as Initializer;
}

/** N(0, 1) cut at two standard deviations (redrawn outside), as Keras's and tfjs's truncated normal. */
function truncatedNormal(random: Random): number {
  for (;;) {
    const z = random.normal();
    if (z >= -2 && z <= 2) return z;
  }
}

/** The standard deviation of N(0, 1) truncated to [-2, 2]: Keras divides by it so the truncated draw keeps the asked variance. */
const TRUNCATED_STD = 0.87962566103423978;

function varianceScaling(data: Float32Array, scale: number, n: number, distribution: Distribution, random: Random): void {
  const variance = scale / Math.max(1, n);
  if (distribution === 'uniform') {
    const limit = Math.sqrt(3 * variance);
    for (let i = 0; i < data.length; i++) data[i] = (random.next() * 2 - 1) * limit;
  } else if (distribution === 'truncatedNormal') {
    const std = Math.sqrt(variance) / TRUNCATED_STD;
    for (let i = 0; i < data.length; i++) data[i] = truncatedNormal(random) * std;
  } else {
    const std = Math.sqrt(variance);
    for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
  }
}

export function initialize(init: Initializer, data: Float32Array, fanIn: number, fanOut: number, random: Random): void {
  const spec = (typeof init === 'string' ? { name: init } : init) as Record<string, number | string> & { name: string };
  const p = { ...KINDS[spec.name], ...spec } as Record<string, number> & Record<string, string>;
  const fan = (mode: string) => (mode === 'fanOut' ? fanOut : mode === 'fanAvg' ? (fanIn + fanOut) / 2 : fanIn);
  switch (spec.name) {
    case 'he':
      return varianceScaling(data, 2, fanIn, 'untruncatedNormal', random);
    case 'glorot':
    case 'glorotUniform': {
      // Written as before varianceScaling existed, so older seeds give the same weights to the last bit.
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < data.length; i++) data[i] = (random.next() * 2 - 1) * limit;
      return;
    }
    case 'glorotNormal':
      return varianceScaling(data, 1, (fanIn + fanOut) / 2, 'truncatedNormal', random);
    case 'heNormal':
      return varianceScaling(data, 2, fanIn, 'truncatedNormal', random);
    case 'heUniform':
      return varianceScaling(data, 2, fanIn, 'uniform', random);
    case 'leCunNormal':
      return varianceScaling(data, 1, fanIn, 'truncatedNormal', random);
    case 'leCunUniform':
      return varianceScaling(data, 1, fanIn, 'uniform', random);
    case 'varianceScaling':
      return varianceScaling(data, p.scale, fan(p.mode), p.distribution as Distribution, random);
    case 'kaimingUniform':
      // PyTorch: gain² = 2 / (1 + a²), bound = gain · sqrt(3 / fan).
      return varianceScaling(data, 2 / (1 + p.a * p.a), fan(p.mode), 'uniform', random);
    case 'kaimingNormal':
      return varianceScaling(data, 2 / (1 + p.a * p.a), fan(p.mode), 'untruncatedNormal', random);
    case 'gaussian':
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * p.scale;
      return;
    case 'randomNormal':
      for (let i = 0; i < data.length; i++) data[i] = p.mean + random.normal() * p.stddev;
      return;
    case 'truncatedNormal':
      for (let i = 0; i < data.length; i++) data[i] = p.mean + truncatedNormal(random) * p.stddev;
      return;
    case 'randomUniform':
      for (let i = 0; i < data.length; i++) data[i] = p.minval + random.next() * (p.maxval - p.minval);
      return;
    case 'zeros':
      data.fill(0);
      return;
    case 'ones':
      data.fill(1);
      return;
    case 'constant':
      data.fill(p.value);
      return;
    default:
      throw new ValueError(`initializer must be ${NAMES_TEXT}; got ${describe(init)}`);
  }
}
