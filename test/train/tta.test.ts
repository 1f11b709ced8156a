// Flip test-time augmentation in predict and evaluate: the mean of the logits
// of each image and its left-right mirror, batched like any prediction.
import { describe, expect, it } from 'vitest';
import { layers, sequential, ShapeError, SoftmaxCrossEntropy, Tensor, ValueError } from '../../lib/index.js';
import { rng } from '../helpers/random.js';

function images(n: number, h: number, w: number, c: number, seed: number): Tensor {
  const random = rng(seed);
  return new Tensor(Float32Array.from({ length: n * h * w * c }, () => random() * 2 - 1), [n, h, w, c]);
}

/** The mirror of each image, written out by index (independent of the library's helper). */
function mirrored(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < h; r++)
      for (let col = 0; col < w; col++)
        for (let ch = 0; ch < c; ch++) out[((i * h + r) * w + (w - 1 - col)) * c + ch] = x.data[((i * h + r) * w + col) * c + ch];
  return new Tensor(out, x.shape);
}

// Not mirror-symmetric: a strided convolution and a dense layer over positions.
const net = (seed = 3) =>
  sequential([layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 1 }), layers.relu(), layers.flatten(), layers.dense({ units: 4 })], { inputShape: [7, 6, 3], seed });

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-6 * scale + 1e-7);
}

describe("tta: 'flip'", () => {
  it('predicts the mean logits of each image and its mirror, whatever the batch size', () => {
    const model = net();
    const x = images(11, 7, 6, 3, 1);
    const plain = model.predictLogits(x).data;
    const flippedLogits = model.predictLogits(mirrored(x)).data;
    const want = plain.map((v, i) => 0.5 * (v + flippedLogits[i]));
    expect(Array.from(plain)).not.toEqual(Array.from(flippedLogits)); // the net tells an image from its mirror
    for (const batchSize of [1, 4, 11, 256]) expectClose(model.predictLogits(x, { tta: 'flip', batchSize }).data, Float32Array.from(want));
    // An image and its mirror score the same under flip TTA.
    expectClose(model.predictLogits(mirrored(x), { tta: 'flip' }).data, Float32Array.from(want));
    expect(Array.from(model.predictLogits(x, { tta: 'none' }).data)).toEqual(Array.from(plain));
  });

  it('gives predict, predictClasses and evaluate the averaged logits', () => {
    const model = net();
    const x = images(9, 7, 6, 3, 2);
    const y = Int32Array.from({ length: 9 }, (_, i) => i % 4);
    const logits = model.predictLogits(x, { tta: 'flip' });
    const loss = new SoftmaxCrossEntropy();
    expectClose(model.predict(x, { tta: 'flip' }).data, loss.probabilities(logits).data);
    expect(Array.from(model.predictClasses(x, { tta: 'flip' }))).toEqual(Array.from(loss.classes(logits)));
    const result = model.evaluate(x, y, { tta: 'flip', batchSize: 4 });
    expect(result.loss).toBeCloseTo(loss.compute(logits, y).loss, 5);
    const classes = loss.classes(logits);
    expect(result.accuracy).toBeCloseTo(classes.filter((c, i) => c === y[i]).length / 9, 10);
  });

  it('is refused for inputs that are not images, and for an unknown kind', () => {
    const flat = sequential([layers.dense({ units: 3 })], { inputShape: [5], seed: 1 });
    const x = new Tensor(new Float32Array(10), [2, 5]);
    expect(() => flat.predict(x, { tta: 'flip' })).toThrow(ShapeError);
    expect(() => flat.predict(x, { tta: 'flip' })).toThrow(/tta 'flip' mirrors images of shape \[n, height, width, channels\]; x has shape \[2, 5\]/);
    // @ts-expect-error a kind that does not exist
    expect(() => net().predict(images(1, 7, 6, 3, 0), { tta: 'flop' })).toThrow(ValueError);
    // @ts-expect-error a kind that does not exist
    expect(() => net().evaluate(images(1, 7, 6, 3, 0), new Int32Array(1), { tta: 'flop' })).toThrow(/tta/);
  });
});
