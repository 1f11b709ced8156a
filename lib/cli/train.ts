// convkit train: settings, resuming, per-epoch checkpoints, Ctrl-C, TensorBoard, the report and the end-of-run summary.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { info } from '../backend/select.js';
import { type DatasetName, DATASETS, loadDataset } from '../data/datasets.js';
import { ConvkitError } from '../errors.js';
import { CHECKPOINT_FILE, loadModel, loadOptimizer, modelBytes, OPTIMIZER_FILE, optimizerBytes } from '../io/checkpoint.js';
import { clearRun, holdsRun, lockRunDir, recoverRunDir, saveGeneration } from '../io/rundir.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Sequential } from '../model.js';
import { Adam, OPTIMIZER_DEFAULTS, type Optimizer, type OptimizerName, SGD, stepDecay } from '../optimizers.js';
import type { Callbacks, EpochSums, History } from '../train.js';
import { type Analysis, writeReport } from '../viz/report.js';
import { EventWriter } from '../viz/tensorboard.js';
import { ZOO, ZOO_NAMES, zooModel } from '../zoo.js';
import { applyRuntime, DEFAULTS, type Flags, int, Interrupted, num, UsageError } from './options.js';
import { classLabel, firstN, fitToModel, reportAccuracy, summaryTable } from './shared.js';

/** Top-3 test images per class, as TensorBoard images at the final step. */
export function tensorboardImages(writer: EventWriter, analysis: Analysis, classes: readonly string[], step: number, size: [number, number]): void {
  analysis.topImages.forEach((images, c) =>
    images.forEach((png, r) => writer.image(`top3/${c}_${classes[c].replace(/[^A-Za-z0-9]+/g, '_')}/${r + 1}`, png, size[1] * 3, size[0] * 3, step)),
  );
}

export function makeOptimizer(name: OptimizerName, learningRate: number, decay: number, batchesPerEpoch: number) {
  const schedule = decay === 1 ? undefined : stepDecay({ every: batchesPerEpoch, factor: decay });
  if (name === 'adam') return new Adam({ learningRate, schedule });
  return new SGD({ learningRate, momentum: name === 'momentum' ? OPTIMIZER_DEFAULTS.momentum.momentum : 0, schedule });
}

/** What a run directory's run.json records of the settings, enough to resume. */
export interface RunSettings {
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

export function settingsFromFlags(flags: Flags): RunSettings {
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
    learningRate: num(flags, 'lr') ?? (optimizer === 'adam' ? DEFAULTS.adamLearningRate : OPTIMIZER_DEFAULTS[optimizer].learningRate),
    lrDecay: num(flags, 'lr-decay') ?? DEFAULTS.lrDecay,
    seed: int(flags, 'seed', DEFAULTS.seed, 0),
    validation,
    limit: flags.limit === undefined ? null : int(flags, 'limit', 1),
  };
}

/** Settings of the run being resumed; --epochs may extend it. */
export function settingsFromRun(dir: string, flags: Flags): RunSettings {
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
export interface Progress {
  epochsDone: number;
  batchesDone: number;
  /** The interrupted epoch's running sums, so the resumed epoch's loss and accuracy cover all its batches. */
  sums?: EpochSums;
}

export function progressOf(dir: string, history: History): Progress {
  try {
    const p = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).progress as Progress | undefined;
    if (p && Number.isInteger(p.epochsDone) && Number.isInteger(p.batchesDone)) return p;
  } catch {}
  return { epochsDone: history.epochs.length, batchesDone: 0 };
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, jsonBytes(value));
}

const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');

/** The files of a run directory, saved as one generation (lib/io/rundir.ts). */
const RUN_FILES = [CHECKPOINT_FILE, OPTIMIZER_FILE, 'history.json', 'run.json'];

