#!/usr/bin/env node
// The convkit command: train, evaluate, predict, summary, info.
// Exit codes: 0 success, 2 bad usage, 1 failure (one line; the stack with --verbose).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { info, setBackend, setNumThreads } from './backend/select.js';
import { type DatasetName, DATASETS, loadDataset } from './data/datasets.js';
import { resize } from './data/transforms.js';
import { readIdx } from './data/idx.js';
import { readNpy, toFloat32 } from './data/npy.js';
import { readCsv } from './data/csv.js';
import { scaleImages } from './data/transforms.js';
import { ConvkitError } from './errors.js';
import { CHECKPOINT_FILE, loadModel, loadOptimizer, OPTIMIZER_FILE, saveModel, saveOptimizer } from './io/checkpoint.js';
import { writeFileAtomic } from './io/atomic.js';
import { exportHdf5 } from './io/hdf5.js';
import type { NameMapping } from './io/names.js';
import { exportNpz } from './io/npz.js';
import { exportOnnx } from './io/onnx.js';
import type { Callbacks, History } from './train.js';
import { type Analysis, analyze, writeReport } from './viz/report.js';
import { EventWriter } from './viz/tensorboard.js';
import type { Sequential } from './model.js';
import { Adam, type Optimizer, type OptimizerName, SGD, stepDecay } from './optimizers.js';
import { Tensor } from './tensor.js';
import { ZOO, ZOO_NAMES, zooModel } from './zoo.js';

class UsageError extends Error {}

/** Training stopped by Ctrl-C after saving; exit code 130 like a shell. */
class Interrupted extends Error {}

const DEFAULTS = {
  model: 'mnist-3layer',
  dataset: 'mnist',
  epochs: 5,
  batchSize: 32,
  optimizer: 'adam',
  lrDecay: 0.5,
  seed: 0,
} as const;

const HELP = `convkit — train and run convolutional neural networks from Node

usage: convkit <command> [options]

commands:
  train      train a zoo model on a data set and print its test accuracy
  evaluate   accuracy of a checkpoint on a data set's test images
  predict    class predictions of a checkpoint for images in a file
  export     a checkpoint as ONNX, NumPy .npz or HDF5
  report     an HTML report (curves, confusion matrix, top-3 images, CAMs) for a run directory
  summary    a model's layers, output shapes and parameter counts
  info       backend, instruction set, threads, OpenMP, addon path

train options:
  --model NAME        zoo model (default ${DEFAULTS.model}); one of: ${ZOO_NAMES.join(', ')}
  --dataset NAME      ${DATASETS.join(' | ')} (default ${DEFAULTS.dataset})
  --data-dir DIR      folder with the data set's files (default: $CONVKIT_DATA, the cache, a download, the embedded sample)
  --epochs N          passes over the training set (default ${DEFAULTS.epochs})
  --batch-size N      images per step (default ${DEFAULTS.batchSize})
  --optimizer NAME    adam | sgd | momentum (default ${DEFAULTS.optimizer})
  --lr RATE           learning rate (default 0.002 for adam, 0.01 for sgd and momentum)
  --lr-decay F        multiply the rate by F after every epoch, the course's step decay (default ${DEFAULTS.lrDecay}; 1 keeps it constant)
  --validation F      hold out this fraction of the training set for validation (default 0: none)
  --limit N           train on the first N training images only
  --seed N            seed for weights and shuffling (default ${DEFAULTS.seed})
  --out DIR           run directory: model.safetensors, optimizer.safetensors, history.json, run.json (saved every epoch)
  --resume DIR        continue a run directory where it stopped (--epochs may extend it)
  --tensorboard DIR   write TensorBoard event files (scalars per iteration and epoch, top-3 test images per class)
  --report FILE       write a self-contained HTML report (and the curves as SVG files beside it, or in --out)
  --backend NAME      native | reference (default: native when the addon loads)
  --threads N         native threads (default: $CONVKIT_NUM_THREADS, else all cores)
  --quiet             no progress output
  --no-check-finite   do not stop when the loss or a gradient turns NaN/Inf (checked by default)
  Ctrl-C              finishes the batch, saves a resumable state (to --out, else runs/), exits 130

evaluate options:  --checkpoint PATH (file or run directory), --dataset, --data-dir, --batch-size
predict options:   --checkpoint PATH, --input FILE (.npy, IDX or .csv images), --csv OUT (writes ID,Label)
export options:    --checkpoint PATH --format onnx|npz|h5 --output FILE [--names model|course|numbered]
                   (npz keys default to the model's names, h5 datasets to W1, b1, W2, ...; 'course' gives w1, b1, ... or w_conv, b_conv, w_fc, b_fc)
report options:    convkit report RUN_DIR [--data-dir DIR] [--output FILE (default RUN_DIR/report.html)]
summary options:   --model NAME or --checkpoint PATH
global options:    --verbose (stack traces on errors), --help
`;

const OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'lr-decay': { type: 'string' },
  validation: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  checkpoint: { type: 'string' },
  input: { type: 'string' },
  csv: { type: 'string' },
  resume: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
  names: { type: 'string' },
  tensorboard: { type: 'string' },
  report: { type: 'string' },
  quiet: { type: 'boolean' },
  'no-check-finite': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function int(flags: Flags, name: keyof Flags, fallback: number, min = 1): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

function num(flags: Flags, name: keyof Flags): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${raw}'`);
  return n;
}

function applyRuntime(flags: Flags): void {
  if (flags.backend !== undefined) {
    if (flags.backend !== 'native' && flags.backend !== 'reference') throw new UsageError(`--backend must be 'native' or 'reference', got '${flags.backend}'`);
    setBackend(flags.backend);
  }
  if (flags.threads !== undefined) setNumThreads(int(flags, 'threads', 1));
}

/** Resizes images to the model's input size when they differ (e.g. 28×28 → 14×14). */
function fitToModel(x: Tensor, model: Sequential, say: (m: string) => void): Tensor {
  const [h, w] = model.inputShape;
  if (x.shape[1] === h && x.shape[2] === w) return x;
  say(`resizing images ${x.shape[1]}×${x.shape[2]} → ${h}×${w} for ${model.name}`);
  return resize(x, h, w);
}

function firstN(x: Tensor, y: Uint8Array, n: number): { x: Tensor; y: Uint8Array } {
  if (n >= y.length) return { x, y };
  const row = x.size / x.shape[0];
  return { x: new Tensor(x.data.subarray(0, n * row), [n, ...x.shape.slice(1)]), y: y.subarray(0, n) };
}

function reportAccuracy(model: Sequential, x: Tensor, y: Uint8Array, classes: string[], say: (m: string) => void, batchSize: number) {
  const analysis = analyze(model, x, y, classes);
  const { accuracy, matrix, perClass, worst } = analysis;
  const correct = perClass.reduce((n, c) => n + c.correct, 0);
  const { loss } = model.evaluate(x, y, { batchSize: Math.max(batchSize, 256) });
  say('per-class accuracy:');
  for (const c of perClass) say(`  ${String(c.class).padStart(2)} ${c.name.padEnd(12)} ${(c.accuracy * 100).toFixed(2).padStart(6)}%  (${c.correct}/${c.total})`);
  say(`worst class: ${worst.class} ${worst.name} at ${(worst.accuracy * 100).toFixed(2)}%`);
  console.log(`test accuracy: ${(accuracy * 100).toFixed(2)}% (${correct.toLocaleString('en-US')}/${y.length.toLocaleString('en-US')}), test loss ${loss.toFixed(4)}`);
  return { accuracy, loss, perClass, matrix, analysis };
}

