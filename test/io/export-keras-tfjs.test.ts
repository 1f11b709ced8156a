// convkit models written as Keras .h5 files and tfjs LayersModels. Keras 3.15
// and tfjs 4.22 loading them is checked by scripts/peer-exports (they are not
// dependencies); here every export comes back through convkit's importers
// with the same predictions, frozen layers stay frozen, and what Keras cannot
// express is refused by name.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportKerasH5, input, layers, loadKerasModel, loadLayersModel, model, saveLayersModel, sequential, zooModel } from '../../lib/index.js';
import { randomTensor, rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-export-keras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seq = () => sequential([
  layers.conv2d({ filters: 4, kernelSize: 3, padding: 1, activation: 'relu', inputShape: [10, 10, 3] }),
  layers.batchNormalization(),
  layers.maxPool2d({ poolSize: 2 }),
  layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: [2, 1], padding: 'same' }),
  layers.leakyRelu({ alpha: 0.1 }),
  layers.flatten(),
  layers.dropout({ rate: 0.2 }),
  layers.dense({ units: 5, activation: 'softmax' }),
], { seed: 3, name: 'ck_seq' });

function residual() {
  const x = input({ shape: [8, 8, 3] });
  const a = layers.relu().apply(layers.batchNormalization({ epsilon: 1e-5 }).apply(layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(x)));
  const b = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(a);
  const c = layers.globalAvgPool2d().apply(layers.concatenate().apply([layers.add().apply([a, b]), layers.avgPool2d({ poolSize: 1 }).apply(a)]));
  return model({ inputs: x, outputs: layers.dense({ units: 3, activation: 'sigmoid' }).apply(c), seed: 5, name: 'ck_res' });
}

describe('exports to Keras and tfjs', () => {
  for (const [name, make] of [['a Sequential', seq], ['a residual functional model', residual]] as const) {
    it(`${name} comes back from .h5 and from a LayersModel with the same predictions and frozen flags`, async () => {
      const net = make();
      net.layers[0].trainable = false;
      const x = randomTensor(rng(2), [3, ...net.inputShape]);
      const want = net.predict(x).data;
      const h5 = join(dir, `${net.name}.h5`);
      await exportKerasH5(net, h5);
      const written = await saveLayersModel(net, join(dir, `${net.name}-tfjs`));
      for (const back of [await loadKerasModel(h5), await loadLayersModel(written)]) {
        expect(back.predict(x).data).toEqual(want);
        expect(back.layers[0].trainable).toBe(false);
      }
      const json = JSON.parse(readFileSync(written, 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].weights[0]).toEqual({ name: `${net.layers[0].name}/kernel`, shape: [...net.layers[0].parameters()[0].value.shape], dtype: 'float32' });
    });
  }

  it('refuses a layer Keras has no match for and a padding Keras cannot say', async () => {
    await expect(exportKerasH5(zooModel('resnet-20'), join(dir, 'r.h5'))).rejects.toThrow(/Shortcut '.*' has no Keras layer to be written as/);
    const odd = sequential([layers.conv2d({ filters: 2, kernelSize: 3, padding: [0, 2, 1, 1], inputShape: [6, 6, 1] })]);
    await expect(saveLayersModel(odd, join(dir, 'odd'))).rejects.toThrow(/padding \[0,2,1,1\] at input 6×6 is neither Keras's 'same' nor 'valid'/);
  });
});
