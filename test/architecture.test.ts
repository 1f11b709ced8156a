// The structure drawn from the imports (DESIGN.md, "Layers of the code"):
// every import of lib/ (type-only and dynamic ones included) points to a
// lower tier or, within a tier, never closes a cycle; no source file grows
// past MAX_LINES unless it says at its top why.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const lib = join(root, 'lib');

/**
 * Tiers from the bottom up; a module may import its own tier or below.
 * A path matches its most specific entry (a file before its folder).
 */
export const TIERS: readonly (readonly string[])[] = [
  /* 0 foundation  */ ['errors.ts', 'limits.ts', 'version.ts', 'check.ts', 'defaults.ts', 'random.ts', 'tensor.ts', 'progress.ts'],
  /* 1 backend     */ ['backend/'],
  /* 2 ops         */ ['ops/'],
  /* 3 parts       */ ['layers/', 'initializers.ts', 'losses.ts', 'optimizers.ts', 'metrics.ts', 'data/', 'io/atomic.ts', 'io/read.ts', 'io/safetensors.ts', 'io/hdf5-file.ts'],
  /* 4 files       */ ['io/checkpoint-write.ts'],
  /* 5 plan        */ ['plan/'],
  /* 6 training    */ ['train.ts', 'train-options.ts'],
  /* 7 model       */ ['model.ts'],
  /* 8 around      */ ['io/', 'viz/', 'sweep/', 'callbacks.ts', 'zoo.ts', 'selftest.ts', 'data/preprocess.ts'],
  /* 9 entry       */ ['cli/', 'cli.ts', 'index.ts'],
];

const MAX_LINES = 400;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [relative(lib, path)] : [];
  });
}

function tierOf(file: string): number {
  let best = -1;
  let bestLength = -1;
  TIERS.forEach((entries, tier) => {
    for (const entry of entries) {
      const matches = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (matches && entry.length > bestLength) {
        best = tier;
        bestLength = entry.length;
      }
    }
  });
  return best;
}

/** The lib/ files a source imports: static, type-only, re-exports and dynamic import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(lib, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(lib, resolve(dirname(join(lib, file)), s)).replace(/\.js$/, '.ts'));
}

const files = sources(lib).sort();
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('the structure of lib/', () => {
  it('places every source file in a tier', () => {
    expect(files.filter((f) => tierOf(f) < 0)).toEqual([]);
  });

  it('imports only what exists', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('has no upward import', () => {
    const upward = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => graph.has(d) && tierOf(d) > tierOf(f)).map((d) => `${f} (tier ${tierOf(f)}) -> ${d} (tier ${tierOf(d)})`));
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (!graph.has(d)) continue;
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('has layers and plan steps call the backend, using ops/ only for geometry and checks', () => {
    const allowed = new Set(['ops/geometry.ts', 'ops/check.ts']);
    const through = [...graph].flatMap(([f, deps]) =>
      /^(layers|plan)\//.test(f) ? deps.filter((d) => d.startsWith('ops/') && !allowed.has(d)).map((d) => `${f} -> ${d}`) : []);
    expect(through).toEqual([]);
  });

  it(`keeps source files under ${MAX_LINES} lines, or says at the top why not`, () => {
    const native = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      return e.isDirectory() ? native(path) : /\.(cc|h)$/.test(e.name) ? [relative(root, path)] : [];
    });
    const all = [...files.map((f) => `lib/${f}`), ...native(join(root, 'native'))];
    const long = all.filter((f) => {
      const text = readFileSync(join(root, f), 'utf8');
      const lines = text.split('\n').length;
      return lines > MAX_LINES && !/^\/\/ Longer than 400 lines: /m.test(text.split('\n').slice(0, 10).join('\n'));
    });
    expect(long).toEqual([]);
  });
});
