export { Tensor, tensor, fromNested, zeros, full, isTensor, MAX_ELEMENTS } from './tensor.js';
export type { Shape } from './tensor.js';
export {
  ConvkitError, ShapeError, DTypeError, ValueError, FormatError, BackendError, LimitError,
} from './errors.js';
export * as ops from './ops/index.js';
export * as layers from './layers/index.js';
export * as data from './data/index.js';
export { getBackend, setBackend, setNumThreads, getNumThreads, setIsa, info } from './backend/select.js';
export type { BackendName, Info } from './backend/select.js';
export type { Backend } from './backend/backend.js';
export { Sequential, sequential, modelFromConfig } from './model.js';
export type { ModelConfig, SequentialOptions } from './model.js';
export { NonFiniteError } from './train.js';
export type { FitOptions, History, EpochLogs, BatchLogs, Callbacks, EarlyStopping, EvaluateOptions, PredictOptions } from './train.js';
export { SGD, Adam, Optimizer, stepDecay, createOptimizer, optimizerFromConfig } from './optimizers.js';
export type { Schedule, OptimizerName } from './optimizers.js';
export { SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, createLoss } from './losses.js';
export type { Loss, LossName } from './losses.js';
export { Random } from './random.js';
export { ZOO, ZOO_NAMES, zooModel } from './zoo.js';
export type { ZooEntry } from './zoo.js';
export * as metrics from './metrics.js';
export { saveModel, loadModel, saveOptimizer, loadOptimizer } from './io/checkpoint.js';
export { exportNpz, importNpz } from './io/npz.js';
export { exportHdf5, importHdf5 } from './io/hdf5.js';
export { exportOnnx, encodeOnnx } from './io/onnx.js';
export { readSafetensors, writeSafetensors, parseSafetensors } from './io/safetensors.js';
export type { NameMapping } from './io/names.js';
