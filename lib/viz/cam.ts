import { ValueError, describe } from '../errors.js';
import { Conv2D } from '../layers/conv.js';
import { Dense } from '../layers/dense.js';
import { GlobalAvgPool2D } from '../layers/pool.js';
import type { Sequential } from '../model.js';
import { checkTensor } from '../ops/check.js';
import { Tensor } from '../tensor.js';

/**
 * Class activation map (Zhou et al. 2016) for a network that ends in
 * GlobalAvgPool2D → Dense: the last feature maps weighted by the dense
 * weights of the class, M(y, x) = Σ_k w[k, c] · A_k(y, x), upsampled
 * bilinearly to the input's height and width. image is [H, W, C] or
 * [1, H, W, C]; the result is [H, W].
 */
export function classActivationMap(model: Sequential, image: Tensor, classIndex: number): Tensor {
  const gap = model.layers.findIndex((l) => l instanceof GlobalAvgPool2D);
  const dense = model.layers[gap + 1];
  if (gap < 1 || !(dense instanceof Dense) || !model.layers.slice(0, gap).some((l) => l instanceof Conv2D)) {
    throw new ValueError(`classActivationMap: model '${model.name}' must end in convolutions → GlobalAvgPool2D → Dense (e.g. the zoo's mnist-gap)`);
  }
  checkTensor(image, 'image', 'classActivationMap');
  const x = image.rank === 3 ? image.reshape([1, ...image.shape]) : image;
  model.checkInput(x, 'classActivationMap');
  if (x.shape[0] !== 1) throw new ValueError(`classActivationMap: pass one image, got a batch of ${x.shape[0]}`);
  const classes = dense.outputShape[0];
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
    throw new ValueError(`classActivationMap: classIndex must be an integer in [0, ${classes - 1}], got ${describe(classIndex)}`);
  }
  let a = x;
  for (const layer of model.layers.slice(0, gap)) a = layer.forward(a, false);
  const [, h, w, k] = a.shape;
  const weights = dense.weight.value.data;
  const small = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += a.data[p * k + c] * weights[c * classes + classIndex];
    small[p] = sum;
  }
  const [H, W] = model.inputShape;
  const out = new Float32Array(H * W);
  // Align pixel centres (as image resizing does): source coordinate (y + 0.5) · h / H - 0.5.
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (h / H) - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let xx = 0; xx < W; xx++) {
      const sx = Math.min(Math.max((xx + 0.5) * (w / W) - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      out[y * W + xx] =
        (1 - fy) * ((1 - fx) * small[y0 * w + x0] + fx * small[y0 * w + x1]) + fy * ((1 - fx) * small[y1 * w + x0] + fx * small[y1 * w + x1]);
    }
  }
  return new Tensor(out, [H, W]);
}
