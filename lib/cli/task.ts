// What `convkit train` trains on and with: the data (a named data set or the
// user's file), the test set (the file's, --test, or a held-out split), the
// model (a zoo model adapted to the data's channels and classes, or an
// architecture file) and the preprocessing (resize, StandardScaler) that is
// saved with the checkpoint.
import { ownEntry } from '../core/check.js';
import { extname, resolve } from 'node:path';
import { type DatasetName, DATASETS, loadDataset } from '../data/datasets.js';
import { type LabelledSet, loadDataFile } from '../data/files.js';
import { type Preprocessing, prepareImages } from '../data/preprocess.js';
import { StandardScaler, split } from '../data/transforms.js';
import { ConvkitError } from '../core/errors.js';
import { importModel, withNewHead } from '../interchange/import-any.js';
import { readFileBounded } from '../formats/read.js';
import type { ModelConfig } from '../models/sequential.js';
import type { Model } from '../models/model.js';
import { modelFromConfig } from '../models/from-config.js';
import { ZOO, ZOO_NAMES, zooModel } from '../models/zoo.js';
import { UsageError } from './options.js';

/** The data part of a run's settings (run.json records them to resume). */
export interface DataSettings {
  /** A named data set (MNIST layout), or null for a file. */
  dataset: DatasetName | null;
  /** The user's data file or folder (absolute), or null. */
  data: string | null;
  /** A separate test file, or null. */
  test: string | null;
  /** Fraction held out for testing when the data has no test set. */
  testSplit: number | null;
  /** Images resized to [H, W] before training (and the model built for it). */
  resize: [number, number] | null;
  /** Standardise with a StandardScaler fitted on the training images: per feature (--scaler standard) or per channel (--scaler channel). */
  scaler: 'feature' | 'channel' | null;
  validation: number | null;
  limit: number | null;
  /** Leave out unreadable images of an image folder (--skip-bad-images), each named. */
  skipBadImages?: boolean;
}

export interface TaskData {
  /** In words, for the log and the report. */
  name: string;
  source: string;
  /** Where the data came from: 'file' for --data, else how a named data set was found. */
  sourceKind: string;
  classes: string[];
  train: LabelledSet;
  /** Validation data the file brought (val_* arrays); a --validation fraction is split by fit. */
  val: LabelledSet | null;
  test: LabelledSet;
  /** [H, W, C] of the images as read. */
  shape: [number, number, number];
}

const toInt32 = (y: ArrayLike<number>) => Int32Array.from(y);

/** Whether two class lists name their classes differently (image folders name them; arrays number them). */
const namesDiffer = (a: string[], b: string[]) => a.some((n, i) => n !== String(i)) && (a.length !== b.length || a.some((n, i) => n !== b[i]));

/** A test set's labels in the training set's class order, matched by name (a test folder may lack a class). */
function remapLabels(y: Int32Array, from: string[], to: string[], what: string): Int32Array {
  const index = from.map((name) => to.indexOf(name));
  const missing = from.filter((_, i) => index[i] < 0);
  if (missing.length) throw new UsageError(`${what}: classes ${missing.map((m) => `'${m}'`).join(', ')} are not among the training classes (${to.join(', ')})`);
  return Int32Array.from(y, (v) => index[v]);
}

