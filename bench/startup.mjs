#!/usr/bin/env node
// node bench/startup.mjs [--project DIR] [--node PATH] [--runs N] [--json FILE]
// Wall time of what a user starts most: `convkit --help`, `convkit info` and
// `import('convkit')`, each in a fresh process (median of N), beside `node -e 0`
// as the floor. DIR is a project with convkit installed (default: this
// repository, through its own name). A benchmark, never a test assertion.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const project = resolve(flag('project', '.'));
const node = flag('node', process.execPath);
const runs = Number(flag('runs', '7'));
const cli = join(createRequire(join(project, 'package.json')).resolve('convkit/package.json'), '..', 'dist', 'cli.js');

function median(command) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(node, command, { cwd: project, encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (r.status !== 0) throw new Error(`${command.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return Number(times[runs >> 1].toFixed(3));
}

const result = {
  node: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(),
  project,
  runs,
  seconds: {
    'node -e 0': median(['-e', '0']),
    'convkit --help': median([cli, '--help']),
    'convkit info': median([cli, 'info']),
    "import('convkit')": median(['--input-type=module', '-e', "await import('convkit')"]),
  },
};
for (const [what, s] of Object.entries(result.seconds)) console.log(`${what.padEnd(20)} ${s.toFixed(3)} s`);
const out = flag('json');
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