export function mergeHistory(before: History | null, after: History): History {
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

export async function train(flags: Flags): Promise<void> {
  const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const resume = flags.resume;
  if (resume && flags.out !== undefined && resolve(flags.out) !== resolve(resume)) {
    throw new UsageError(`--out ${flags.out} with --resume ${resume}: a resumed run continues in its own directory; copy it first to continue elsewhere`);
  }
  const out = resume ?? flags.out;
  // The lock first: a resume completes the last save's publish, a new run may clear an old one.
  let release: (() => void) | undefined = out ? lockRunDir(out) : undefined;
  let settings: RunSettings;
  try {
    if (resume) recoverRunDir(resume);
    settings = resume ? settingsFromRun(resume, flags) : settingsFromFlags(flags);
  } catch (error) {
    release?.();
    throw error;
  }
  applyRuntime(flags);
  const started = performance.now();
  const ds = await loadDataset(settings.dataset, { dataDir: flags['data-dir'], log: say });
  const train = settings.limit ? firstN(ds.train.x, ds.train.y, settings.limit) : ds.train;
  const trainCount = Math.round(train.y.length * (1 - (settings.validation ?? 0)));
  if (trainCount < 1 || (settings.validation && trainCount === train.y.length)) {
    throw new UsageError(`--validation ${settings.validation} of ${train.y.length} training images leaves ${trainCount < 1 ? 'none to train on' : 'none to validate on'}; choose a fraction that leaves both`);
  }
  let model: Sequential;
  let optimizer: Optimizer;
  let previous: History | null = null;
  let start: Progress = { epochsDone: 0, batchesDone: 0 };
  if (resume) {
    model = loadModel(resume);
    optimizer = loadOptimizer(resume);
    optimizer.checkStateFor(model.parameters(), join(resume, OPTIMIZER_FILE));
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
  // One generation: model, optimizer state, history and settings together, or none of them.
  const saveRun = (history: History | null, run: Record<string, unknown>) => {
    runDir ??= join('runs', `${settings.model}-interrupted-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    release ??= lockRunDir(runDir);
    saveGeneration(runDir, {
      [CHECKPOINT_FILE]: modelBytes(model, { zoo: settings.model, dataset: settings.dataset, classes: JSON.stringify(ds.classes) }),
      [OPTIMIZER_FILE]: optimizerBytes(optimizer),
      'history.json': jsonBytes(history ?? { epochs: [], loss: [], accuracy: [], valLoss: [], valAccuracy: [], iterationLoss: [], stoppedEarly: false, interrupted: false }),
      'run.json': jsonBytes({ ...record, ...run }),
    });
  };
  const saveState = (progress: Progress, history: History) => saveRun(history, { progress });
  if (out && !resume && holdsRun(out)) {
    if (!flags.overwrite) {
      release?.();
      throw new UsageError(`${out} holds a run already; continue it with --resume ${out}, or pass --overwrite to replace it`);
    }
    clearRun(out, RUN_FILES);
  }
  // Ctrl-C: the first finishes the current batch and saves a resumable state;
  // a second exits at once (saves are atomic, so the last good one survives).
  const interrupt = new AbortController();
  // The message waits until fit returns (within a batch): written while the
  // progress bar is live, the bar would redraw below it.
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  // For the crash tests: CONVKIT_INTERRUPT_AT=n acts as a Ctrl-C after the n-th batch of this process, so a kill can be placed inside the interrupt's save.
  const interruptAt = Number(process.env.CONVKIT_INTERRUPT_AT || 0);
  let batchesRun = 0;
  const injected: Callbacks = { onBatchEnd: () => { if (++batchesRun === interruptAt) interrupt.abort(); } };
  // After every epoch the run directory holds a complete, resumable state.
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
    onEpochEnd: (logs, history) => {
      if (out) saveState({ epochsDone: logs.epoch, batchesDone: 0 }, mergeHistory(previous, history));
    },
  };
  let history: History | null = null;
  try {
    history = done >= settings.epochs
      ? null
      : await model.fit(trainX, train.y, {
          epochs: settings.epochs, initialEpoch: done, initialBatch: start.batchesDone, batchSize: settings.batchSize, seed: settings.seed, optimizer,
          initialEpochSums: start.batchesDone > 0 ? start.sums : undefined,
          validation: settings.validation ?? undefined, verbose: flags.quiet ? 0 : 1, callbacks: interruptAt > 0 ? [tensorboard, checkpoint, injected] : [tensorboard, checkpoint], signal: interrupt.signal,
          checkFinite: flags['no-check-finite'] ? false : 'all',
        });
  } catch (error) {
    release?.();
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (history?.interrupted) {
    const at = history.stoppedAt!;
    const sums = at.seen !== undefined ? { lossSum: at.lossSum!, correct: at.correct!, seen: at.seen } : undefined;
    // A Ctrl-C right after an epoch's last batch stops "in" the next epoch with no batch done.
    if (at.batch === 0) saveState({ epochsDone: at.epoch - 1, batchesDone: 0 }, mergeHistory(previous, history));
    else saveState({ epochsDone: at.epoch - 1, batchesDone: at.batch, sums }, mergeHistory(previous, history));
    release?.();
    process.stderr.write(`\nconvkit: interrupted in epoch ${at.epoch} after ${at.batch} batches; saved ${runDir}. Resume with: convkit train --resume ${runDir}\n`);
    throw new Interrupted();
  }
  const result = reportAccuracy(model, testX, ds.test.y, ds.classes, say, settings.batchSize, flags.json ? say : undefined);
  const seconds = (performance.now() - started) / 1000;
  const fullHistory = history ? mergeHistory(previous, history) : previous;
  const files: [string, string][] = [];
  if (out) {
    saveRun(fullHistory, { progress: { epochsDone: fullHistory?.epochs.length ?? done, batchesDone: 0 }, testAccuracy: result.accuracy, testLoss: result.loss, perClass: result.perClass, confusionMatrix: result.matrix, seconds });
    release?.();
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
  if (flags.json) {
    console.log(JSON.stringify({
      model: settings.model, dataset: settings.dataset, testAccuracy: result.accuracy, testLoss: result.loss, perClass: result.perClass,
      epochs: fullHistory?.epochs ?? [], seconds, dataSource: ds.sourceKind, files: Object.fromEntries(files),
    }));
  }
  if (!flags.quiet) {
    const rows: [string, string][] = [
      ['test accuracy', `${(result.accuracy * 100).toFixed(2)}%`],
      ['test loss', result.loss.toFixed(4)],
      ['worst class', `${classLabel(result.analysis.worst.class, result.analysis.worst.name)} (${(result.analysis.worst.accuracy * 100).toFixed(2)}%)`],
      ['epochs', String(fullHistory?.epochs.length ?? settings.epochs)],
      ['wall time', `${seconds.toFixed(1)} s (data: ${ds.sourceKind})`],
      ...files,
    ];
    process.stderr.write(`\nsummary\n${summaryTable(rows)}\n`);
  }
}
