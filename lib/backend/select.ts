import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { BackendError, ValueError, describe } from '../core/errors.js';
import type { Backend } from './backend.js';
import { type NativeInfo, type PeakMeasurement, loadAddon } from './native.js';
import { createNativeBackend } from './native-backend.js';
import { reference } from './reference.js';
import { VERSION } from '../core/version.js';

/** Which implementation of the kernels runs: the C++ addon or the pure-TypeScript reference. */
export type BackendName = 'native' | 'reference';

let current: Backend | null = null;
let native: Backend | null = null;
let warned = false;
let threads = 0;

function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, { code: 'CONVKIT_NO_NATIVE' });
}

/** The native backend, loading the addon on first use; throws BackendError if it cannot load. */
export function nativeBackend(): Backend {
  if (native === null) {
    const { addon } = loadAddon();
    // The ISA is the process's: a worker thread loading convkit uses it as
    // the main thread chose it. The thread count is each instance's own.
    const isa = isMainThread ? process.env.CONVKIT_ISA : undefined;
    if (isa) {
      try {
        addon.setIsa(isa);
      } catch (error) {
        throw new BackendError(`CONVKIT_ISA=${isa}: ${(error as Error).message}`);
      }
    }
    const algorithm = isMainThread ? process.env.CONVKIT_CONV : undefined;
    if (algorithm) {
      try {
        applyConvAlgorithm(addon, algorithm);
      } catch (error) {
        throw new BackendError(`CONVKIT_CONV=${algorithm}: ${(error as Error).message}`);
      }
    }
    addon.setNumThreads(threads || defaultThreads());
    native = createNativeBackend(addon, addon.info().limits);
  }
  return native;
}

function defaultThreads(): number {
  for (const name of ['CONVKIT_NUM_THREADS', 'OMP_NUM_THREADS']) {
    const value = process.env[name];
    if (value !== undefined && value !== '') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`${name} must be a positive integer, got '${value}'`);
      return n;
    }
  }
  return availableParallelism();
}

function resolveDefault(): Backend {
  const wanted = process.env.CONVKIT_BACKEND;
  if (wanted === 'reference') return reference;
  if (wanted === 'native') return nativeBackend();
  if (wanted !== undefined && wanted !== '' && wanted !== 'auto') {
    throw new BackendError(`CONVKIT_BACKEND must be 'native', 'reference' or 'auto', got '${wanted}'`);
  }
  try {
    return nativeBackend();
  } catch (error) {
    warnOnce(`convkit: ${(error as Error).message}. Running on the reference backend, which is hundreds of times slower; set CONVKIT_BACKEND=reference to choose it quietly or CONVKIT_BACKEND=native to make this an error.`);
    return reference;
  }
}

/** The backend ops run on now: CONVKIT_BACKEND, else native when the addon loads, else reference. */
export function getBackend(): Backend {
  return current ?? (current = resolveDefault());
}

/** Chooses the backend by name (or passes one in, e.g. an instrumented wrapper for tests). */
export function setBackend(backend: BackendName | Backend): Backend {
  if (backend === 'reference') current = reference;
  else if (backend === 'native') current = nativeBackend();
  else if (backend && typeof backend === 'object' && typeof backend.conv2d === 'function') current = backend;
  else throw new ValueError(`setBackend: backend must be 'native' or 'reference', got ${describe(backend)}`);
  return current;
}

/** Sets the native backend's OpenMP thread count (the reference backend is single-threaded). */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new ValueError(`setNumThreads: n must be an integer in [1, 1024], got ${describe(n)}`);
  }
  threads = n;
  if (native !== null) loadAddon().addon.setNumThreads(n);
}

/**
 * The number of threads the native kernels use (setNumThreads, CONVKIT_NUM_THREADS, or the machine's cores).
 * @example
 * ```ts
 * import { getNumThreads, setNumThreads } from 'convkit';
 * setNumThreads(1);
 * console.log(getNumThreads()); // 1
 * ```
 */
export function getNumThreads(): number {
  if (native !== null) return loadAddon().addon.info().threads;
  return threads || defaultThreads();
}

/** Forces an instruction set on the native backend ('avx512' | 'avx2' | 'generic'); for tests and benchmarks. */
export function setIsa(isa: string): void {
  nativeBackend();
  try {
    loadAddon().addon.setIsa(isa);
  } catch (error) {
    throw new BackendError(`setIsa: ${(error as Error).message}`);
  }
}

/**
 * The FP32 multiply-add throughput (GFLOP/s) that the native kernels' current
 * instruction set reaches on this machine with the current thread count:
 * independent FMA chains on the widest vectors, the median of five timed
 * runs (about 0.6 s in all). Benchmarks quote their percentages against it.
 */
export function measurePeak(): PeakMeasurement {
  nativeBackend();
  const { addon } = loadAddon();
  if (typeof addon.measurePeak !== 'function') throw new BackendError('measurePeak: this native addon was built before measurePeak existed; rebuild it (npx convkit build)');
  return addon.measurePeak();
}

