// binding.gyp asks this for the prefix of LLVM's OpenMP runtime on macOS
// (Homebrew's libomp: Apple's clang has OpenMP support but ships no runtime).
// Prints nothing when there is none: the addon then builds without OpenMP and
// runs its kernels on one thread, with the same numbers.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');

const candidates = [process.env.LIBOMP_PREFIX, '/opt/homebrew/opt/libomp', '/usr/local/opt/libomp'];
try {
  candidates.push(execFileSync('brew', ['--prefix', 'libomp'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
} catch {
  // no Homebrew
}
const found = candidates.find((p) => p && existsSync(`${p}/include/omp.h`));
process.stdout.write(found ?? '');
