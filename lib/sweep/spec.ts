// A sweep's plan: which runs, each an ordinary `convkit train` run. From a
// small JSON or YAML file, or the command line's comma lists:
//
//   name: lr-and-batch           (default: the file's name)
//   base: {model: mnist-3layer, epochs: 2, limit: 5000}
//   runs: [{model: mnist-2layer}, {model: mnist-3layer}]     (optional)
//   grid: {lr: [0.001, 0.003], batchSize: [32, 128], seed: [0, 1]}
//
// Every run is base, then one entry of runs (if any), then one point of the
// grid: runs × grid, in order. A run's name says what varies.
import { basename, dirname, extname, resolve } from 'node:path';
import { didYouMean, ownEntry } from '../core/check.js';
import { ConvkitError, FormatError, ValueError, describe } from '../core/errors.js';
import { readFileBounded } from '../formats/read.js';

/** The settings a run may vary, by their names in a sweep file, and the `convkit train` flag each becomes. */
export const RUN_SETTINGS = {
  model: 'model', dataset: 'dataset', data: 'data', test: 'test', testSplit: 'test-split', resize: 'resize', scaler: 'scaler',
  classWeight: 'class-weight', shift: 'shift', flip: 'flip', epochs: 'epochs', batchSize: 'batch-size', optimizer: 'optimizer',
  lr: 'lr', lrDecay: 'lr-decay', validation: 'validation', limit: 'limit', seed: 'seed', dataDir: 'data-dir',
} as const;

/** A setting a sweep may vary: one of `convkit train`'s options. */
export type RunSetting = keyof typeof RUN_SETTINGS;
/** A setting's value as a sweep file gives it. */
export type SettingValue = string | number | boolean;
/** One run's settings: the `convkit train` options a sweep varies. */
export type RunSettings = Partial<Record<RunSetting, SettingValue>>;

/** Other spellings a file may use (Keras's and PyTorch's, and the CLI's own flags). */
const ALIASES: Record<string, RunSetting> = {
  learningRate: 'lr', learning_rate: 'lr', batch_size: 'batchSize', 'batch-size': 'batchSize', 'lr-decay': 'lrDecay', lr_decay: 'lrDecay',
  'test-split': 'testSplit', 'class-weight': 'classWeight', 'data-dir': 'dataDir',
};

/** A sweep file: the settings every run shares and the ones it varies (a grid or a list). */
export interface SweepSpec {
  name: string;
  base: RunSettings;
  runs: RunSettings[];
  grid: Partial<Record<RunSetting, SettingValue[]>>;
}

/** One run of a sweep: its name (its run directory's), its settings and what sets it apart. */
export interface PlannedRun {
  index: number;
  name: string;
  settings: RunSettings;
  /** The settings that differ between runs, in the order they vary. */
  varies: RunSettings;
}

const MAX_RUNS = 10_000;

function settingName(key: string, where: string): RunSetting {
  if (ownEntry(RUN_SETTINGS, key) !== undefined) return key as RunSetting;
  const alias = ownEntry(ALIASES, key);
  if (alias !== undefined) return alias;
  throw new ValueError(`${where}: unknown setting '${key}'${didYouMean(key, Object.keys(RUN_SETTINGS))}; a run takes ${Object.keys(RUN_SETTINGS).join(', ')}`);
}

function settingValue(value: unknown, key: string, where: string): SettingValue {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new ValueError(`${where}: ${key} must be a string, a number or a boolean, got ${describe(value)}`);
}

function settingsOf(value: unknown, where: string): RunSettings {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValueError(`${where} must be an object of settings, got ${describe(value)}`);
  const out: RunSettings = {};
  for (const [k, v] of Object.entries(value)) {
    const name = settingName(k, where);
    out[name] = settingValue(v, name, where);
  }
  return out;
}

/** Checks a parsed sweep file (or the object an API caller passes). */
export function checkSweepSpec(value: unknown, where = 'sweep'): SweepSpec {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ValueError(`${where} must be an object with base, runs and grid, got ${describe(value)}`);
  const known = ['name', 'base', 'runs', 'grid'];
  for (const k of Object.keys(value)) if (!known.includes(k)) throw new ValueError(`${where}: unknown key '${k}'${didYouMean(k, known)}; a sweep has ${known.join(', ')}`);
  const v = value as Record<string, unknown>;
  if (v.name !== undefined && (typeof v.name !== 'string' || !/^[\w.-]{1,64}$/.test(v.name))) throw new ValueError(`${where}: name must be 1 to 64 letters, digits, '.', '_' or '-', got ${describe(v.name)}`);
  if (v.runs !== undefined && !Array.isArray(v.runs)) throw new ValueError(`${where}: runs must be a list of settings, got ${describe(v.runs)}`);
  const grid: SweepSpec['grid'] = {};
  if (v.grid !== undefined) {
    if (!v.grid || typeof v.grid !== 'object' || Array.isArray(v.grid)) throw new ValueError(`${where}: grid must be an object of lists, got ${describe(v.grid)}`);
    for (const [k, list] of Object.entries(v.grid)) {
      const name = settingName(k, `${where}: grid`);
      const values = Array.isArray(list) ? list : [list];
      if (values.length === 0) throw new ValueError(`${where}: grid.${k} is empty`);
      grid[name] = values.map((x) => settingValue(x, name, `${where}: grid`));
    }
  }
  return {
    name: (v.name as string | undefined) ?? 'sweep',
    base: settingsOf(v.base, `${where}: base`),
    runs: ((v.runs as unknown[] | undefined) ?? []).map((r, i) => settingsOf(r, `${where}: runs[${i}]`)),
    grid,
  };
}

