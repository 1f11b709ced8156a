import { type BackendName, getBackend, info, setBackend } from '../backend/select.js';
import { ConvkitError } from '../core/errors.js';
import { AvgPool2D, Conv2D, Dense, Flatten, LeakyReLU, MaxPool2D, Sigmoid, Tanh } from '../nn/layers/index.js';
import { createLoss } from '../nn/losses.js';
import { sequential } from './sequential.js';
import type { Model } from './model.js';
import { Adam, SGD } from '../optim/optimizers.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { zooModel } from './zoo.js';

/**
 * A quick check that the native kernels on this machine compute what the
 * reference backend computes: for a few networks (the zoo's, which take the
 * fused one-call passes, and one that runs layer by layer through every
 * other op), the same seeded batch goes through inference, a training pass
 * (loss, logits, every gradient) and an SGD-with-momentum and an Adam step
 * on each backend. It is what a user runs on a new platform (`convkit
 * selftest`) and what CI runs on Node versions and architectures where the
 * vitest suite cannot (under emulation); the suite's conformance tests are
 * the thorough version.
 */
export interface SelfTestCase {
  name: string;
  /** The largest difference found, over the tolerance it had: at most 1 passes. */
  worst: number;
  where: string;
  ok: boolean;
}

/** What `selfTest` found: each case's error against the reference, and whether all passed. */
export interface SelfTestResult {
  ok: boolean;
  backend: string;
  isa?: string;
  threads: number;
  cases: SelfTestCase[];
}

/** A network that takes the layer-by-layer path and every op the fused passes skip. */
function everyOpNet(seed: number): Model {
  return sequential(
    [
      new Conv2D({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same' }), new Tanh(), new AvgPool2D({ poolSize: 2, strides: 1 }),
      new Conv2D({ filters: 7, kernelSize: 3, padding: 1 }), new LeakyReLU({ alpha: 0.1 }), new MaxPool2D({ poolSize: 3, strides: 2, padding: 1 }),
      new Flatten(), new Dense({ units: 9 }), new Sigmoid(), new Dense({ units: 4 }),
    ],
    { inputShape: [13, 11, 2], seed, name: 'every-op' },
  );
}

const NETS: { name: string; build: (seed: number) => Model; batch: number }[] = [
  { name: 'mnist-3layer', build: (seed) => zooModel('mnist-3layer', { seed }), batch: 9 },
  { name: 'mnist-2layer', build: (seed) => zooModel('mnist-2layer', { seed }), batch: 5 },
  { name: 'xray-binary', build: (seed) => zooModel('xray-binary', { seed }), batch: 6 },
  { name: 'every-op', build: everyOpNet, batch: 7 },
];

interface Outputs {
  [key: string]: Float32Array | number;
}

/** One network's numbers on the backend now selected. */
function run(build: (seed: number) => Model, batch: number): Outputs {
  const model = build(7);
  const random = new Random(11);
  const x = new Tensor(Float32Array.from({ length: batch * model.inputShape.reduce((a, b) => a * b, 1) }, () => random.next()), [batch, ...model.inputShape]);
  const classes = model.outputUnits === 1 ? 2 : model.outputUnits;
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % classes);
  const out: Outputs = {};
  out.inference = model.predictLogits(x).data.slice();
  const loss = createLoss(undefined, model.outputUnits);
  const pass = model.trainPass(x, labels, loss);
  out.loss = pass.loss;
  out.logits = pass.logits.data.slice();
  for (const p of model.parameters()) out[`d ${p.name}`] = p.grad.data.slice();
  new SGD({ learningRate: 0.1, momentum: 0.9 }).step(model.parameters());
  for (const p of model.parameters()) out[`SGD ${p.name}`] = p.value.data.slice();
  model.trainPass(x, labels, loss);
  new Adam({ learningRate: 0.01 }).step(model.parameters());
  for (const p of model.parameters()) out[`Adam ${p.name}`] = p.value.data.slice();
  return out;
}

/**
 * Each value may differ by REL of the largest magnitude of its array (float32
 * sums in another order; gradients of a whole batch are sums of hundreds of terms).
 */
const REL = 1e-4;

function compare(name: string, reference: Outputs, native: Outputs): SelfTestCase {
  let worst = 0;
  let where = '';
  for (const key of Object.keys(reference)) {
    const r = reference[key];
    const n = native[key];
    const rs = typeof r === 'number' ? [r] : r;
    const ns = typeof n === 'number' ? [n] : n;
    let scale = 0;
    for (const v of rs) scale = Math.max(scale, Math.abs(v));
    const tolerance = REL * scale + 1e-12;
    for (let i = 0; i < rs.length; i++) {
      const ratio = Number.isFinite(ns[i]) ? Math.abs(ns[i] - rs[i]) / tolerance : Infinity;
      if (!(ratio <= worst)) {
        worst = ratio;
        where = `${key}[${i}]: native ${ns[i]}, reference ${rs[i]}`;
      }
    }
  }
  return { name, worst, where, ok: worst <= 1 };
}

/** Runs the self-test; the backend selected before it is selected again after. */
export function selfTest(): SelfTestResult {
  const before = getBackend();
  const natives = info();
  if (!natives.nativeAvailable) throw new ConvkitError(`selfTest: the native backend is not available: ${natives.nativeError}`);
  const cases: SelfTestCase[] = [];
  try {
    for (const net of NETS) {
      const outputs = (['reference', 'native'] as BackendName[]).map((backend) => {
        setBackend(backend);
        return run(net.build, net.batch);
      });
      cases.push(compare(net.name, outputs[0], outputs[1]));
    }
  } finally {
    setBackend(before);
  }
  setBackend('native');
  const now = info();
  setBackend(before);
  return { ok: cases.every((c) => c.ok), backend: 'native', isa: now.isa, threads: now.threads, cases };
}
