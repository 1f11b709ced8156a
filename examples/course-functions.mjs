// The from-scratch course's functions, one by one, on a tiny image.
import { fromNested, ops, tensor } from 'convkit';

// A 5x5 binary image as NHWC [batch 1, 5, 5, 1 channel] and a 3x3 filter as HWIO [3, 3, 1, 1].
const image = fromNested([
  [1, 1, 1, 0, 0],
  [0, 1, 1, 1, 0],
  [0, 0, 1, 1, 1],
  [0, 0, 1, 1, 0],
  [0, 1, 1, 0, 0],
]).reshape([1, 5, 5, 1]);
const filter = fromNested([
  [1, 0, 1],
  [0, 1, 0],
  [1, 0, 1],
]).reshape([3, 3, 1, 1]);

const padded = ops.zeroPad(image, 1); // zero_pad
console.log('padded', padded.shape); // [1, 7, 7, 1]

const slice = tensor(image.data.slice(0, 3), [3]); // conv_single_step on one window row
console.log('single step', ops.convSingleStep(slice, tensor([1, 0, 1], [3]), 0));

const conv = ops.conv2d(image, filter, null, { stride: 1 }); // conv_forward
console.log('conv', conv.reshape([3, 3]).toArray()); // [[4,3,4],[2,4,3],[2,3,4]]

const act = ops.relu(conv);
const pooled = ops.maxPool2d(act, { kernel: 2, stride: 1 }); // pool_forward
const flat = ops.flatten(pooled);
const w = tensor(Float32Array.from({ length: flat.shape[1] * 2 }, (_, i) => ((i % 5) - 2) / 10), [flat.shape[1], 2]);
const logits = ops.dense(flat, w, tensor([0, 0], [2])); // fc
const { loss, dLogits } = ops.softmaxCrossEntropy(logits, [1]); // loss_cross_entropy_softmax
console.log('loss', loss.toFixed(4));

// Backward, each with the forward's arguments: fc_backward, flatten backward, pool_backward, relu_backward, conv_backward.
const dense = ops.denseBackward(dLogits, flat, w);
const dPooled = ops.unflatten(dense.dx, pooled.shape);
const dAct = ops.maxPool2dBackward(dPooled, act, { kernel: 2, stride: 1 });
const dConv = ops.reluBackward(dAct, conv);
const { dw, db } = ops.conv2dBackward(dConv, image, filter, { stride: 1 });
console.log('dw', dw.reshape([3, 3]).toArray(), 'db', Array.from(db.data));