/** Settings that name files, resolved against `dir` (a sweep file's folder, or the working directory), so that every worker reads the same file. */
export function resolvePaths(spec: SweepSpec, dir: string): SweepSpec {
  const fix = (k: RunSetting, v: SettingValue): SettingValue =>
    typeof v === 'string' && (k === 'data' || k === 'test' || k === 'dataDir' || (k === 'model' && /\.json$/i.test(v))) ? resolve(dir, v) : v;
  const fixAll = (r: RunSettings): RunSettings => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fix(k as RunSetting, v)]));
  const grid: SweepSpec['grid'] = {};
  for (const [k, values] of Object.entries(spec.grid) as [RunSetting, SettingValue[]][]) grid[k] = values.map((v) => fix(k, v));
  return { ...spec, base: fixAll(spec.base), runs: spec.runs.map(fixAll), grid };
}

/** A sweep file: .json, .yaml or .yml; file names in it are relative to its folder. */
export async function readSweepFile(path: string): Promise<SweepSpec> {
  let text: string;
  try {
    text = readFileBounded(path).toString('utf8');
  } catch (error) {
    throw new ConvkitError(`${path}: cannot read the sweep file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  let parsed: unknown;
  try {
    parsed = ext === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    throw new FormatError(`${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`);
  }
  const spec = resolvePaths(checkSweepSpec(parsed, path), dirname(resolve(path)));
  if ((parsed as { name?: string }).name === undefined) spec.name = basename(path, extname(path)).replace(/[^\w.-]/g, '_').slice(0, 64) || 'sweep';
  return spec;
}

const SHORT: Partial<Record<RunSetting, string>> = { batchSize: 'batch', lrDecay: 'decay', classWeight: 'weights', testSplit: 'split' };

function valueText(v: SettingValue): string {
  return String(v).replace(/\.json$/i, '').replace(/^.*[\\/]/, '').replace(/[^\w.+-]/g, '_').slice(0, 40);
}

/** The runs a spec stands for, named by what sets each apart (`03-model=mnist-3layer_lr=0.003`). */
export function planRuns(spec: SweepSpec): PlannedRun[] {
  const axes = Object.entries(spec.grid) as [RunSetting, SettingValue[]][];
  const points = axes.reduce<RunSettings[]>((acc, [k, values]) => acc.flatMap((p) => values.map((v) => ({ ...p, [k]: v }))), [{}]);
  const entries = spec.runs.length ? spec.runs : [{}];
  if (entries.length * points.length > MAX_RUNS) throw new ValueError(`sweep: ${entries.length * points.length} runs is more than ${MAX_RUNS}`);
  const settings = entries.flatMap((r) => points.map((p) => ({ ...spec.base, ...r, ...p })));
  const keys = [...new Set(settings.flatMap((s) => Object.keys(s) as RunSetting[]))];
  const varying = keys.filter((k) => new Set(settings.map((s) => JSON.stringify(s[k]))).size > 1);
  const width = String(settings.length - 1).length;
  const names = new Set<string>();
  return settings.map((s, index) => {
    const varies: RunSettings = {};
    for (const k of varying) if (s[k] !== undefined) varies[k] = s[k];
    const label = Object.entries(varies).map(([k, v]) => `${SHORT[k as RunSetting] ?? k}=${valueText(v)}`).join('_');
    const name = `${String(index).padStart(width, '0')}${label ? `-${label}` : ''}`.slice(0, 120);
    if (names.has(name)) throw new ValueError(`sweep: two runs would be named '${name}'`);
    names.add(name);
    return { index, name, settings: s, varies };
  });
}

/** A run's settings as `convkit train` flags (threads and the run directory are the runner's). */
export function trainArgs(settings: RunSettings): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(settings) as [RunSetting, SettingValue][]) {
    const flag = `--${RUN_SETTINGS[k]}`;
    if (typeof v === 'boolean') {
      if (v) args.push(flag);
    } else args.push(flag, String(v));
  }
  return args;
}