/**
 * How the native backend's threads share a batch in a chained training or
 * inference pass: 'balanced' (the default: a thread that finishes its share
 * takes images left in another's, with the same numbers), 'static' (each
 * runs its own share), 'take-first' (every thread starts by taking half of
 * the next share, so that images change hands on every pass). For tests and benchmarks.
 */
export function setSchedule(schedule: 'balanced' | 'static' | 'take-first'): void {
  if (schedule !== 'balanced' && schedule !== 'static' && schedule !== 'take-first') {
    throw new ValueError(`setSchedule: schedule must be 'balanced', 'static' or 'take-first', got ${describe(schedule)}`);
  }
  nativeBackend();
  loadAddon().addon.setSchedule(schedule);
}

/** How the native convolutions choose their algorithm: `auto` (the per-layer table), `fast` (auto plus Winograd weight gradients), `direct` or `winograd` (forced, for debugging and tests). */
export type ConvAlgorithm = 'auto' | 'fast' | 'direct' | 'winograd';
const CONV_ALGORITHMS: readonly ConvAlgorithm[] = ['auto', 'fast', 'direct', 'winograd'];
/** "'auto', 'fast', 'direct' or 'winograd'", for the errors. */
const CONV_ALGORITHM_NAMES = `${CONV_ALGORITHMS.slice(0, -1).map((a) => `'${a}'`).join(', ')} or '${CONV_ALGORITHMS[CONV_ALGORITHMS.length - 1]}'`;

function applyConvAlgorithm(addon: ReturnType<typeof loadAddon>['addon'], algorithm: string): void {
  if (!(CONV_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new ValueError(`the convolution algorithm must be ${CONV_ALGORITHM_NAMES}, got ${describe(algorithm)}`);
  }
  if (typeof addon.setConvAlgorithm !== 'function') {
    if (algorithm === 'auto' || algorithm === 'direct') return; // an addon without Winograd only runs direct
    throw new BackendError('this native addon was built before Winograd convolutions existed; rebuild it (npx convkit build)');
  }
  addon.setConvAlgorithm(algorithm);
}

/**
 * How the native backend runs 3x3 and 5x5 stride-1 convolutions: 'auto' (the
 * default: Winograd F(2x2, 3x3) and F(2x2, 5x5) for the layer shapes and
 * passes where it measured faster than the direct kernels, weight gradients
 * excepted; and the gradients of a convolution followed by ReLU and a
 * max-pool summed over the pooled gradient's entries only), 'fast' (the
 * same with Winograd weight gradients too: faster, but a weight gradient
 * that is exactly zero comes out as rounding noise, which Adam's first step
 * can turn into a move of up to its learning rate), 'direct' (dense direct
 * products only, neither Winograd nor the pooled entries: for debugging and
 * comparison, also CONVKIT_CONV=direct) or 'winograd' (Winograd wherever it
 * applies, no pooled entries). Process-wide, like the instruction set.
 */
export function setConvAlgorithm(algorithm: ConvAlgorithm): void {
  if (typeof algorithm !== 'string' || !(CONV_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new ValueError(`setConvAlgorithm: algorithm must be ${CONV_ALGORITHM_NAMES}, got ${describe(algorithm)}`);
  }
  nativeBackend();
  applyConvAlgorithm(loadAddon().addon, algorithm);
}

/** What `info()` reports: the backend, ISA, threads, OpenMP and where the addon was loaded from. */
export interface Info {
  backend: BackendName;
  nativeAvailable: boolean;
  nativeError?: string;
  isa?: string;
  supportedIsas?: string[];
  compiledIsas?: string[];
  threads: number;
  openmp?: boolean;
  /** How 3x3 and 5x5 stride-1 convolutions run (setConvAlgorithm). */
  convAlgorithm?: string;
  addonPath?: string;
  /** Which binary was loaded: the package's prebuild, a local build (`convkit build`), or CONVKIT_ADDON_PATH. */
  addonSource?: 'prebuild' | 'local build' | 'CONVKIT_ADDON_PATH';
  /** convkit's version. */
  version: string;
  platform: string;
}

/** What convkit runs on: backend, ISA, threads, OpenMP, and where the addon came from. */
export function info(): Info {
  const backend = getBackend().name;
  try {
    nativeBackend();
    const { addon, path, source } = loadAddon();
    const n: NativeInfo = addon.info();
    return {
      backend,
      nativeAvailable: true,
      isa: n.isa,
      supportedIsas: n.supportedIsas,
      compiledIsas: n.compiledIsas,
      threads: backend === 'native' ? n.threads : 1,
      openmp: n.openmp,
      convAlgorithm: n.convAlgorithm ?? 'direct',
      addonPath: path,
      addonSource: source,
      version: VERSION,
      platform: `${process.platform}-${process.arch}`,
    };
  } catch (error) {
    return { backend, nativeAvailable: false, nativeError: (error as Error).message, threads: 1, version: VERSION, platform: `${process.platform}-${process.arch}` };
  }
}