/** Reads the training, validation and test data the settings name. */
export async function loadTaskData(s: DataSettings, dataDir: string | undefined, seed: number, say: (m: string) => void): Promise<TaskData> {
  let task: Omit<TaskData, 'shape'>;
  if (s.data) {
    const file = await loadDataFile(s.data, { log: say, skipBadImages: s.skipBadImages === true });
    let train = file.train;
    let test = file.test ?? null;
    let source = file.source;
    if (s.test) {
      const t = await loadDataFile(s.test, { log: say, skipBadImages: s.skipBadImages === true });
      test = t.test ?? t.train ?? t.val ?? null;
      if (test && namesDiffer(file.classes, t.classes)) test = { x: test.x, y: remapLabels(test.y, t.classes, file.classes, s.test) };
      source += `; test: ${t.source}`;
    }
    if (!train) throw new UsageError(`${s.data} has no training arrays (only ${[file.val && 'validation', file.test && 'test'].filter(Boolean).join(' and ')}); give it as --test and the training file as --data`);
    if (!test) {
      const fraction = s.testSplit ?? 0.2;
      const [rest, held] = split(train.x, train.y, [1 - fraction, fraction], { seed });
      say(`data: no test set in ${s.data}; holding out ${Math.round(fraction * 100)}% (${held.y.length}) of it for testing (--test FILE gives one)`);
      train = rest;
      test = held;
    }
    let testMax = 0;
    for (let i = 0; i < test.y.length; i++) testMax = Math.max(testMax, test.y[i] + 1);
    const classes = [...file.classes, ...Array.from({ length: Math.max(0, testMax - file.classes.length) }, (_, i) => String(file.classes.length + i))];
    task = { name: s.data, source, sourceKind: 'file', classes, train, val: file.val ?? null, test };
  } else {
    const ds = await loadDataset(s.dataset ?? 'mnist', { dataDir, log: say });
    task = { name: ds.name, source: ds.source, sourceKind: ds.sourceKind, classes: ds.classes, train: { x: ds.train.x, y: toInt32(ds.train.y) }, val: null, test: { x: ds.test.x, y: toInt32(ds.test.y) } };
  }
  if (s.limit && s.limit < task.train.y.length) task.train = { x: task.train.x.slice(0, s.limit), y: task.train.y.subarray(0, s.limit) };
  const [, h, w, c] = task.train.x.shape;
  return { ...task, shape: [h, w, c] };
}

/** The model: a zoo name, adapted to the data's channels and classes (and --resize), or a JSON architecture file. */
export function buildModel(name: string, task: TaskData, resize: [number, number] | null, seed: number): Model {
  const classes = task.classes.length;
  const channels = task.shape[2];
  const zoo = ownEntry(ZOO, name);
  if (zoo) {
    const [h, w] = resize ?? zoo.inputShape;
    return zooModel(name, { seed, channels, classes, height: h, width: w });
  }
  if (extname(name).toLowerCase() !== '.json') throw new UsageError(`unknown --model '${name}'; choose one of: ${ZOO_NAMES.join(', ')}, or give an architecture file (.json)`);
  let config: ModelConfig;
  try {
    config = JSON.parse(readFileBounded(name).toString('utf8'));
  } catch (error) {
    if (error instanceof ConvkitError) throw error;
    throw new ConvkitError(`${name}: not valid JSON (${(error as Error).message})`);
  }
  const [h, w] = resize ?? [task.shape[0], task.shape[1]];
  try {
    const modelName = config.name ?? name.replace(/^.*[\\/]/, '').replace(/\.json$/i, '');
    // A functional file names its inputs' shapes; a Sequential one may leave its shape to the data.
    if ('inputs' in config) return modelFromConfig({ ...config, seed, name: modelName });
    return modelFromConfig({ ...config, inputShape: config.inputShape ?? [h, w, channels], seed, name: modelName });
  } catch (error) {
    throw new ConvkitError(`${name}: ${(error as Error).message}`);
  }
}

/**
 * --init: a trained model from any file importModel reads, under a new final
 * Dense layer when the data has another number of classes, frozen up to and
 * including the --freeze layer (a name or an index).
 */
export async function initialModel(path: string, freeze: string | undefined, classes: number, seed: number, say: (m: string) => void): Promise<Model> {
  let model = await importModel(path);
  const units = classes === 2 && model.outputUnits === 1 ? 1 : classes;
  if (model.outputUnits !== units) {
    const before = model.outputUnits;
    model = withNewHead(model, units, seed);
    say(`--init ${path}: ${before} outputs, the data has ${classes} classes; a new final Dense layer of ${units} takes their place`);
  }
  if (freeze !== undefined) {
    const index = /^\d+$/.test(freeze) ? Number(freeze) : model.layers.findIndex((l) => l.name === freeze);
    if (index < 0 || index >= model.layers.length) throw new UsageError(`--freeze ${freeze}: ${/^\d+$/.test(freeze) ? `the model has layers 0..${model.layers.length - 1}` : `no layer is named so; the layers are ${model.layers.map((l) => l.name).join(', ')}`}`);
    for (let i = 0; i <= index; i++) model.layers[i].trainable = false;
    const total = model.weights().reduce((n, p) => n + p.value.size, 0);
    say(`froze ${index + 1} layers (up to '${model.layers[index].name}'); ${model.countParams().toLocaleString('en-US')} of ${total.toLocaleString('en-US')} weights train`);
  }
  return model;
}

