// Class activation maps: shape and errors on synthetic data, and on a real
// trained mnist-gap the map's mass lies on the digit's pixels, not on a constant.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as index from '../../lib/index.js';
import { data, Tensor, ValueError, zooModel } from '../../lib/index.js';
import { classActivationMap, gradCam } from '../../lib/viz/cam.js';
import { rng } from '../helpers/random.js';

describe('classActivationMap', () => {
  it('returns a map at input resolution and refuses models without GlobalAvgPool2D → Dense', () => {
    const model = zooModel('mnist-gap', { seed: 1 });
    const image = new Tensor(new Float32Array(784).fill(0.5), [28, 28, 1]);
    const map = classActivationMap(model, image, 3);
    expect(map.shape).toEqual([28, 28]);
    expect(() => classActivationMap(zooModel('mnist-3layer'), image, 3)).toThrow(/must end in convolutions → GlobalAvgPool2D → Dense/);
    expect(() => classActivationMap(model, image, 10)).toThrow(ValueError);
    expect(() => classActivationMap(model, new Tensor(new Float32Array(196), [14, 14, 1]), 0)).toThrow(/x.shape must be \[samples, 28, 28, 1\]/);
  });

  const dir = process.env.CONVKIT_DATA;
  const have = Boolean(dir && existsSync(join(dir, 'mnist', 'train-images-idx3-ubyte.gz')));
  if (!have) console.warn('skipping the CAM sanity test on MNIST: set CONVKIT_DATA to a folder with mnist/');

  it.skipIf(!have)('puts a trained mnist-gap model\'s map on the digit more than on the background', async () => {
    const mnist = await data.loadDataset('mnist', { log: () => {} });
    const n = 10000;
    const model = zooModel('mnist-gap', { seed: 0 });
    await model.fit(new Tensor(mnist.train.x.data.subarray(0, n * 784), [n, 28, 28, 1]), mnist.train.y.subarray(0, n), { epochs: 2, batchSize: 32, learningRate: 0.003, verbose: 0 });
    expect(model.evaluate(mnist.test.x, mnist.test.y).accuracy).toBeGreaterThan(0.85);
    const count = 200;
    let wins = 0;
    let massOnDigit = 0;
    let digitArea = 0;
    for (let i = 0; i < count; i++) {
      const pixels = mnist.test.x.data.subarray(i * 784, (i + 1) * 784);
      const map = classActivationMap(model, new Tensor(pixels, [28, 28, 1]), mnist.test.y[i]).data;
      let digit = 0, digitN = 0, back = 0, backN = 0, positive = 0, positiveOnDigit = 0;
      for (let p = 0; p < 784; p++) {
        const onDigit = pixels[p] > 0.5;
        if (onDigit) (digit += map[p]), digitN++;
        else (back += map[p]), backN++;
        positive += Math.max(map[p], 0);
        if (onDigit) positiveOnDigit += Math.max(map[p], 0);
      }
      expect(Math.max(...map) - Math.min(...map), `map ${i} is constant`).toBeGreaterThan(0);
      if (digit / digitN > back / backN) wins++;
      massOnDigit += positiveOnDigit / positive;
      digitArea += digitN / 784;
    }
    // The map is higher on the digit than on the background in most images, and a
    // digit pixel carries well over its share of the map's positive mass (measured
    // here: ~85% of images, ~1.7x its share).
    expect(wins / count).toBeGreaterThan(0.75);
    expect(massOnDigit / digitArea).toBeGreaterThan(1.3);
  });
});

describe('gradCam', () => {
  it('is ReLU(CAM) / (h·w) on a network ending in GlobalAvgPool2D → Dense (the identity Grad-CAM reduces to)', () => {
    const { layers, sequential } = index;
    const model = sequential([
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), layers.relu(), layers.globalAvgPool2d(), layers.dense({ units: 3 }),
    ], { inputShape: [6, 5, 2], seed: 7 });
    const random = rng(3);
    const image = new Tensor(Float32Array.from({ length: 60 }, () => random() * 2 - 1), [6, 5, 2]);
    for (let c = 0; c < 3; c++) {
      const cam = classActivationMap(model, image, c).data; // no upsampling: the maps are 6×5 already
      const grad = gradCam(model, image, c).data;
      cam.forEach((v, p) => expect(grad[p]).toBeCloseTo(Math.max(v, 0) / 30, 6));
    }
  });

  it('maps any CNN, a sigmoid one included, and refuses a model without convolutions', () => {
    const image = new Tensor(new Float32Array(784).fill(0.5), [28, 28, 1]);
    expect(gradCam(zooModel('mnist-3layer', { seed: 2 }), image, 4).shape).toEqual([28, 28]);
    expect(gradCam(zooModel('xray-binary', { seed: 2, height: 28, width: 28 }), image, 1).shape).toEqual([28, 28]);
    expect(() => gradCam(zooModel('mlp-30', { height: 28, width: 28 }), image, 0)).toThrow(/has no Conv2D layer/);
    expect(() => gradCam(zooModel('mnist-3layer'), image, 10)).toThrow(/classIndex must be an integer in \[0, 9\]/);
  });
});
