// `convkit build`: compiles the native addon from the sources shipped in the
// package, for platforms without a prebuilt binary (or to build for this very
// CPU). Installing convkit never compiles: this is the one step that does,
// run by the user when the one-time warning says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConvkitError } from '../core/errors.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** node-gyp's script: a dependency of the project, else the copy every npm ships with. */
function findNodeGyp(): string | null {
  const candidates: string[] = [];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package; try npm's own copy
  }
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c)) ?? null;
}

export function buildCommand(options: { quiet?: boolean } = {}): void {
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    throw new ConvkitError("convkit build: node-gyp was not found (it comes with npm); install it with 'npm install -g node-gyp' and run again");
  }
  const args = [nodeGyp, 'rebuild'];
  // The running Node's own headers, where it has them, so that nothing is downloaded.
  const prefix = dirname(dirname(process.execPath));
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  if (!options.quiet) process.stderr.write(`convkit build: node ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n  in ${packageRoot}\n`);
  const child = spawnSync(process.execPath, args, { cwd: packageRoot, stdio: options.quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (child.status !== 0) {
    const tail = options.quiet ? `\n${(child.stderr ?? '').split('\n').slice(-15).join('\n')}` : '';
    throw new ConvkitError(
      `convkit build: node-gyp failed (exit ${child.status ?? child.signal}); it needs a C++17 compiler, make and python3 ` +
        `(Debian/Ubuntu: apt-get install g++ make python3; macOS: xcode-select --install). convkit still works on the reference backend.${tail}`,
    );
  }
  if (!options.quiet) process.stderr.write(`convkit build: done; ${join(packageRoot, 'build', 'Release', 'convkit.node')} is loaded from now on\n`);
}
