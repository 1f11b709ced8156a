import { ownEntry } from '../core/check.js';
import { OPTIMIZER_NAMES } from '../core/defaults.js';
// convkit train: settings, resuming, per-epoch checkpoints, Ctrl-C, TensorBoard, the report and the end-of-run summary.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { info } from '../backend/select.js';
import { type DatasetName, DATASETS } from '../data/datasets.js';
import { PREPROCESSING_KEY } from '../data/preprocess.js';
import type { Augmentation } from '../data/augment.js';
import type { ClassWeight } from '../data/sampling.js';
import { ConvkitError } from '../core/errors.js';
import { CHECKPOINT_FILE, loadModel, loadOptimizer, modelBytes, OPTIMIZER_FILE, optimizerBytes } from '../models/checkpoint.js';
import { clearRun, holdsRun, recoverRunDir, saveGeneration } from '../formats/rundir.js';
import { lockRunDir } from '../formats/run-lock.js';
import { jsonBytes, writeFileAtomic } from '../formats/atomic.js';
import type { Model } from '../models/model.js';
import { cosineDecay, createOptimizer, multiStepDecay, oneCycle, type Optimizer, type OptimizerName, type Schedule, stepDecay } from '../optim/optimizers.js';
import type { Callbacks, EpochSums, History } from '../models/train.js';
import { type Analysis, writeReport } from '../viz/report.js';
import { EventWriter } from '../viz/tensorboard.js';
import { ZOO, ZOO_NAMES } from '../models/zoo.js';
import { SoftmaxCrossEntropy } from '../nn/losses.js';
import { applyRuntime, DEFAULTS, type Flags, int, Interrupted, num, UsageError } from './options.js';
import { checkOutputs } from './outputs.js';
import { parseAugment, parseClassWeight, parseFraction, parseSize, labelSmoothingFlag, scheduleFlags, weightDecayFlag } from './run-flags.js';
import { classLabel } from '../viz/charts.js';
import { reportAccuracy, summaryTable } from './shared.js';
import { buildModel, type DataSettings, initialModel, loadTaskData, modelSetting, prepareTask } from './task.js';

/** Top-3 test images per class, as TensorBoard images at the final step. */
export function tensorboardImages(writer: EventWriter, analysis: Analysis, classes: readonly string[], step: number, size: [number, number]): void {
  analysis.topImages.forEach((images, c) =>
    images.forEach((png, r) => writer.image(`top3/${c}_${classes[c].replace(/[^A-Za-z0-9]+/g, '_')}/${r + 1}`, png, size[1] * 3, size[0] * 3, step)),
  );
}

/** The learning-rate schedule a run's settings ask for: --lr-decay stepped per epoch or at milestone epochs, or cosine or one-cycle over the whole run (per batch). */
function runSchedule(settings: RunSettings, batchesPerEpoch: number): Schedule | undefined {
  // One cycle peaks at --lr, PyTorch's OneCycleLR(max_lr) over every batch of the run.
  if (settings.lrSchedule === 'onecycle') return oneCycle({ totalSteps: Math.max(2, settings.epochs * batchesPerEpoch) });
  if (settings.lrSchedule === 'cosine') {
    const warmupSteps = (settings.warmupEpochs ?? 0) * batchesPerEpoch;
    return cosineDecay({ decaySteps: settings.epochs * batchesPerEpoch - warmupSteps, warmupSteps });
  }
  if (settings.lrSchedule === 'multistep') return multiStepDecay({ milestones: settings.milestones!.map((e) => e * batchesPerEpoch), gamma: settings.lrDecay });
  return settings.lrDecay === 1 ? undefined : stepDecay({ every: batchesPerEpoch, factor: settings.lrDecay });
}

function describeAugment(a: Augmentation): string {
  return [a.shift ? `shifts up to ${a.shift} px${a.padMode === 'reflect' ? ' (reflected)' : ''}` : '', a.flip ? 'flips' : '', a.cutout ? `cutout ${a.cutout}×${a.cutout}` : ''].filter(Boolean).join(', ');
}

