// Finding and loading the C++ addon (native-backend.ts wraps its kernels as a Backend).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../core/errors.js';
import type { AddonKernels } from './native-backend.js';

const require = createRequire(import.meta.url);

/** What the addon reports about itself. */
export interface NativeInfo {
  isa: string;
  supportedIsas: string[];
  threads: number;
  openmp: boolean;
  compiledIsas: string[];
  /** How 3x3 and 5x5 stride-1 convolutions run: 'auto' (Winograd where it measured faster), 'fast', 'direct' or 'winograd' (absent from older addons). */
  convAlgorithm?: string;
  /** Numbers the TypeScript side must agree with (absent from addons built before they were reported). */
  limits?: { geometryFields: number; maxTiledPoolWindow: number; maxChainBlocks: number };
}

/** What native/cpu.cc's measure_peak found: the current ISA's multiply-add throughput on the current threads. */
export interface PeakMeasurement {
  gflops: number;
  threads: number;
  isa: string;
  flopsPerIteration: number;
}

/** The C++ addon's exports (native/binding/exports.cc): the runtime's controls and the kernels. */
export interface Addon extends AddonKernels {
  info(): NativeInfo;
  /** Absent from addons built before it existed (CONVKIT_ADDON_PATH may name one). */
  measurePeak?(): PeakMeasurement;
  setIsa(name: string): void;
  setNumThreads(n: number): void;
  setSchedule(name: string): void;
  /** Absent from addons built before Winograd. */
  setConvAlgorithm?(name: string): void;
}

export interface LoadedAddon {
  addon: Addon;
  path: string;
  /** Which binary this is: shipped in the package, compiled on this machine, or named by CONVKIT_ADDON_PATH. */
  source: 'prebuild' | 'local build' | 'CONVKIT_ADDON_PATH';
}

let loaded: LoadedAddon | Error | null = null;

/** The package root: two levels above this file in both lib/ and dist/. */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Loads the addon once: CONVKIT_ADDON_PATH if set (a debug or sanitizer
 * build), else a prebuild matching this platform, else build/Release.
 */
export function loadAddon(): LoadedAddon {
  if (loaded === null) {
    // libgomp reads this when the addon loads it. Its default spin (300,000
    // iterations) keeps an idle worker burning a core long after each kernel,
    // starving Node's own GC and compiler threads on small machines: measured
    // on 2 cores, mnist-3layer training swung between 2,200 and 10,000 img/s;
    // with 30,000 it holds at about 10,000. A user's own setting wins.
    if (process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined) {
      process.env.GOMP_SPINCOUNT = '30000';
    }
    try {
      const explicit = process.env.CONVKIT_ADDON_PATH;
      let path: string;
      if (explicit) path = explicit;
      else {
        const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
        path = nodeGypBuild.resolve(packageRoot);
      }
      const source = explicit ? 'CONVKIT_ADDON_PATH' : /[\\/]prebuilds[\\/]/.test(path) ? 'prebuild' : 'local build';
      loaded = { addon: require(path) as Addon, path, source };
    } catch (error) {
      loaded = error instanceof Error ? error : new Error(String(error));
    }
  }
  if (loaded instanceof Error) {
    throw new BackendError(`the native addon could not be loaded: ${firstLine(loaded.message)}${remedy(loaded.message)}`);
  }
  return loaded;
}

/** What the user can do about a load failure, from its message. */
export function remedy(message: string): string {
  const platform = `${process.platform}-${process.arch}`;
  const missingLib = /(lib[\w+-]+\.so[.\d]*): cannot open shared object file/.exec(message);
  if (missingLib) {
    const hint = missingLib[1].startsWith('libgomp')
      ? 'the GNU OpenMP runtime (Debian/Ubuntu: apt-get install libgomp1; Fedora/RHEL: dnf install libgomp; Alpine: apk add libgomp)'
      : `the system library ${missingLib[1]}`;
    return ` (the prebuilt binary for ${platform} needs ${hint})`;
  }
  if (/No native build was found/.test(message)) {
    const libc = /libc=(\w+)/.exec(message)?.[1];
    const target = process.platform === 'linux' && libc ? `${platform} with ${libc}` : platform;
    return ` (no prebuilt binary for ${target} was found: convkit ships them for linux-x64 and linux-arm64 with glibc; 'npx convkit build' compiles one, with a C++17 compiler, make and python3)`;
  }
  if (/GLIBC_[\d.]+' not found|GLIBCXX_[\d.]+' not found/.test(message)) {
    return ` (this system's C or C++ runtime is older than the prebuilt binary needs; 'npx convkit build' compiles one for it)`;
  }
  return " ('npx convkit build' recompiles it)";
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
