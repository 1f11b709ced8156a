export { Tensor, tensor, fromNested, zeros, full, isTensor } from './tensor.js';
export { MAX_ELEMENTS, getAllocationLimit, setAllocationLimit } from './limits.js';
export type { Shape } from './tensor.js';
export {
  ConvkitError, ShapeError, DTypeError, ValueError, FormatError, BackendError, LimitError,
} from './errors.js';
export * as ops from './ops/index.js';
export * as layers from './layers/index.js';
export * as data from './data/index.js';
export { getBackend, setBackend, setNumThreads, getNumThreads, setIsa, setConvAlgorithm, info, measurePeak } from './backend/select.js';
export type { ConvAlgorithm } from './backend/select.js';
export type { BackendName, Info } from './backend/select.js';
export type { PeakMeasurement } from './backend/native.js';
export type { Backend } from './backend/backend.js';
export { Sequential, sequential, modelFromConfig } from './model.js';
export type { ModelConfig, SequentialOptions } from './model.js';
export { NonFiniteError } from './train.js';
export { modelCheckpoint } from './callbacks.js';
export type { ModelCheckpointOptions } from './callbacks.js';
export type { FitOptions, History, EpochLogs, BatchLogs, Callbacks, EarlyStopping, EvaluateOptions, PredictOptions, Monitor, EpochSums } from './train.js';
export { SGD, Adam, Optimizer, stepDecay, createOptimizer, optimizerFromConfig } from './optimizers.js';
export type { Schedule, OptimizerName } from './optimizers.js';
export { SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, createLoss } from './losses.js';
export type { Loss, LossName } from './losses.js';
export { Random } from './random.js';
export { ZOO, ZOO_NAMES, zooModel } from './zoo.js';
export { selfTest } from './selftest.js';
export type { SelfTestResult, SelfTestCase } from './selftest.js';
export { VERSION } from './version.js';
export type { ZooEntry } from './zoo.js';
export * as metrics from './metrics.js';
export { saveModel, loadModel, saveOptimizer, loadOptimizer } from './io/checkpoint.js';
export { exportNpz, importNpz } from './io/npz.js';
export { exportHdf5, importHdf5 } from './io/hdf5.js';
export { exportOnnx, encodeOnnx } from './io/onnx.js';
export { readSafetensors, writeSafetensors, parseSafetensors } from './io/safetensors.js';
export type { NameMapping } from './io/names.js';
export { classActivationMap, gradCam } from './viz/cam.js';
export { writeReport, analyze } from './viz/report.js';
export type { ReportInput, Analysis } from './viz/report.js';
export { EventWriter } from './viz/tensorboard.js';
export { exportCurves, curveCharts, svgToPng } from './viz/curves.js';
export type { CurveFormat } from './viz/curves.js';
export { sweep } from './sweep/sweep.js';
export type { SweepOptions, SweepResult, SummaryRow } from './sweep/sweep.js';
export { checkSweepSpec, planRuns, readSweepFile } from './sweep/spec.js';
export type { PlannedRun, RunSettings, SweepSpec } from './sweep/spec.js';

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
