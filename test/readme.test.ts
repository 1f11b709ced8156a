// Every JavaScript snippet of the README runs as written: each ```js block is
// saved as an ES module in a fresh folder whose node_modules/convkit is this
// package (so `import ... from 'convkit'` resolves through its exports, as a
// user's would) and run with node. The data comes from the package's own MNIST
// sample: no data directory, and a download mirror that refuses at once.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README snippets', () => {
  it('has JavaScript snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
  });

  it.each(snippets.map((code, i) => [i + 1, code.split('\n').find((l) => l.trim() && !l.startsWith('import'))!, code]))('snippet %i (%s) runs as written', (i, _first, code) => {
    const dir = mkdtempSync(join(tmpdir(), `readme-${i}-`));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'convkit'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
    writeFileSync(join(dir, 'snippet.mjs'), code);
    const { CONVKIT_DATA: _data, ...inherited } = process.env;
    const env = { ...inherited, CONVKIT_CACHE: join(dir, 'cache'), CONVKIT_DATA_MIRROR: 'http://127.0.0.1:9/' };
    const r = spawnSync(process.execPath, ['snippet.mjs'], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `snippet ${i}:\n${code}\nstderr:\n${r.stderr}`).toBe(0);
  });
});
