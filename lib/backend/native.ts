import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BackendError, ConvkitError, DTypeError, ShapeError } from '../errors.js';
import { GEOMETRY_FIELDS, type WindowGeometry } from './geometry.js';
import type { Backend, ConvChainBlock, ConvChainForwardBlock, ConvChainForwardHead, ConvChainHead } from './backend.js';

const require = createRequire(import.meta.url);

/** What the addon reports about itself. */
export interface NativeInfo {
  isa: string;
  supportedIsas: string[];
  threads: number;
  openmp: boolean;
  compiledIsas: string[];
}

/** What native/cpu.cc's measure_peak found: the current ISA's multiply-add throughput on the current threads. */
export interface PeakMeasurement {
  gflops: number;
  threads: number;
  isa: string;
  flopsPerIteration: number;
}

/** The C++ addon's exports (native/binding.cc). Geometry travels as an Int32Array. */
interface Addon {
  info(): NativeInfo;
  /** Absent from addons built before it existed (CONVKIT_ADDON_PATH may name one). */
  measurePeak?(): PeakMeasurement;
  setIsa(name: string): void;
  setNumThreads(n: number): void;
  setSchedule(name: string): void;
  [kernel: string]: unknown;
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

/** The addon throws TypeError for a wrong kind of argument and RangeError for a wrong size. */
function translate(error: unknown, kernel: string): ConvkitError {
  if (error instanceof ConvkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError) return new DTypeError(`native ${kernel}: ${message}`);
  if (error instanceof RangeError) return new ShapeError(`native ${kernel}: ${message}`);
  return new BackendError(`native ${kernel}: ${message}`);
}

const geometryCache = new WeakMap<WindowGeometry, Int32Array>();

function packGeometry(g: WindowGeometry): Int32Array {
  let packed = geometryCache.get(g);
  if (!packed) {
    packed = Int32Array.from(GEOMETRY_FIELDS, (field) => g[field]);
    geometryCache.set(g, packed);
  }
  return packed;
}

/** Where each windowed kernel takes its geometries (options may follow them). */
const GEOMETRY_ARGS: Record<string, number[]> = {
  conv2d: [4], conv2dBackwardData: [3], conv2dBackwardFilter: [4], conv2dReluPool: [6, 7], conv2dReluPoolBackward: [8, 9],
  maxPool2d: [2], maxPool2dBackward: [3], avgPool2d: [2], avgPool2dBackward: [2],
};

const KERNELS = [
  ...Object.keys(GEOMETRY_ARGS), 'dense', 'denseBackward', 'bytesToFloats',
  'relu', 'reluBackward', 'leakyRelu', 'leakyReluBackward', 'sigmoid', 'sigmoidBackward',
  'tanh', 'tanhBackward', 'softmax', 'softmaxBackward', 'softmaxCrossEntropy', 'sigmoidBinaryCrossEntropy',
  'sgdStep', 'adamStep',
] as const;

/**
 * A chain's blocks as the addon reads them, 9 each: w, b, pooled, cells, dx,
 * dw, db, geometry, pool geometry; in inference (training false), cells and
 * the gradients are null.
 */
function chainBlockArgs(blocks: readonly ConvChainForwardBlock[] | readonly ConvChainBlock[], training: boolean): unknown[] {
  return blocks.flatMap((k) => {
    const t = training ? (k as ConvChainBlock) : null;
    return [k.w, k.b, k.pooled, t?.cells ?? null, t?.dx ?? null, t?.dw ?? null, t?.db ?? null, packGeometry(k.g), packGeometry(k.pg)];
  });
}

/**
 * The native backend: each method forwards to the addon; a geometry becomes
 * an Int32Array (cached per geometry object) as the last argument, and any
 * error the addon raises is rethrown as a ConvkitError from the caller's frame.
 */
export function createNativeBackend(addon: Addon): Backend {
  const backend: Record<string, unknown> = { name: 'native' };
  for (const kernel of KERNELS) {
    const fn = addon[kernel];
    if (typeof fn !== 'function') throw new BackendError(`the native addon lacks the kernel '${kernel}'; rebuild it (npm run build:native)`);
    const call = fn as (...args: unknown[]) => unknown;
    const at = GEOMETRY_ARGS[kernel];
    if (at !== undefined) {
      backend[kernel] = (...args: unknown[]) => {
        for (const i of at) args[i] = packGeometry(args[i] as WindowGeometry);
        try {
          return call(...args);
        } catch (error) {
          throw translate(error, kernel);
        }
      };
    } else {
      backend[kernel] = (...args: unknown[]) => {
        try {
          return call(...args);
        } catch (error) {
          throw translate(error, kernel);
        }
      };
    }
  }
  const chainCall = (kernel: 'convChainForward' | 'convChainTrainPass') => {
    const fn = addon[kernel];
    if (typeof fn !== 'function') throw new BackendError(`the native addon lacks the kernel '${kernel}'; rebuild it (npm run build:native)`);
    return (args: unknown[]) => {
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        throw translate(error, kernel);
      }
    };
  };
  const forwardPass = chainCall('convChainForward');
  backend.convChainForward = (x: Float32Array, classes: number, head: ConvChainForwardHead, blocks: readonly ConvChainForwardBlock[]) => {
    forwardPass([x, classes, head.w, head.b, head.logits, ...chainBlockArgs(blocks, false)]);
  };
  const trainPass = chainCall('convChainTrainPass');
  backend.convChainTrainPass = (
    x: Float32Array, labels: Int32Array, probs: Float32Array, dLogits: Float32Array, classes: number,
    head: ConvChainHead, blocks: readonly ConvChainBlock[],
  ) => trainPass([x, labels, probs, dLogits, classes, head.w, head.b, head.logits, head.dx, head.dw, head.db, ...chainBlockArgs(blocks, true)]) as number;
  return backend as unknown as Backend;
}
