export { Tensor, tensor, fromNested, zeros, full, isTensor } from './core/tensor.js';
export { MAX_ELEMENTS, getAllocationLimit, setAllocationLimit } from './core/limits.js';
export type { Shape } from './core/tensor.js';
export {
  ConvkitError, ShapeError, DTypeError, ValueError, FormatError, BackendError, LimitError,
} from './core/errors.js';
/** The functional API: every op with its backward beside it (`conv2d` / `conv2dBackward`, ...), allocating its outputs. */
export * as ops from './ops/index.js';
/** Layers for `sequential()` and model files: classes (`Conv2D`) and Keras-style factories (`conv2d({...})`). */
export * as layers from './nn/layers/index.js';
/** Data sets, file readers (IDX, npy/npz, CSV, HDF5), batching, scaling and splits. */
export * as data from './data/index.js';
export { getBackend, setBackend, setNumThreads, getNumThreads, setIsa, setConvAlgorithm, info, measurePeak } from './backend/select.js';
export type { ConvAlgorithm } from './backend/select.js';
export type { BackendName, Info } from './backend/select.js';
export type { PeakMeasurement } from './backend/native.js';
export type { Backend, ConvChainBlock, ConvChainHead, ConvChainForwardBlock, ConvChainForwardHead } from './backend/backend.js';
export { Model } from './models/model.js';
export { Sequential, sequential } from './models/sequential.js';
export type { ModelConfig, SequentialConfig, SequentialOptions } from './models/sequential.js';
export { Functional, model, input } from './models/functional.js';
export type { CompileOptions, LogitGraph } from './models/model.js';
export type { GraphNode } from './models/graph-run.js';
export type { FunctionalOptions, InputOptions } from './models/functional.js';
export type { FitAllOptions, FitAllHistory, OutputLoss } from './models/fit-all.js';
export { BinaryCrossEntropy, CategoricalCrossEntropy, Huber, MeanAbsoluteError, MeanSquaredError, losses, lossNames, registerLoss } from './nn/losses.js';
export type { FunctionalConfig, GraphLayerSpec } from './nn/layers/index.js';
export { Layer, SymbolicTensor, parameter } from './nn/layers/layer.js';
export { registerLayer } from './nn/layers/index.js';
export { checkLayerGradients, type GradientCheck } from './nn/gradient-check.js';
export type { LayerOptions, Parameter, SampleShape } from './nn/layers/layer.js';
export { modelFromConfig } from './models/from-config.js';
export { NonFiniteError } from './models/train.js';
export { modelCheckpoint, reduceLROnPlateau, terminateOnNaN } from './models/callbacks.js';
export { weightAverage, type WeightAverage, type WeightAverageOptions } from './models/ema.js';
export type { ModelCheckpointOptions, ReduceLROnPlateauOptions } from './models/callbacks.js';
export type { FitOptions, History, EpochLogs, CallbackEpochLogs, BatchLogs, Callbacks, EarlyStopping, EvaluateOptions, EvaluateResult, PredictOptions, TestTimeAugmentation, Monitor, EpochSums } from './models/train.js';
export { SGD, Adam, AdamW, Adagrad, RMSprop, Optimizer, stepDecay, multiStepDecay, cosineDecay, exponentialDecay, oneCycle, createOptimizer, optimizerFromConfig, registerOptimizer } from './optim/optimizers.js';
export type { Schedule, OptimizerName, SGDOptions, AdamOptions, AdagradOptions, RMSpropOptions, ClipOptions, ParameterGroup } from './optim/optimizers.js';
export { registerMetric } from './nn/batch-metrics.js';
export type { MetricFunction } from './nn/batch-metrics.js';
export { oneHot, toCategorical } from './models/targets.js';
export type { Targets } from './models/targets.js';
export { OPTIMIZER_DEFAULTS } from './core/defaults.js';
export type { Distribution, FanMode, Initializer, InitializerName } from './nn/initializers.js';
export type { Verbosity } from './core/progress.js';
export type { ClassWeight } from './data/sampling.js';
export type { Augmentation } from './data/augment.js';
export type { SavableModel } from './models/checkpoint-write.js';
export type { Safetensors, NamedArray, SafetensorsReadOptions } from './formats/safetensors.js';
export { SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, createLoss } from './nn/losses.js';
export type { KerasLossName, Loss, LossName, LossSpec, FromLogitsOption } from './nn/losses.js';
export { Random } from './core/random.js';
export { ZOO, ZOO_NAMES, zooModel } from './models/zoo.js';
export { selfTest } from './models/selftest.js';
export type { SelfTestResult, SelfTestCase } from './models/selftest.js';
export { VERSION } from './core/version.js';
export type { ZooEntry } from './models/zoo.js';
export * as metrics from './nn/metrics.js';
export { saveModel, loadModel, saveOptimizer, loadOptimizer } from './models/checkpoint.js';
export { exportNpz, importNpz } from './interchange/npz.js';
export { exportHdf5, importHdf5 } from './interchange/hdf5.js';
export { exportOnnx, encodeOnnx } from './interchange/onnx.js';
export { loadKerasModel, loadKerasWeights } from './interchange/keras/files.js';
export { KERAS_LAYERS } from './interchange/keras/layers.js';
export { loadLayersModel } from './interchange/tfjs.js';
export { loadOnnxModel, ONNX_OPERATORS } from './interchange/onnx-import.js';
export { importModel, withNewHead } from './interchange/import-any.js';
export { exportKerasH5, saveLayersModel } from './interchange/keras/write.js';
export { loadTorchStateDict, type TorchStateDictOptions } from './interchange/torch.js';
export { readSafetensors, writeSafetensors, parseSafetensors } from './formats/safetensors.js';
export type { NameMapping } from './interchange/names.js';
export { classActivationMap, gradCam } from './viz/cam.js';
export { writeReport, analyze } from './viz/report.js';
export type { ReportInput, Analysis, ReportFiles } from './viz/report.js';
export { EventWriter } from './viz/tensorboard.js';
export { exportCurves, curveCharts, svgToPng } from './viz/curves.js';
export type { CurveFormat } from './viz/curves.js';
export { sweep } from './sweep/sweep.js';
export type { SweepOptions, SweepResult, SummaryRow } from './sweep/sweep.js';
export { checkSweepSpec, planRuns, readSweepFile } from './sweep/spec.js';
export type { PlannedRun, RunSettings, RunSetting, SettingValue, SweepSpec } from './sweep/spec.js';
export { RUN_SETTINGS } from './sweep/spec.js';

/**
 * Takes runs from a sweep's queue (BullMQ on Redis) and runs them, as
 * `convkit worker` does, until the signal aborts. Needs `npm install bullmq ioredis`.
 */
export async function sweepWorker(options: { queue: string; threads?: number; signal?: AbortSignal; say?: (line: string) => void }): Promise<void> {
  const { runWorker } = await import('./sweep/queue.js');
  return runWorker({ url: options.queue, threads: options.threads ?? 1, signal: options.signal, say: options.say });
}

/**
 * One self-contained HTML page comparing run directories (a sweep directory
 * stands for its finished runs): settings and metrics, overlaid curves,
 * confusion matrices, per-class accuracy, Grad-CAM of every CNN on the same
 * test images. Returns the file written.
 */
export async function compareRuns(output: string, runDirs: readonly string[], options: { title?: string; dataDir?: string; say?: (line: string) => void } = {}): Promise<string> {
  const { runDirsOf, writeRunComparison } = await import('./cli/compare.js');
  const runs = runDirsOf(runDirs);
  return writeRunComparison(output, runs, { title: options.title ?? `${runs.length} runs compared`, dataDir: options.dataDir, say: options.say });
}
export { iterationLossChart, epochChart, confusionChart, perClassChart } from './viz/charts.js';
