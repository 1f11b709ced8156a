// No TypeError or RangeError from inside convkit reaches a user: every public
// function, called with each of a set of wrong arguments (missing, null,
// numbers, strings, objects, arrays, functions, symbols, bigints, typed
// arrays, tensors of the wrong shape), either works or throws a ConvkitError
// naming what was wrong.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../lib/index.js';

const bad: unknown[] = [undefined, null, 0, -1, NaN, 'x', {}, [], [1, 2], () => 1, Symbol('s'), 10n, new Float32Array(3), ck.zeros([1, 2, 2, 1])];
type Probe = (a: unknown, b: unknown) => unknown;

function targets(): Record<string, Probe> {
  const m = ck.zooModel('mlp-30');
  const dir = mkdtempSync(join(tmpdir(), 'raw-'));
  const call = (f: unknown) => f as (...args: unknown[]) => unknown;
  // A string that names a file is taken inside the test's folder: nothing is written where the tests run.
  const inDir = (a: unknown) => (typeof a === 'string' ? join(dir, a) : a);
  const out: Record<string, Probe> = {};
  for (const [k, f] of Object.entries(ck.ops)) if (typeof f === 'function') out[`ops.${k}`] = (a, b) => call(f)(a, b);
  for (const [k, f] of Object.entries(ck.layers)) {
    if (typeof f !== 'function' || k === 'Layer' || k === 'Buffers') continue;
    out[`layers.${k}`] = /^[A-Z]/.test(k) ? (a) => new (f as new (o: unknown) => unknown)(a) : (a, b) => call(f)(a, b);
  }
  for (const [k, f] of Object.entries(ck.data)) {
    if (typeof f !== 'function' || k === 'BatchGatherer' || k === 'StandardScaler' || k === 'loadDataset') continue;
    out[`data.${k}`] = (a, b) => {
      const r = call(f)(a, b) as { next?: () => unknown } | undefined;
      if (r && typeof r.next === 'function') r.next();
      return r;
    };
  }
  for (const [k, f] of Object.entries(ck.metrics)) if (typeof f === 'function') out[`metrics.${k}`] = (a, b) => call(f)(a, b);
  Object.assign(out, {
    tensor: (a, b) => ck.tensor(a as never, b as never), zeros: (a) => ck.zeros(a as never), full: (a, b) => ck.full(a as never, b as never), fromNested: (a) => ck.fromNested(a),
    sequential: (a, b) => ck.sequential(a as never, b as never), zooModel: (a, b) => ck.zooModel(a as never, b as never), modelFromConfig: (a) => ck.modelFromConfig(a as never),
    SGD: (a) => new ck.SGD(a as never), Adam: (a) => new ck.Adam(a as never), stepDecay: (a) => ck.stepDecay(a as never), cosineDecay: (a) => ck.cosineDecay(a as never),
    createOptimizer: (a, b) => ck.createOptimizer(a as never, b as never), createLoss: (a, b) => ck.createLoss(a as never, b as never),
    loadModel: (a) => ck.loadModel(a as never), saveModel: (a) => ck.saveModel(a as never, join(dir, 'm.safetensors')),
    'model.fit': (a, b) => m.fit(a as never, b as never, { verbose: 0 }), 'model.evaluate': (a, b) => m.evaluate(a as never, b as never),
    'model.predict': (a, b) => m.predict(a as never, b as never), 'model.predictClasses': (a, b) => m.predictClasses(a as never, b as never),
    'model.trainPass': (a, b) => m.trainPass(a as never, b as never), 'model.forward': (a, b) => m.forward(a as never, b as never),
    'model.loadStateDict': (a, b) => m.loadStateDict(a as never, b as never), 'model.save': (a) => m.save(inDir(a) as never),
    exportNpz: (a, b) => ck.exportNpz(m, inDir(a) as never, b as never), importNpz: (a, b) => ck.importNpz(m, inDir(a) as never, b as never),
    exportOnnx: (a) => ck.exportOnnx(a as never, join(dir, 'm.onnx')), encodeOnnx: (a) => ck.encodeOnnx(a as never),
    setNumThreads: (a) => ck.setNumThreads(a as never), setAllocationLimit: (a) => ck.setAllocationLimit(a as never),
    modelCheckpoint: (a, b) => ck.modelCheckpoint(a as never, b as never), classActivationMap: (a, b) => ck.classActivationMap(m, a as never, b as never),
    writeSafetensors: (a, b) => ck.writeSafetensors(inDir(a) as never, b as never), parseSafetensors: (a) => ck.parseSafetensors(a as never),
  } satisfies Record<string, Probe>);
  return out;
}

describe('wrong arguments to any public function', () => {
  it('throw ConvkitErrors only', async () => {
    const leaks = new Set<string>();
    const limit = ck.getAllocationLimit();
    try {
      for (const [name, fn] of Object.entries(targets())) {
        for (const a of bad) {
          for (const b of [undefined, ...bad.slice(0, 8)]) {
            try {
              await fn(a, b);
            } catch (error) {
              if (!(error instanceof ck.ConvkitError)) leaks.add(`${name}(${String(a)}, ${String(b)}): ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
            }
          }
        }
      }
    } finally {
      ck.setAllocationLimit(limit);
    }
    expect([...new Set([...leaks].map((l) => l.replace(/\(.*?\): /, ": ")))].slice(0, 40)).toEqual([]);
  });
});
