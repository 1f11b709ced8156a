// #35 class 6: API misuse gets a one-line ConvkitError saying what was
// expected: a class where an instance is wanted, an empty validation set, a
// model saved or exported before it has weights.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-misuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const built = () => ck.sequential([ck.layers.flatten({ inputShape: [2, 2, 1] }), ck.layers.dense({ units: 2 })]);
const x = ck.tensor(new Float32Array(16), [4, 2, 2, 1]);
const y = Int32Array.from([0, 1, 0, 1]);

async function failure(call: () => unknown): Promise<Error> {
  try {
    await call();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
}

describe('API misuse', () => {
  it('an optimizer class instead of an instance or a name: one line that says so', async () => {
    for (const call of [() => built().fit(x, y, { optimizer: ck.Adam as never, verbose: 0 }), () => built().compile({ optimizer: ck.SGD as never })]) {
      const e = await failure(call);
      expect(e).toBeInstanceOf(ck.ConvkitError);
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).toMatch(/got the class (Adam|SGD) \(a class, not an instance of it\)/);
    }
  });

  it('an empty validation set', async () => {
    const e = await failure(() => built().fit(x, y, { validation: { x: ck.tensor(new Float32Array(0), [0, 2, 2, 1]), y: new Int32Array(0) }, verbose: 0 }));
    expect(e.message).toMatch(/validation.x holds no samples \(shape \[0, 2, 2, 1\]\)/);
  });

  it('saving or exporting a model that was never built', async () => {
    const unbuilt = () => ck.sequential([ck.layers.dense({ units: 2 })], { name: 'later' });
    const calls: [string, () => unknown][] = [
      ['saveModel', () => unbuilt().save(join(dir, 'u.safetensors'))],
      ['exportNpz', () => ck.exportNpz(unbuilt(), join(dir, 'u.npz'))],
      ['exportHdf5', () => ck.exportHdf5(unbuilt(), join(dir, 'u.h5'))],
      ['exportKerasH5', () => ck.exportKerasH5(unbuilt(), join(dir, 'k.h5'))],
      ['saveLayersModel', () => ck.saveLayersModel(unbuilt(), join(dir, 'tfjs'))],
      ['loadTorchStateDict', () => ck.loadTorchStateDict(unbuilt(), join(dir, 'none.safetensors'))],
    ];
    for (const [fn, call] of calls) {
      const e = await failure(call);
      expect(e, fn).toBeInstanceOf(ck.ValueError);
      expect(e.message).toBe(`${fn}: model 'later' is not built, so it has no weights yet; give it an inputShape, call build([h, w, c]) or fit it first`);
    }
  });
});