/** Top-3 test images per class, as TensorBoard images at the final step. */
function tensorboardImages(writer: EventWriter, analysis: Analysis, classes: readonly string[], step: number, size: [number, number]): void {
  analysis.topImages.forEach((images, c) =>
    images.forEach((png, r) => writer.image(`top3/${c}_${classes[c].replace(/[^A-Za-z0-9]+/g, '_')}/${r + 1}`, png, size[1] * 3, size[0] * 3, step)),
  );
}

/** The end-of-run table: final metrics and where the files went. */
function summaryTable(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

function makeOptimizer(name: OptimizerName, learningRate: number, decay: number, batchesPerEpoch: number) {
  const schedule = decay === 1 ? undefined : stepDecay({ every: batchesPerEpoch, factor: decay });
  if (name === 'adam') return new Adam({ learningRate, schedule });
  return new SGD({ learningRate, momentum: name === 'momentum' ? 0.9 : 0, schedule });
}

/** What a run directory's run.json records of the settings, enough to resume. */
interface RunSettings {
  model: string;
  dataset: DatasetName;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  lrDecay: number;
  seed: number;
  validation: number | null;
  limit: number | null;
}

function settingsFromFlags(flags: Flags): RunSettings {
  const model = flags.model ?? DEFAULTS.model;
  if (!ZOO[model]) throw new UsageError(`unknown --model '${model}'; choose one of: ${ZOO_NAMES.join(', ')}`);
  const dataset = (flags.dataset ?? DEFAULTS.dataset) as DatasetName;
  if (!DATASETS.includes(dataset)) throw new UsageError(`unknown --dataset '${dataset}'; choose one of: ${DATASETS.join(', ')}`);
  const optimizer = (flags.optimizer ?? DEFAULTS.optimizer) as OptimizerName;
  if (!['adam', 'sgd', 'momentum'].includes(optimizer)) throw new UsageError(`--optimizer must be adam, sgd or momentum, got '${optimizer}'`);
  const validation = flags.validation === undefined ? null : Number(flags.validation);
  if (validation !== null && !(validation > 0 && validation < 1)) throw new UsageError(`--validation must be a fraction in (0, 1), got '${flags.validation}'`);
  const entry = ZOO[model];
  if (entry.inputShape[2] !== 1 || entry.classes !== 10) {
    throw new UsageError(`--model ${model} takes ${entry.inputShape.join('×')} images in ${entry.classes} classes; the command line trains it on ${DATASETS.join(' or ')} only with the API`);
  }
  return {
    model,
    dataset,
    epochs: int(flags, 'epochs', DEFAULTS.epochs),
    batchSize: int(flags, 'batch-size', DEFAULTS.batchSize),
    optimizer,
    learningRate: num(flags, 'lr') ?? (optimizer === 'adam' ? 0.002 : 0.01),
    lrDecay: num(flags, 'lr-decay') ?? DEFAULTS.lrDecay,
    seed: int(flags, 'seed', DEFAULTS.seed, 0),
    validation,
    limit: flags.limit === undefined ? null : int(flags, 'limit', 1),
  };
}

/** Settings of the run being resumed; --epochs may extend it. */
function settingsFromRun(dir: string, flags: Flags): RunSettings {
  for (const name of ['model', 'dataset', 'batch-size', 'optimizer', 'lr', 'lr-decay', 'seed', 'validation', 'limit'] as const) {
    if (flags[name] !== undefined) throw new UsageError(`--${name} cannot change when resuming; the run keeps the settings in ${join(dir, 'run.json')}`);
  }
  let saved: RunSettings;
  try {
    saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).settings as RunSettings;
  } catch (error) {
    throw new ConvkitError(`--resume ${dir}: cannot read run.json (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!saved || !ZOO[saved.model]) throw new ConvkitError(`--resume ${dir}: run.json has no usable settings`);
  return { ...saved, epochs: int(flags, 'epochs', saved.epochs) };
}

/** How far a run directory got: epochs completed and batches of the next one. */
interface Progress {
  epochsDone: number;
  batchesDone: number;
}

function progressOf(dir: string, history: History): Progress {
  try {
    const p = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).progress as Progress | undefined;
    if (p && Number.isInteger(p.epochsDone) && Number.isInteger(p.batchesDone)) return p;
  } catch {}
  return { epochsDone: history.epochs.length, batchesDone: 0 };
}

function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n'));
}

function mergeHistory(before: History | null, after: History): History {
  if (!before) return after;
  return {
    epochs: [...before.epochs, ...after.epochs],
    loss: [...before.loss, ...after.loss],
    accuracy: [...before.accuracy, ...after.accuracy],
    valLoss: [...before.valLoss, ...after.valLoss],
    valAccuracy: [...before.valAccuracy, ...after.valAccuracy],
    iterationLoss: [...before.iterationLoss, ...after.iterationLoss],
    stoppedEarly: after.stoppedEarly,
    interrupted: after.interrupted,
  };
}

async function train(flags: Flags): Promise<void> {
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const resume = flags.resume;
  const settings = resume ? settingsFromRun(resume, flags) : settingsFromFlags(flags);
  const out = resume ?? flags.out;
  applyRuntime(flags);
  const started = performance.now();
  const ds = await loadDataset(settings.dataset, { dataDir: flags['data-dir'], log: say });
  const train = settings.limit ? firstN(ds.train.x, ds.train.y, settings.limit) : ds.train;
  const trainCount = Math.round(train.y.length * (1 - (settings.validation ?? 0)));
  let model: Sequential;
  let optimizer: Optimizer;
  let previous: History | null = null;
  let start: Progress = { epochsDone: 0, batchesDone: 0 };
  if (resume) {
    model = loadModel(resume);
    optimizer = loadOptimizer(resume);
    previous = JSON.parse(readFileSync(join(resume, 'history.json'), 'utf8')) as History;
    start = progressOf(resume, previous);
    say(`resuming ${resume} after epoch ${start.epochsDone}${start.batchesDone ? ` and ${start.batchesDone} batches` : ''} of ${settings.epochs}`);
  } else {
    model = zooModel(settings.model, { seed: settings.seed });
    optimizer = makeOptimizer(settings.optimizer, settings.learningRate, settings.lrDecay, Math.ceil(trainCount / settings.batchSize));
  }
  const done = start.epochsDone;
  const trainX = fitToModel(train.x, model, say);
  const testX = fitToModel(ds.test.x, model, say);
  const i = info();
  say(`training ${settings.model} (${model.countParams().toLocaleString('en-US')} parameters) on ${trainCount.toLocaleString('en-US')} images: ${settings.epochs} epoch(s), batch ${settings.batchSize}, ${settings.optimizer} lr ${settings.learningRate}${settings.lrDecay !== 1 ? ` ×${settings.lrDecay} per epoch` : ''}, backend ${i.backend}${i.backend === 'native' ? ` (${i.isa}, ${i.threads} threads)` : ''}`);
  const record = { settings, source: ds.source, backend: i };
  let runDir = out;
  const saveState = (progress: Progress, history: History) => {
    runDir ??= join('runs', `${settings.model}-interrupted-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(runDir, { recursive: true });
    saveModel(model, runDir, { zoo: settings.model, dataset: settings.dataset });
    saveOptimizer(optimizer, runDir);
    writeJson(join(runDir, 'history.json'), history);
    writeJson(join(runDir, 'run.json'), { ...record, progress });
  };
  if (out) {
    mkdirSync(out, { recursive: true });
    writeJson(join(out, 'run.json'), { ...record, progress: start });
  }
  // Ctrl-C: the first finishes the current batch and saves a resumable state;
  // a second exits at once (saves are atomic, so the last good one survives).
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    process.stderr.write('\nconvkit: stopping after this batch and saving (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  // After every epoch the run directory holds a complete, resumable state.
  let sofar: History | null = previous ? structuredClone(previous) : null;
  const board = flags.tensorboard ? new EventWriter(flags.tensorboard) : null;
  let iteration = (start.epochsDone * Math.ceil(trainCount / settings.batchSize)) + start.batchesDone;
  const tensorboard: Callbacks = {
    onBatchEnd: (logs) => board?.scalar('train/iteration_loss', logs.loss, ++iteration),
    onEpochEnd: (logs) => {
      if (!board) return;
      board.scalar('train/loss', logs.loss, logs.epoch);
      board.scalar('train/accuracy', logs.accuracy, logs.epoch);
      if (logs.valLoss !== undefined) {
        board.scalar('validation/loss', logs.valLoss, logs.epoch);
        board.scalar('validation/accuracy', logs.valAccuracy!, logs.epoch);
      }
      board.scalar('train/learning_rate', logs.learningRate, logs.epoch);
      board.flush();
    },
  };
  const checkpoint: Callbacks = {
    onEpochEnd: (logs) => {
      if (!out) return;
      const h = sofar ?? { epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [], iterationLoss: [], stoppedEarly: false, interrupted: false };
      h.epochs.push(logs);
      h.loss.push(logs.loss);
      h.accuracy.push(logs.accuracy);
      if (logs.valLoss !== undefined) {
        h.valLoss.push(logs.valLoss);
        h.valAccuracy.push(logs.valAccuracy!);
      }
      sofar = h;
      saveState({ epochsDone: logs.epoch, batchesDone: 0 }, h);
    },
  };
  let history: History | null = null;
  try {
    history = done >= settings.epochs
      ? null
      : await model.fit(trainX, train.y, {
          epochs: settings.epochs, initialEpoch: done, initialBatch: start.batchesDone, batchSize: settings.batchSize, seed: settings.seed, optimizer,
          validation: settings.validation ?? undefined, verbose: flags.quiet ? 0 : 1, callbacks: [tensorboard, checkpoint], signal: interrupt.signal,
          checkFinite: flags['no-check-finite'] ? false : 'all',
        });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (history?.interrupted) {
    const at = history.stoppedAt!;
    saveState({ epochsDone: at.epoch - 1, batchesDone: at.batch }, sofar ?? mergeHistory(previous, { ...history, epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [] }));
    process.stderr.write(`convkit: interrupted in epoch ${at.epoch} after ${at.batch} batches; saved ${runDir}. Resume with: convkit train --resume ${runDir}\n`);
    throw new Interrupted();
  }
  const result = reportAccuracy(model, testX, ds.test.y, ds.classes, say, settings.batchSize);
  const seconds = (performance.now() - started) / 1000;
  const fullHistory = history ? mergeHistory(previous, history) : previous;
  const files: [string, string][] = [];
  if (out) {
    if (history) writeJson(join(out, 'history.json'), fullHistory);
    writeJson(join(out, 'run.json'), { ...record, testAccuracy: result.accuracy, testLoss: result.loss, perClass: result.perClass, confusionMatrix: result.matrix, seconds });
    files.push(['checkpoint', join(out, CHECKPOINT_FILE)], ['optimizer state', join(out, OPTIMIZER_FILE)], ['history', join(out, 'history.json')]);
  }
  if (board) {
    board.scalar('test/accuracy', result.accuracy, settings.epochs);
    board.scalar('test/loss', result.loss, settings.epochs);
    tensorboardImages(board, result.analysis, ds.classes, settings.epochs, [testX.shape[1], testX.shape[2]]);
    board.flush();
    files.push(['tensorboard', `${board.path} (tensorboard --logdir ${flags.tensorboard})`]);
  }
  if (flags.report && fullHistory) {
    const report = await writeReport(flags.report, {
      title: `${settings.model} on ${ds.name}`, model, history: fullHistory, settings: { ...settings, data: ds.source, seconds: Number(seconds.toFixed(1)) },
      classes: ds.classes, test: { x: testX, y: ds.test.y }, dataSource: ds.source,
    }, { svgDir: out ?? dirname(flags.report), analysis: result.analysis });
    files.push(['report', report.html], ['curves (SVG)', report.svgs.length ? dirname(report.svgs[0]) : '-']);
  }
  if (!flags.quiet) {
    const rows: [string, string][] = [
      ['test accuracy', `${(result.accuracy * 100).toFixed(2)}%`],
      ['test loss', result.loss.toFixed(4)],
      ['worst class', `${result.analysis.worst.class} ${result.analysis.worst.name} (${(result.analysis.worst.accuracy * 100).toFixed(2)}%)`],
      ['epochs', String(fullHistory?.epochs.length ?? settings.epochs)],
      ['wall time', `${seconds.toFixed(1)} s (data: ${ds.sourceKind})`],
      ...files,
    ];
    process.stderr.write(`\nsummary\n${summaryTable(rows)}\n`);
  }
}

async function reportCommand(flags: Flags, dir: string | undefined): Promise<void> {
  const runDir = dir ?? flags.out;
  if (!runDir) throw new UsageError('report needs a run directory: convkit report RUN_DIR');
  applyRuntime(flags);
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  let run: { settings: RunSettings; source?: string };
  let history: History;
  try {
    run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    history = JSON.parse(readFileSync(join(runDir, 'history.json'), 'utf8'));
  } catch (error) {
    throw new ConvkitError(`${runDir}: not a run directory (cannot read run.json and history.json: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const model = loadModel(runDir);
  const ds = await loadDataset(run.settings.dataset, { dataDir: flags['data-dir'], log: say });
  const testX = fitToModel(ds.test.x, model, say);
  const output = flags.output ?? join(runDir, 'report.html');
  const report = await writeReport(output, {
    title: `${run.settings.model} on ${ds.name}`, model, history, settings: { ...run.settings, data: ds.source }, classes: ds.classes,
    test: { x: testX, y: ds.test.y }, dataSource: ds.source,
  }, { svgDir: runDir });
  process.stderr.write(`wrote ${report.html} and ${report.svgs.length} SVG curves in ${runDir}\n`);
}

async function exportCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('export needs --checkpoint PATH');
  const format = flags.format;
  if (format !== 'onnx' && format !== 'npz' && format !== 'h5') throw new UsageError(`--format must be onnx, npz or h5, got '${format ?? ''}'`);
  if (!flags.output) throw new UsageError('export needs --output FILE');
  const names = (flags.names ?? (format === 'h5' ? 'numbered' : 'model')) as NameMapping;
  if (!['model', 'course', 'numbered'].includes(names as string)) throw new UsageError(`--names must be model, course or numbered, got '${flags.names}'`);
  const model = loadModel(flags.checkpoint);
  let keys: string[] | null = null;
  if (format === 'onnx') exportOnnx(model, flags.output);
  else if (format === 'npz') keys = exportNpz(model, flags.output, { names });
  else keys = await exportHdf5(model, flags.output, { names });
  process.stderr.write(`wrote ${flags.output}${keys ? ` (${keys.join(', ')})` : ''}\n`);
}

async function evaluateCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('evaluate needs --checkpoint PATH');
  applyRuntime(flags);
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const datasetName = flags.dataset ?? DEFAULTS.dataset;
  if (!DATASETS.includes(datasetName as DatasetName)) throw new UsageError(`unknown --dataset '${datasetName}'; choose one of: ${DATASETS.join(', ')}`);
  const model = loadModel(flags.checkpoint);
  const ds = await loadDataset(datasetName as DatasetName, { dataDir: flags['data-dir'], log: say });
  reportAccuracy(model, fitToModel(ds.test.x, model, say), ds.test.y, ds.classes, say, int(flags, 'batch-size', 256));
}

/** Images from .npy (floats as they are, uint8 scaled to [0, 1]), IDX (scaled) or CSV, as [N, H, W, C] for the model. */
function readImages(path: string, model: Sequential): Tensor {
  let x: Tensor;
  if (path.endsWith('.npy')) {
    const a = readNpy(path);
    x = a.dtype === 'u1' ? scaleImages(a.data as Uint8Array, a.shape) : toFloat32(a);
  } else if (path.endsWith('.csv')) {
    x = readCsv(path, { labelColumn: null }).x;
  } else {
    const idx = readIdx(path);
    x = scaleImages(idx.data, idx.dims);
  }
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  const n = x.shape[0];
  if (x.size !== n * per) {
    const [h, w, c] = model.inputShape;
    if (c === 1 && x.size === n * 28 * 28) x = resize(x.reshape([n, 28, 28, 1]), h, w);
    else throw new ConvkitError(`${path}: ${x.size / Math.max(n, 1)} values per image but the model takes ${model.inputShape.join('×')}`);
  }
  return x.reshape([n, ...model.inputShape]);
}

async function predictCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('predict needs --checkpoint PATH');
  if (!flags.input) throw new UsageError('predict needs --input FILE (.npy, IDX or .csv)');
  applyRuntime(flags);
  const model = loadModel(flags.checkpoint);
  const x = readImages(flags.input, model);
  const classes = model.predictClasses(x);
  const rows = ['ID,Label', ...Array.from(classes, (c, i) => `${i},${c}`)].join('\n') + '\n';
  if (flags.csv) {
    writeFileSync(flags.csv, rows);
    process.stderr.write(`wrote ${classes.length} predictions to ${flags.csv}\n`);
  } else process.stdout.write(rows);
}

function summaryCommand(flags: Flags): void {
  if (flags.checkpoint) console.log(loadModel(flags.checkpoint).summary());
  else {
    const name = flags.model ?? DEFAULTS.model;
    if (!ZOO[name]) throw new UsageError(`unknown --model '${name}'; choose one of: ${ZOO_NAMES.join(', ')}`);
    console.log(zooModel(name).summary());
    console.log(`\n${ZOO[name].description}`);
  }
}

function infoCommand(flags: Flags): void {
  applyRuntime(flags);
  const i = info();
  const lines: [string, string][] = [
    ['backend', i.backend],
    ['native addon', i.nativeAvailable ? (i.addonPath ?? '-') : `unavailable (${i.nativeError})`],
    ['instruction set', i.isa ?? '-'],
    ['supported', i.supportedIsas?.join(', ') ?? '-'],
    ['threads', String(i.threads)],
    ['OpenMP', i.openmp === undefined ? '-' : i.openmp ? 'on' : 'off'],
    ['node', process.version],
  ];
  for (const [k, v] of lines) console.log(`${k.padEnd(16)} ${v}`);
}

export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    flags = parsed.values as Flags;
    const [command, ...rest] = parsed.positionals;
    if (flags.help || command === 'help' || command === undefined) {
      process.stdout.write(HELP);
      return command === undefined && !flags.help ? 2 : 0;
    }
    if (rest.length > (command === 'report' ? 1 : 0)) throw new UsageError(`unexpected argument '${rest[rest.length - 1]}'`);
    switch (command) {
      case 'train':
        await train(flags);
        return 0;
      case 'evaluate':
        await evaluateCommand(flags);
        return 0;
      case 'predict':
        await predictCommand(flags);
        return 0;
      case 'summary':
        summaryCommand(flags);
        return 0;
      case 'export':
        await exportCommand(flags);
        return 0;
      case 'report':
        await reportCommand(flags, rest.shift());
        return 0;
      case 'info':
        infoCommand(flags);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'; commands: train, evaluate, predict, export, report, summary, info`);
    }
  } catch (error) {
    if (error instanceof Interrupted) return 130;
    const e = error as Error & { code?: string };
    const usage = error instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`convkit: ${usage ? '' : `${e.name === 'Error' ? 'error' : e.name}: `}${e.message}\n`);
    if (usage) process.stderr.write(`run 'convkit --help' for usage\n`);
    if (flags.verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
