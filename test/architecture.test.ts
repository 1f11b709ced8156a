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
 * Tiers from the bottom up, one folder (or two beside each other) a tier; a
 * module may import its own tier or below. ARCHITECTURE.md has the same
 * table, with a line per folder. A path matches its most specific entry.
 */
export const TIERS: readonly (readonly string[])[] = [
  /* 0 core         */ ['core/'],
  /* 1 backend      */ ['backend/'],
  /* 2 ops          */ ['ops/'],
  /* 3 formats      */ ['formats/'],
  /* 4 data         */ ['data/'],
  /* 5 nn           */ ['nn/'],
  /* 6 optim        */ ['optim/'],
  /* 7 models       */ ['models/'],
  /* 8 interchange  */ ['interchange/'],
  /* 9 around       */ ['viz/', 'sweep/'],
  /* 10 entry       */ ['cli/', 'cli.ts', 'index.ts'],
];

/** The folder a module lives in (its first path segment), or the file itself at lib/'s root. */
const folderOf = (file: string): string => (file.includes('/') ? `${file.split('/')[0]}/` : file);

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

  it('has every folder of lib/ in the tier table, and no module at the root but the entries', () => {
    const folders = [...new Set(files.map(folderOf))].sort();
    expect(folders.filter((f) => !TIERS.some((t) => t.includes(f)))).toEqual([]);
    expect(TIERS.flat().filter((f) => !folders.includes(f))).toEqual([]);
  });

  it('matches the folder table of ARCHITECTURE.md, tier for tier', () => {
    const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| (.+?) \| .+ \|$/gm)].map((m) => [Number(m[1]), [...m[2].matchAll(/`([^`]+)`/g)].map((f) => f[1])] as const);
    expect(rows.map(([tier]) => tier)).toEqual(TIERS.map((_, i) => i));
    rows.forEach(([tier, folders]) => expect([...folders].sort(), `ARCHITECTURE.md tier ${tier}`).toEqual([...TIERS[tier]].sort()));
  });

  it('draws by folder with no upward arrow and no cycle', () => {
    const arrows = new Set<string>();
    for (const [f, deps] of graph) for (const d of deps) if (graph.has(d) && folderOf(f) !== folderOf(d)) arrows.add(`${folderOf(f)} -> ${folderOf(d)}`);
    const upward = [...arrows].filter((a) => { const [from, to] = a.split(' -> '); return tierOf(to) > tierOf(from); });
    expect(upward).toEqual([]);
    // Two folders of one tier may lean on each other one way only.
    const cycles = [...arrows].filter((a) => { const [from, to] = a.split(' -> '); return arrows.has(`${to} -> ${from}`); });
    expect(cycles).toEqual([]);
  });

  it('has layers and plan steps call the backend, using ops/ only for geometry and checks', () => {
    const allowed = new Set(['ops/geometry.ts', 'ops/check.ts']);
    const through = [...graph].flatMap(([f, deps]) =>
      /^(nn\/layers|models\/plan)\//.test(f) ? deps.filter((d) => d.startsWith('ops/') && !allowed.has(d)).map((d) => `${f} -> ${d}`) : []);
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