/** The run's optimizer: the API's own (createOptimizer) with the run's schedule. */
export function makeOptimizer(settings: RunSettings, batchesPerEpoch: number) {
  return createOptimizer(settings.optimizer, settings.learningRate, 'convkit train', runSchedule(settings, batchesPerEpoch), settings.weightDecay || undefined);
}

/** What a run directory's run.json records of the settings, enough to resume. */
export interface RunSettings extends DataSettings {
  /** A zoo name, or the absolute path of an architecture file. */
  model: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  lrDecay: number;
  /** 'cosine': cosine decay over all epochs, after warmupEpochs of linear warm-up; 'onecycle': PyTorch's OneCycleLR peaking at the rate; 'multistep': lrDecay after each milestone epoch; absent or 'step': lrDecay per epoch. */
  lrSchedule?: 'step' | 'cosine' | 'onecycle' | 'multistep';
  warmupEpochs?: number;
  /** With 'multistep': the epochs after which the rate is multiplied by lrDecay (torch's MultiStepLR). */
  milestones?: number[];
  /** L2 weight decay of the optimizer (0: none; runs recorded before it have none). */
  weightDecay?: number;
  /** Label smoothing of the cross-entropy (0: none; runs recorded before it have none). */
  labelSmoothing?: number;
  seed: number;
  classWeight: ClassWeight | null;
  augment: Augmentation | null;
  /** The trained model the run started from (--init), an absolute path; its layers up to `freeze` kept as they were. */
  init?: string;
  freeze?: string;
}

