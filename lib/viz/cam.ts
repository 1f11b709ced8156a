import { ValueError, describe } from '../core/errors.js';
import { Conv2D } from '../nn/layers/conv.js';
import { Dense } from '../nn/layers/dense.js';
import { GlobalAvgPool2D } from '../nn/layers/pool.js';
import { ReLU, Sigmoid, Softmax } from '../nn/layers/activation.js';
import type { Model } from '../models/model.js';
import { checkTensor } from '../ops/check.js';
import { Tensor } from '../core/tensor.js';

/**
 * Class activation map (Zhou et al. 2016) for a network that ends in
 * GlobalAvgPool2D → Dense: the last feature maps weighted by the dense
 * weights of the class, M(y, x) = Σ_k w[k, c] · A_k(y, x), upsampled
 * bilinearly to the input's height and width. image is [H, W, C] or
 * [1, H, W, C]; the result is [H, W].
 */
export function classActivationMap(model: Model, image: Tensor, classIndex: number): Tensor {
  // The logits' Dense and the GlobalAvgPool2D it takes, wherever they sit in a stack or a graph.
  const { nodes, outputs } = model.logitGraph();
  const head = nodes.find((n) => n.output === outputs[0]);
  const gapNode = head && nodes.find((n) => n.output === head.inputs[0]);
  const dense = head?.layer;
  if (!gapNode || !(gapNode.layer instanceof GlobalAvgPool2D) || !(dense instanceof Dense) || !model.layers.some((l) => l instanceof Conv2D)) {
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
  const a = model.inputOf(x, gapNode.layer);
  const [, h, w, k] = a.shape;
  const weights = dense.weight.value.data;
  const small = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += a.data[p * k + c] * weights[c * classes + classIndex];
    small[p] = sum;
  }
  return upsample(small, h, w, model.inputShape[0], model.inputShape[1]);
}


/** A [h, w] map resized bilinearly to [H, W], pixel centres aligned (as image resizing does). */
function upsample(small: Float32Array, h: number, w: number, H: number, W: number): Tensor {
  const out = new Float32Array(H * W);
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

/**
 * Grad-CAM (Selvaraju et al. 2017), for any CNN: the last convolution's
 * feature maps A_k (after its ReLU, when one follows), each weighted by the
 * mean gradient of the class's logit over it, M = ReLU(Σ_k α_k A_k),
 * upsampled bilinearly to the input's size. For a network ending in
 * GlobalAvgPool2D → Dense it is proportional to classActivationMap. Runs
 * the layers in inference mode and back-propagates through them, which
 * overwrites the parameters' gradients. image is [H, W, C] or [1, H, W, C];
 * the result is [H, W].
 */
export function gradCam(model: Model, image: Tensor, classIndex: number): Tensor {
  const layers = model.layers;
  if (model.logitGraph().nodes.some((n) => n.inputs.length > 1)) throw new ValueError(`gradCam: model '${model.name}' joins branches (a graph); Grad-CAM here takes a stack of layers (classActivationMap takes a graph ending in GlobalAvgPool2D → Dense)`);
  const conv = layers.map((l) => l instanceof Conv2D).lastIndexOf(true);
  if (conv < 0) throw new ValueError(`gradCam: model '${model.name}' has no Conv2D layer`);
  checkTensor(image, 'image', 'gradCam');
  const x = image.rank === 3 ? image.reshape([1, ...image.shape]) : image;
  model.checkInput(x, 'gradCam');
  if (x.shape[0] !== 1) throw new ValueError(`gradCam: pass one image, got a batch of ${x.shape[0]}`);
  // The logits: every layer but a final Softmax or Sigmoid (the loss's own).
  const last = layers[layers.length - 1];
  const end = layers.length > 1 && (last instanceof Softmax || last instanceof Sigmoid) ? layers.length - 1 : layers.length;
  const units = model.outputUnits;
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= Math.max(units, 2)) {
    throw new ValueError(`gradCam: classIndex must be an integer in [0, ${Math.max(units, 2) - 1}], got ${describe(classIndex)}`);
  }
  const at = layers[conv + 1] instanceof ReLU ? conv + 1 : conv;
  let a = x;
  for (let i = 0; i <= at; i++) a = layers[i].forward(a, false);
  const maps = a.clone();
  let y = maps;
  for (let i = at + 1; i < end; i++) y = layers[i].forward(y, false);
  // d(logit of the class)/d(logits); one sigmoid output scores class 1 as +z and class 0 as -z.
  const dy = new Float32Array(y.size);
  if (units === 1) dy[0] = classIndex === 1 ? 1 : -1;
  else dy[classIndex] = 1;
  let d: Tensor | null = new Tensor(dy, y.shape);
  for (let i = end - 1; i > at && d; i--) d = layers[i].backward(d, true);
  const [, h, w, k] = maps.shape;
  const alpha = new Float64Array(k);
  for (let p = 0; p < h * w; p++) for (let c = 0; c < k; c++) alpha[c] += d!.data[p * k + c] / (h * w);
  const small = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += alpha[c] * maps.data[p * k + c];
    small[p] = Math.max(sum, 0);
  }
  return upsample(small, h, w, model.inputShape[0], model.inputShape[1]);
}
