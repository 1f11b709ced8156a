export { conv2d, conv2dBackward, convSingleStep, zeroPad, zeroPadBackward } from './conv.js';
export { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, globalAvgPool2d, globalAvgPool2dBackward } from './pool.js';
export { dense, denseBackward } from './dense.js';
export { flatten, unflatten } from './shape.js';
export {
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward,
  tanh, tanhBackward, softmax, softmaxBackward,
} from './activations.js';
export { softmaxCrossEntropy, sigmoidBinaryCrossEntropy } from './loss.js';
export type { Labels } from './loss.js';
export { conv2dGeometry, pool2dGeometry } from './geometry.js';
export type { Conv2dOptions, Pool2dOptions, Padding, Stride, WindowGeometry } from './geometry.js';
