// Real data, kept to CI's minutes: mnist-3layer on 10,000 MNIST images for one epoch.
// The full runs (60,000 images, 5 epochs) live in `npm run accuracy`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, zooModel } from '../../lib/index.js';

const dir = process.env.CONVKIT_DATA;
const have = (name: string) => Boolean(dir && existsSync(join(dir, name, 'train-images-idx3-ubyte.gz')));
if (!have('mnist')) console.warn('skipping the MNIST accuracy test: set CONVKIT_DATA to a folder with mnist/ (e.g. ../shared/data)');

describe.skipIf(!have('mnist'))('MNIST (real data)', () => {
  it('mnist-3layer, 1 epoch on 10,000 images, tests above 95%', async () => {
    const ds = await data.loadDataset('mnist', { log: () => {} });
    expect(ds.train.x.shape).toEqual([60000, 28, 28, 1]);
    const n = 10000;
    const x = ds.train.x.reshape([-1]).data.subarray(0, n * 784);
    const { Tensor } = await import('../../lib/core/tensor.js');
    const model = zooModel('mnist-3layer', { seed: 0 });
    await model.fit(new Tensor(x, [n, 28, 28, 1]), ds.train.y.subarray(0, n), { epochs: 1, batchSize: 32, verbose: 0, seed: 0, learningRate: 0.002 });
    const { accuracy } = model.evaluate(ds.test.x, ds.test.y);
    expect(accuracy).toBeGreaterThan(0.95);
  });

  it('cnn-14 on 14x14 images, 1 epoch on 10,000, tests above 85%', async () => {
    const ds = await data.loadDataset('mnist', { log: () => {} });
    const n = 10000;
    const { Tensor } = await import('../../lib/core/tensor.js');
    const small = data.resize(new Tensor(ds.train.x.data.subarray(0, n * 784), [n, 28, 28, 1]), 14, 14);
    const model = zooModel('cnn-14', { seed: 0 });
    await model.fit(small, ds.train.y.subarray(0, n), { epochs: 1, batchSize: 32, verbose: 0, learningRate: 0.005 });
    expect(model.evaluate(data.resize(ds.test.x, 14, 14), ds.test.y).accuracy).toBeGreaterThan(0.85);
  });
});