export function settingsFromFlags(given: Flags): RunSettings {
  let flags = given;
  if (flags.init !== undefined && flags.model !== undefined) throw new UsageError('--init and --model both say what to train; --init brings its own architecture');
  if (flags.freeze !== undefined && flags.init === undefined) throw new UsageError('--freeze goes with --init (the layers of a trained model to keep)');
  if (flags.init !== undefined && !existsSync(flags.init)) throw new UsageError(`--init ${flags.init}: no such file or folder`);
  const model = flags.init ?? flags.model ?? DEFAULTS.model;
  if (flags.init === undefined && !ownEntry(ZOO, model) && !model.toLowerCase().endsWith('.json')) throw new UsageError(`unknown --model '${model}'; choose one of: ${ZOO_NAMES.join(', ')}, or give an architecture file (.json)`);
  // --data cifar10 names a data set, as --dataset does, unless a file or folder has that name.
  if (flags.data !== undefined && (DATASETS as string[]).includes(flags.data) && !existsSync(flags.data) && flags.dataset === undefined) flags = { ...flags, dataset: flags.data, data: undefined };
  if (flags.data !== undefined && flags.dataset !== undefined) throw new UsageError('--data and --dataset both name the data; give one');
  if (flags.data === undefined && flags.test !== undefined) throw new UsageError('--test goes with --data (the named data sets bring their own test set)');
  const dataset = flags.data !== undefined ? null : ((flags.dataset ?? DEFAULTS.dataset) as DatasetName);
  if (dataset !== null && !DATASETS.includes(dataset)) throw new UsageError(`unknown --dataset '${dataset}'; choose one of: ${DATASETS.join(', ')}`);
  const optimizer = (flags.optimizer ?? DEFAULTS.optimizer) as OptimizerName;
  if (!OPTIMIZER_NAMES.includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got '${optimizer}'`);
  const shift = flags.shift === undefined ? 0 : int(flags, 'shift', 0, 0);
  if (flags.augment !== undefined && (flags.shift !== undefined || flags.flip)) throw new UsageError('--augment already says how to shift and flip; give it alone, without --shift or --flip');
  const labelSmoothing = labelSmoothingFlag(flags);
  return {
    model: modelSetting(model),
    dataset,
    data: flags.data === undefined ? null : resolve(flags.data),
    test: flags.test === undefined ? null : resolve(flags.test),
    testSplit: parseFraction(flags['test-split'], 'test-split'),
    resize: flags.resize === undefined ? null : parseSize(flags.resize, 'resize'),
    scaler: flags.scaler === 'standard' ? 'feature' : flags.scaler === 'channel' ? 'channel' : null,
    epochs: int(flags, 'epochs', DEFAULTS.epochs),
    batchSize: int(flags, 'batch-size', DEFAULTS.batchSize),
    optimizer,
    learningRate: num(flags, 'lr') ?? DEFAULTS.learningRate[optimizer],
    lrDecay: num(flags, 'lr-decay') ?? DEFAULTS.lrDecay,
    ...scheduleFlags(flags, int(flags, 'epochs', DEFAULTS.epochs)),
    weightDecay: weightDecayFlag(flags),
    ...(labelSmoothing > 0 ? { labelSmoothing } : {}),
    seed: int(flags, 'seed', DEFAULTS.seed, 0),
    validation: parseFraction(flags.validation, 'validation'),
    limit: flags.limit === undefined ? null : int(flags, 'limit', 1),
    classWeight: parseClassWeight(flags['class-weight']),
    augment: flags.augment !== undefined ? parseAugment(flags.augment) : shift > 0 || flags.flip ? { shift, flip: Boolean(flags.flip) } : null,
    ...(flags['skip-bad-images'] ? { skipBadImages: true } : {}),
    ...(flags.init !== undefined ? { init: resolve(flags.init), ...(flags.freeze !== undefined ? { freeze: flags.freeze } : {}) } : {}),
  };
}

/** Flags that set what a run is; a resume keeps them. */
const RUN_FLAGS = ['model', 'init', 'freeze', 'skip-bad-images', 'dataset', 'data', 'test', 'test-split', 'resize', 'scaler', 'batch-size', 'optimizer', 'lr', 'lr-decay', 'lr-schedule', 'milestones', 'warmup-epochs', 'weight-decay', 'label-smoothing', 'seed', 'validation', 'limit', 'class-weight', 'shift', 'flip', 'augment'] as const;

/** Settings of the run being resumed; --epochs may extend it. */
export function settingsFromRun(dir: string, flags: Flags): RunSettings {
  for (const name of RUN_FLAGS) {
    if (flags[name] !== undefined) throw new UsageError(`--${name} cannot change when resuming; the run keeps the settings in ${join(dir, 'run.json')}`);
  }
  let saved: RunSettings;
  try {
    saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).settings as RunSettings;
  } catch (error) {
    throw new ConvkitError(`--resume ${dir}: cannot read run.json (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!saved || typeof saved.model !== 'string') throw new ConvkitError(`--resume ${dir}: run.json has no usable settings`);
  // Runs saved before data files existed record only a data set name.
  const defaults: Partial<RunSettings> = { data: null, test: null, testSplit: null, resize: null, scaler: null, classWeight: null, augment: null };
  return { ...defaults, ...saved, epochs: int(flags, 'epochs', saved.epochs) };
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

/** The files of a run directory, saved as one generation (lib/io/rundir.ts). */
const RUN_FILES = [CHECKPOINT_FILE, OPTIMIZER_FILE, 'history.json', 'run.json'];

/** The data directory a run was started with (run.json), if any. */
function recordedDataDir(dir: string): string | undefined {
  try {
    const d = (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { dataDir?: unknown }).dataDir;
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

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
  // Started by a sweep or a queue worker (over an IPC channel): die with it,
  // as its own thread would. The run directory keeps the last whole
  // generation, and whoever takes the run over resumes it; a run that
  // outlived its worker would be a second writer.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  }
  const resume = flags.resume;
  checkOutputs([{ flag: '--out', path: flags.out ?? resume, kind: 'folder' }, { flag: '--tensorboard', path: flags.tensorboard, kind: 'folder' }, { flag: '--report', path: flags.report, kind: 'file' }]);
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
  // A resumed run reads its data where it did before, unless told otherwise:
  // falling back to $CONVKIT_DATA or the shipped sample would continue it on other data.
  const dataDir = flags['data-dir'] ?? (resume ? recordedDataDir(resume) : undefined);
  const ds = await loadTaskData(settings, dataDir, settings.seed, say);
  const trainCount = Math.round(ds.train.y.length * (1 - (settings.validation ?? 0)));
  if (trainCount < 1 || (settings.validation && trainCount === ds.train.y.length)) {
    throw new UsageError(`--validation ${settings.validation} of ${ds.train.y.length} training images leaves ${trainCount < 1 ? 'none to train on' : 'none to validate on'}; choose a fraction that leaves both`);
  }
  let model: Model;
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
    model = settings.init ? await initialModel(settings.init, settings.freeze, ds.classes.length, settings.seed, say) : buildModel(settings.model, ds, settings.resize, settings.seed);
    optimizer = makeOptimizer(settings, Math.ceil(trainCount / settings.batchSize));
  }
  const done = start.epochsDone;
  const prepared = prepareTask(ds, model, settings.scaler, say);
  const train = prepared.train;
  const testX = prepared.test.x;
  const testY = prepared.test.y;
  if (settings.labelSmoothing && model.outputUnits === 1) throw new UsageError(`--label-smoothing smooths a softmax over classes; ${model.name} has one sigmoid output`);
  const loss = settings.labelSmoothing ? new SoftmaxCrossEntropy({ labelSmoothing: settings.labelSmoothing }) : undefined;
  const validation = settings.validation ?? (prepared.val ? { x: prepared.val.x, y: prepared.val.y } : undefined);
  const i = info();
  const modelName = ownEntry(ZOO, settings.model) ? settings.model : model.name;
  say(`training ${modelName} (${model.countParams().toLocaleString('en-US')} parameters, input ${model.inputShape.join('×')}, ${ds.classes.length} classes${model.outputUnits === 1 ? ', one sigmoid output' : ''}) on ${trainCount.toLocaleString('en-US')} images: ${settings.epochs} epoch(s), batch ${settings.batchSize}, ${settings.optimizer} lr ${settings.learningRate}${settings.lrSchedule === 'onecycle' ? ', one cycle' : settings.lrSchedule === 'cosine' ? `, cosine decay${settings.warmupEpochs ? ` after ${settings.warmupEpochs} warm-up epoch(s)` : ''}` : settings.lrSchedule === 'multistep' ? ` ×${settings.lrDecay} after epoch(s) ${settings.milestones!.join(', ')}` : settings.lrDecay !== 1 ? ` ×${settings.lrDecay} per epoch` : ''}${settings.weightDecay ? `, weight decay ${settings.weightDecay}` : ''}${settings.labelSmoothing ? `, label smoothing ${settings.labelSmoothing}` : ''}${settings.classWeight ? `, class weights ${settings.classWeight === 'balanced' ? 'balanced' : settings.classWeight.join(',')}` : ''}${settings.augment ? `, augmented (${describeAugment(settings.augment)})` : ''}, backend ${i.backend}${i.backend === 'native' ? ` (${i.isa}, ${i.threads} threads)` : ''}`);
  const record = { settings, source: ds.source, ...(dataDir ? { dataDir: resolve(dataDir) } : {}), backend: i };
  const checkpointMeta = {
    zoo: modelName, dataset: settings.dataset ?? settings.data ?? '', classes: JSON.stringify(ds.classes), [PREPROCESSING_KEY]: JSON.stringify(prepared.preprocessing),
    ...(settings.data ? { data: settings.data, test: settings.test ?? '', testSplit: String(settings.testSplit ?? ''), seed: String(settings.seed) } : {}),
  };
  let runDir = out;
  // One generation: model, optimizer state, history and settings together, or none of them.
  const saveRun = (history: History | null, run: Record<string, unknown>) => {
    runDir ??= join('runs', `${settings.model}-interrupted-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    release ??= lockRunDir(runDir);
    saveGeneration(runDir, {
      [CHECKPOINT_FILE]: modelBytes(model, checkpointMeta),
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
    onBatchEnd: (_batch, logs) => board?.scalar('train/iteration_loss', logs.loss, ++iteration),
    onEpochEnd: (epoch, logs) => {
      if (!board) return;
      // TensorBoard's step is the number of epochs done.
      const step = epoch + 1;
      board.scalar('train/loss', logs.loss, step);
      board.scalar('train/accuracy', logs.accuracy, step);
      if (logs.valLoss !== undefined) {
        board.scalar('validation/loss', logs.valLoss, step);
        board.scalar('validation/accuracy', logs.valAccuracy!, step);
      }
      board.scalar('train/learning_rate', logs.learningRate, step);
      board.flush();
    },
  };
  const checkpoint: Callbacks = {
    onEpochEnd: (epoch, _logs, history) => {
      if (out) saveState({ epochsDone: epoch + 1, batchesDone: 0 }, mergeHistory(previous, history));
    },
  };
  let history: History | null = null;
  try {
    history = done >= settings.epochs
      ? null
      : await model.fit(train.x, train.y, {
          classWeight: settings.classWeight ?? undefined, augment: settings.augment ?? undefined, loss,
          epochs: settings.epochs, initialEpoch: done, initialBatch: start.batchesDone, batchSize: settings.batchSize, seed: settings.seed, optimizer,
          initialEpochSums: start.batchesDone > 0 ? start.sums : undefined,
          validation, verbose: flags.quiet ? 0 : 1, callbacks: interruptAt > 0 ? [tensorboard, checkpoint, injected] : [tensorboard, checkpoint], signal: interrupt.signal,
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
    if (at.batch === 0) saveState({ epochsDone: at.epoch, batchesDone: 0 }, mergeHistory(previous, history));
    else saveState({ epochsDone: at.epoch, batchesDone: at.batch, sums }, mergeHistory(previous, history));
    release?.();
    process.stderr.write(`\nconvkit: interrupted in epoch ${at.epoch + 1} after ${at.batch} batches; saved ${runDir}. Resume with: convkit train --resume ${runDir}\n`);
    throw new Interrupted();
  }
  const result = reportAccuracy(model, testX, testY, ds.classes, say, { batchSize: settings.batchSize, tta: flags.tta }, flags.json ? say : undefined);
  const seconds = (performance.now() - started) / 1000;
  const fullHistory = history ? mergeHistory(previous, history) : previous;
  const files: [string, string][] = [];
  if (out) {
    saveRun(fullHistory, { progress: { epochsDone: fullHistory?.epochs.length ?? done, batchesDone: 0 }, testAccuracy: result.accuracy, testLoss: result.loss, testTta: flags.tta ?? 'none', perClass: result.perClass, confusionMatrix: result.matrix, seconds });
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
      title: `${modelName} on ${ds.name}`, model, history: fullHistory, settings: { ...settings, data: ds.source, seconds: Number(seconds.toFixed(1)) },
      classes: ds.classes, test: { x: testX, y: testY }, dataSource: ds.source,
    }, { svgDir: out ?? dirname(flags.report), analysis: result.analysis });
    files.push(['report', report.html], ['curves (SVG)', report.svgs.length ? dirname(report.svgs[0]) : '-']);
  }
  if (flags.json) {
    console.log(JSON.stringify({
      model: settings.model, dataset: settings.dataset ?? undefined, data: settings.data ?? undefined, testAccuracy: result.accuracy, testLoss: result.loss, testTta: flags.tta ?? 'none', perClass: result.perClass,
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