/** Whether a model name is an architecture file (recorded absolute, so a resume elsewhere finds it). */
export const modelSetting = (name: string) => (ownEntry(ZOO, name) ? name : resolve(name));

export interface PreparedTask {
  train: LabelledSet;
  val: LabelledSet | null;
  test: LabelledSet;
  preprocessing: Preprocessing;
}

/** Resizes every set to the model's input and, with --scaler, standardises them with a scaler fitted on the training images. */
export function prepareTask(task: TaskData, model: Model, scaler: 'feature' | 'channel' | null, say: (m: string) => void): PreparedTask {
  const preprocessing: Preprocessing = { sourceShape: task.shape };
  let trainX = prepareImages(task.train.x, model, preprocessing, 'training images', say);
  if (scaler) {
    const fitted = new StandardScaler({ per: scaler }).fit(trainX);
    preprocessing.scaler = fitted.toJSON();
    trainX = fitted.transform(trainX);
    say(`scaler: standardising each of ${preprocessing.scaler.mean.length.toLocaleString('en-US')} ${scaler === 'channel' ? 'channel' : 'feature'}${preprocessing.scaler.mean.length === 1 ? '' : 's'} with the training images' mean and std`);
  }
  const quiet = () => {};
  const ready = (set: LabelledSet, what: string): LabelledSet => ({ x: prepareImages(set.x, model, preprocessing, what, quiet), y: set.y });
  return {
    train: { x: trainX, y: task.train.y },
    val: task.val ? ready(task.val, 'validation images') : null,
    test: ready(task.test, 'test images'),
    preprocessing,
  };
}

/**
 * The test set a checkpoint is judged on: --data FILE when given (its test
 * arrays, else all of it), else the data the checkpoint records it was
 * trained on (the same held-out split for a file without a test set).
 */
export async function recordedTestSet(metadata: Record<string, string>, flags: { data?: string; dataset?: string; 'data-dir'?: string }, file: string, say: (m: string) => void): Promise<{ name: string; classes: string[]; test: LabelledSet }> {
  if (flags.data) {
    const d = await loadDataFile(resolve(flags.data), { log: say });
    const test = d.test ?? d.train ?? d.val!;
    // Named classes (image folders) are matched to the checkpoint's by name, as train --test does.
    const trained = metadata.classes ? (JSON.parse(metadata.classes) as string[]) : null;
    if (trained && namesDiffer(trained, d.classes)) return { name: flags.data, classes: trained, test: { x: test.x, y: remapLabels(test.y, d.classes, trained, flags.data) } };
    return { name: flags.data, classes: d.classes, test };
  }
  const recorded = metadata.dataset;
  const named = (DATASETS as string[]).includes(recorded ?? '') ? (recorded as DatasetName) : null;
  if (flags.dataset && recorded && flags.dataset !== recorded) {
    throw new UsageError(`${file} was trained on ${recorded}, not ${flags.dataset}: its classes mean other things there; evaluate it on ${recorded} (drop --dataset), or give a data file with --data`);
  }
  if (metadata.data) {
    const task = await loadTaskData({
      dataset: null, data: metadata.data, test: metadata.test || null, testSplit: metadata.testSplit ? Number(metadata.testSplit) : null,
      resize: null, scaler: null, validation: null, limit: null,
    }, undefined, Number(metadata.seed ?? 0), say);
    return { name: metadata.data, classes: task.classes, test: task.test };
  }
  const name = (flags.dataset ?? named ?? 'mnist') as DatasetName;
  if (!DATASETS.includes(name)) throw new UsageError(`unknown --dataset '${name}'; choose one of: ${DATASETS.join(', ')}`);
  const ds = await loadDataset(name, { dataDir: flags['data-dir'], log: say });
  return { name, classes: ds.classes, test: { x: ds.test.x, y: Int32Array.from(ds.test.y) } };
}
