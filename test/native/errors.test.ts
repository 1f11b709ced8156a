// Bad input that reaches a native entry point ends in a ConvkitError, never
// a crash or an out-of-bounds access; the process stays healthy afterwards.
// The binding re-derives every size from the geometry, so even a forged
// geometry or a wrong buffer is refused before a kernel runs.
import { describe, expect, it } from 'vitest';
import type { ConvChainBlock, ConvChainHead } from '../../lib/backend/backend.js';
import { loadAddon } from '../../lib/backend/native.js';
import { nativeBackend } from '../../lib/backend/select.js';
import { ConvkitError, DTypeError, ShapeError } from '../../lib/core/errors.js';
import { GEOMETRY_FIELDS, type WindowGeometry, conv2dGeometry, pool2dGeometry } from '../../lib/ops/geometry.js';
import { skipNative } from '../helpers/backends.js';

const f = (n: number) => new Float32Array(n);

function expectConvkitError(call: () => unknown, kind: typeof ConvkitError, message: RegExp): void {
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ConvkitError').toBeInstanceOf(kind);
  expect((thrown as Error).message).toMatch(message);
}

describe.skipIf(skipNative)('native entry points refuse bad input', () => {
  const nb = skipNative ? (null as never) : nativeBackend();
  const g = conv2dGeometry([2, 5, 5, 3], [3, 3, 3, 4], { padding: 1 }); // y [2, 5, 5, 4]
  const p = pool2dGeometry([2, 4, 4, 3], { kernel: 2 }, 'test'); // y [2, 2, 2, 3]
  const forged = (over: Partial<WindowGeometry>): WindowGeometry => ({ ...g, ...over });
  const huge: WindowGeometry = { ...g, batch: 1 << 20, inH: 1 << 12, inW: 1 << 12, outH: 1 << 12, outW: 1 << 12 };

  // A one-block chain: conv [2, 5, 5, 3] → [2, 5, 5, 4], pool 2 → [2, 2, 2, 4], dense 16 → 3.
  const block = (): ConvChainBlock => ({
    w: f(108), b: null, pooled: f(32), cells: new Uint8Array(32), dx: null, dw: f(108), db: null, g, pg: pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test'),
  });
  const head = (): ConvChainHead => ({ w: f(48), b: null, logits: f(6), dx: f(32), dw: f(48), db: null });
  const chainPass = (over: { labels?: Int32Array; head?: ConvChainHead; blocks?: ConvChainBlock[] }) =>
    nb.convChainTrainPass(over.blocks ?? [block()], over.head ?? head(), f(6), f(6), f(150), over.labels ?? Int32Array.from([0, 2]), 3);

  const cases: [string, () => unknown, typeof ConvkitError, RegExp][] = [
    ['conv2d short x', () => nb.conv2d(f(200), f(10), f(108), null, g), ShapeError, /x has 10 elements, expected 150/],
    ['conv2d short y', () => nb.conv2d(f(199), f(150), f(108), null, g), ShapeError, /y has 199 elements, expected 200/],
    ['conv2d wrong bias', () => nb.conv2d(f(200), f(150), f(108), f(3), g), ShapeError, /b has 3 elements, expected 4/],
    ['conv2d Float64Array', () => nb.conv2d(f(200), new Float64Array(150) as never, f(108), null, g), DTypeError, /x must be a Float32Array/],
    ['conv2d forged output size', () => nb.conv2d(f(2 * 9 * 9 * 4), f(150), f(108), null, forged({ outH: 9, outW: 9 })), ShapeError, /output size does not follow/],
    ['conv2d negative padding', () => nb.conv2d(f(200), f(150), f(108), null, forged({ padTop: -1 })), ShapeError, /negative or zero size/],
    ['conv2d huge sizes', () => nb.conv2d(f(200), f(150), f(108), null, huge), ShapeError, /more than 2\^31-1 elements/],
    ['conv2dBackwardData short dx', () => nb.conv2dBackwardData(f(149), f(200), f(108), g), ShapeError, /dx has 149 elements, expected 150/],
    ['conv2dBackwardData not an array', () => nb.conv2dBackwardData(f(150), [1, 2] as never, f(108), g), DTypeError, /dy must be a Float32Array/],
    ['conv2dBackwardFilter short dw', () => nb.conv2dBackwardFilter(f(100), null, f(200), f(150), g), ShapeError, /dw has 100 elements, expected 108/],
    ['conv2dBackwardFilter wrong db', () => nb.conv2dBackwardFilter(f(108), f(5), f(200), f(150), g), ShapeError, /db has 5 elements, expected 4/],
    ['conv2dReluPool short pooled', () => nb.conv2dReluPool(f(200), f(31), null, f(150), f(108), null, g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), ShapeError, /pooled has 31 elements, expected 32/],
    ['conv2dReluPool pool not over the conv output', () => nb.conv2dReluPool(f(200), f(32), null, f(150), f(108), null, g, pool2dGeometry([2, 4, 4, 4], { kernel: 2 }, 'test')), ShapeError, /poolGeometry must pool the convolution's output/],
    ['conv2dReluPool short cells', () => nb.conv2dReluPool(null, f(32), new Uint8Array(31), f(150), f(108), null, g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), ShapeError, /cells has 31 elements, expected 32/],
    ['conv2dReluPool cells as floats', () => nb.conv2dReluPool(null, f(32), f(32) as never, f(150), f(108), null, g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), DTypeError, /cells must be a Uint8Array/],
    ['conv2dReluPool cells of overlapping windows', () => nb.conv2dReluPool(null, f(2 * 4 * 4 * 4), new Uint8Array(2 * 4 * 4 * 4), f(150), f(108), null, g, pool2dGeometry([2, 5, 5, 4], { kernel: 2, stride: 1 }, 'test')), ShapeError, /needs windows that tile/],
    ['conv2dReluPoolBackward pool not over the conv output', () => nb.conv2dReluPoolBackward(null, f(108), null, f(2 * 2 * 2 * 4), f(150), f(108), f(32), new Uint8Array(32), g, pool2dGeometry([2, 4, 4, 4], { kernel: 2 }, 'test')), ShapeError, /poolGeometry must pool the convolution's output/],
    ['conv2dReluPoolBackward overlapping windows', () => nb.conv2dReluPoolBackward(null, f(108), null, f(2 * 4 * 4 * 4), f(150), f(108), f(128), new Uint8Array(128), g, pool2dGeometry([2, 5, 5, 4], { kernel: 2, stride: 1 }, 'test')), ShapeError, /needs windows that tile/],
    ['conv2dReluPoolBackward short pooled', () => nb.conv2dReluPoolBackward(null, f(108), null, f(32), f(150), f(108), f(31), new Uint8Array(32), g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), ShapeError, /pooled has 31 elements, expected 32/],
    ['conv2dReluPoolBackward missing cells', () => nb.conv2dReluPoolBackward(null, f(108), null, f(32), f(150), f(108), f(32), null as never, g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), DTypeError, /cells must be a Uint8Array/],
    ['conv2dReluPoolBackward short cells', () => nb.conv2dReluPoolBackward(null, f(108), null, f(32), f(150), f(108), f(32), new Uint8Array(33), g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), ShapeError, /cells has 33 elements, expected 32/],
    ['conv2dReluPoolBackward short dx', () => nb.conv2dReluPoolBackward(f(3), f(108), null, f(32), f(150), f(108), f(32), new Uint8Array(32), g, pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test')), ShapeError, /dx has 3 elements, expected 150/],
    ['maxPool2d short y', () => nb.maxPool2d(f(23), f(96), p), ShapeError, /y has 23 elements, expected 24/],
    ['maxPool2d forged channels', () => nb.maxPool2d(f(32), f(96), { ...p, outC: 4 }), ShapeError, /pooling needs out_c == in_c/],
    ['maxPool2dBackward short x', () => nb.maxPool2dBackward(f(96), f(24), f(95), p), ShapeError, /x has 95 elements, expected 96/],
    ['avgPool2d huge', () => nb.avgPool2d(f(24), f(96), { ...p, batch: 1 << 30 }), ShapeError, /more than 2\^31-1 elements/],
    ['avgPool2dBackward short dx', () => nb.avgPool2dBackward(f(1), f(24), p), ShapeError, /dx has 1 elements, expected 96/],
    ['dense short w', () => nb.dense(f(6), f(12), f(17), null, 2, 6, 3), ShapeError, /w has 17 elements, expected 18/],
    ['dense negative rows', () => nb.dense(f(6), f(12), f(18), null, -2, 6, 3), ShapeError, /rows must be an integer in \[0, 2147483647\]/],
    ['dense huge', () => nb.dense(f(6), f(12), f(18), null, 1 << 30, 1 << 30, 3), ShapeError, /more than 2\^31-1 elements/],
    ['denseBackward short dx', () => nb.denseBackward(f(11), f(18), f(3), f(6), f(12), f(18), 2, 6, 3), ShapeError, /dx has 11 elements, expected 12/],
    ['bytesToFloats short y', () => nb.bytesToFloats(f(9), new Uint8Array(10), 255), ShapeError, /y has 9 elements, expected 10/],
    ['bytesToFloats floats in', () => nb.bytesToFloats(f(10), f(10) as never, 255), DTypeError, /x must be a Uint8Array/],
    ['bytesToFloats zero divisor', () => nb.bytesToFloats(f(10), new Uint8Array(10), 0), ShapeError, /divisor must not be 0/],
    ['relu short y', () => nb.relu(f(9), f(10)), ShapeError, /y has 9 elements, expected 10/],
    ['reluBackward short x', () => nb.reluBackward(f(10), f(10), f(9)), ShapeError, /has 9 elements, expected 10/],
    ['leakyRelu NaN alpha', () => nb.leakyRelu(f(10), f(10), Number.NaN), ShapeError, /alpha must be finite/],
    ['leakyReluBackward short dx', () => nb.leakyReluBackward(f(3), f(10), f(10), 0.1), ShapeError, /dx has 3 elements/],
    ['sigmoid string', () => nb.sigmoid(f(10), 'x' as never), DTypeError, /x must be a Float32Array/],
    ['sigmoidBackward short', () => nb.sigmoidBackward(f(1), f(10), f(10)), ShapeError, /dx has 1 elements/],
    ['tanh short', () => nb.tanh(f(11), f(10)), ShapeError, /y has 11 elements/],
    ['tanhBackward short', () => nb.tanhBackward(f(10), f(10), f(2)), ShapeError, /has 2 elements/],
    ['softmax cols', () => nb.softmax(f(10), f(10), 3, 4), ShapeError, /x has 10 elements, expected 12/],
    ['softmaxBackward zero cols', () => nb.softmaxBackward(f(10), f(10), f(10), 10, 0), ShapeError, /cols must be an integer in \[1/],
    ['softmaxCrossEntropy label out of range', () => nb.softmaxCrossEntropy(f(6), f(6), f(6), Int32Array.from([0, 3]), 2, 3), ShapeError, /labels\[1\] = 3 is outside \[0, 3\)/],
    ['softmaxCrossEntropy negative label', () => nb.softmaxCrossEntropy(f(6), f(6), f(6), Int32Array.from([-1, 0]), 2, 3), ShapeError, /labels\[0\] = -1/],
    ['softmaxCrossEntropy label dtype', () => nb.softmaxCrossEntropy(f(6), f(6), f(6), new Uint8Array(2) as never, 2, 3), DTypeError, /labels must be an Int32Array/],
    ['convChainTrainPass no blocks', () => chainPass({ blocks: [] }), DTypeError, /takes 11 arguments and 9 for each of 1 to 16 blocks, got 11/],
    ['convChainTrainPass label out of range', () => chainPass({ labels: Int32Array.from([0, 3]) }), ShapeError, /labels\[1\] = 3 is outside \[0, 3\)/],
    ['convChainTrainPass first block dx', () => chainPass({ blocks: [{ ...block(), dx: f(150) }] }), DTypeError, /blocks\[0\]\.dx must be null/],
    ['convChainTrainPass short pooled', () => chainPass({ blocks: [{ ...block(), pooled: f(31) }] }), ShapeError, /blocks\[0\]\.pooled has 31 elements, expected 32/],
    ['convChainTrainPass short cells', () => chainPass({ blocks: [{ ...block(), cells: new Uint8Array(3) }] }), ShapeError, /blocks\[0\]\.cells has 3 elements, expected 32/],
    ['convChainTrainPass overlapping windows', () => chainPass({ blocks: [{ ...block(), pooled: f(128), cells: new Uint8Array(128), pg: pool2dGeometry([2, 5, 5, 4], { kernel: 2, stride: 1 }, 'test') }] }), ShapeError, /blocks\[0\]\.poolGeometry: windows must tile/],
    ['convChainTrainPass unchained blocks', () => chainPass({ blocks: [block(), { ...block(), dx: f(150) }] }), ShapeError, /blocks\[1\]\.geometry must read the previous block's pooled output/],
    ['convChainTrainPass short headDx', () => chainPass({ head: { ...head(), dx: f(31) } }), ShapeError, /headDx has 31 elements, expected 32/],
    ['convChainTrainPass wrong head weights', () => chainPass({ head: { ...head(), w: f(47) } }), ShapeError, /headW has 47 elements, expected 48/],
    ['convChainForward short logits', () => nb.convChainForward([block()], { ...head(), logits: f(5) }, f(150), 3), ShapeError, /logits has 5 elements, expected 6/],
    ['convChainForward short x', () => nb.convChainForward([block()], head(), f(149), 3), ShapeError, /x has 149 elements, expected 150/],
    ['sigmoidBinaryCrossEntropy empty', () => nb.sigmoidBinaryCrossEntropy(f(0), f(0), f(0)), ShapeError, /logits must not be empty/],
    ['sgdStep short grad', () => nb.sgdStep(f(10), null, f(9), 0.1, 0, 0), ShapeError, /grad has 9 elements/],
    ['sgdStep infinite lr', () => nb.sgdStep(f(10), null, f(10), Infinity, 0, 0), ShapeError, /lr must be finite/],
    ['adamStep short v', () => nb.adamStep(f(10), f(10), f(2), f(10), 1e-3, 0.9, 0.999, 1e-8, 1, 0), ShapeError, /v has 2 elements/],
    ['adamStep step 0', () => nb.adamStep(f(10), f(10), f(10), f(10), 1e-3, 0.9, 0.999, 1e-8, 0, 0), ShapeError, /step must be an integer/],
  ];

  it.each(cases)('%s', (_label, call, kind, message) => {
    expectConvkitError(call, kind, message);
  });

  it('refuses a wrong argument count and a geometry that is not an Int32Array', () => {
    expect(() => (loadAddon().addon.relu as (...a: unknown[]) => void)(f(1))).toThrow(/takes 2 arguments, got 1/);
  });

  it('refuses gradient buffers in an inference chain (the backend never passes them; the addon checks anyway)', () => {
    const raw = loadAddon().addon.convChainForward as (...args: unknown[]) => void;
    const packed = (geometry: WindowGeometry) => Int32Array.from(GEOMETRY_FIELDS, (k) => geometry[k]);
    const pg = pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test');
    const args = (dw: Float32Array | null) => [f(6), f(150), f(48), null, 3, f(32), null, null, dw, null, f(108), null, packed(g), packed(pg)];
    expect(() => raw(...args(f(108)))).toThrow(/blocks\[0\]\.dx, dw and db must be null: inference writes no gradients/);
    expect(() => raw(...args(null).slice(0, 13))).toThrow(/convChainForward takes 5 arguments and 9 for each of 1 to 16 blocks, got 13/);
    raw(...args(null));
  });

  it('writes zero gradients for an empty batch (no thread runs, nothing stale is summed)', () => {
    const g0 = conv2dGeometry([0, 4, 4, 2], [3, 3, 2, 4], { padding: 1 });
    const pg0 = pool2dGeometry([0, 4, 4, 4], { kernel: 2 }, 'test');
    const pg = pool2dGeometry([2, 5, 5, 4], { kernel: 2 }, 'test');
    for (let run = 0; run < 2; run++) {
      // A real batch first leaves its partial sums in the per-thread scratch.
      nb.conv2dReluPoolBackward(null, f(108), f(4), f(32).fill(1), f(150).fill(1), f(108).fill(1), f(32).fill(1), new Uint8Array(32), g, pg);
      nb.conv2dBackwardFilter(f(108), f(4), f(200).fill(1), f(150).fill(1), g);
      const dw = f(72).fill(7);
      const db = f(4).fill(7);
      nb.conv2dReluPoolBackward(null, dw, db, f(0), f(0), f(72).fill(1), f(0), new Uint8Array(0), g0, pg0);
      expect(Array.from(dw).concat(Array.from(db)).every((v) => v === 0)).toBe(true);
      dw.fill(7);
      db.fill(7);
      nb.conv2dBackwardFilter(dw, db, f(0), f(0), g0);
      expect(Array.from(dw).concat(Array.from(db)).every((v) => v === 0)).toBe(true);
    }
  });

  it('runs a valid one-block chain', () => {
    const loss = chainPass({});
    expect(loss).toBeCloseTo(Math.log(3), 6); // zero weights: uniform probabilities
    const logits = f(6).fill(Number.NaN);
    nb.convChainForward([block()], { ...head(), logits }, f(150), 3);
    expect(Array.from(logits)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('still computes correctly after every refusal', () => {
    const y = f(200);
    nb.conv2d(y, f(150).fill(1), f(108).fill(1), null, g);
    expect(y[0]).toBe(12); // corner pixel: 2x2 valid taps x 3 channels
    expect(y[(1 * 5 + 1) * 4]).toBe(27); // interior pixel (1, 1): 3x3 taps x 3 channels
  });
});
