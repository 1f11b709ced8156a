// Every JavaScript snippet of the README runs as written: each ```js block is
// saved as an ES module in a fresh folder whose node_modules/convkit is this
// package (so `import ... from 'convkit'` resolves through its exports, as a
// user's would) and run with node. The data comes from the package's own MNIST
// sample: no data directory, and a download mirror that refuses at once.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// The README and every guide in docs/guides: a snippet there cannot rot either.
const pages = ['README.md', ...readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/guides/${f}`)];
const snippets = pages.flatMap((page) => [...readFileSync(join(root, page), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => ({ page, code: m[1] })));

describe('README and guide snippets', () => {
  it('has JavaScript snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
  });

  it('has one in the README', () => {
    expect(snippets.filter((s) => s.page === 'README.md').length).toBeGreaterThanOrEqual(1);
  });

  it.each(snippets.map(({ page, code }, i) => [i + 1, page, code.split('\n').find((l) => l.trim() && !l.startsWith('import'))!, code]))('snippet %i of %s (%s) runs as written', (i, _page, _first, code) => {
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
