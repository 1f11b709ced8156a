// The other commands: report, export, evaluate, predict, summary, info.
import { readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { info } from '../backend/select.js';
import { readCsv } from '../data/csv.js';
import { type DatasetName, DATASETS, loadDataset } from '../data/datasets.js';
import { readIdx } from '../data/idx.js';
import { readNpy, toFloat32 } from '../data/npy.js';
import { resize, scaleImages } from '../data/transforms.js';
import { ConvkitError } from '../errors.js';
import { checkpointMetadata, loadModel } from '../io/checkpoint.js';
import { exportHdf5 } from '../io/hdf5.js';
import type { NameMapping } from '../io/names.js';
import { exportNpz } from '../io/npz.js';
import { exportOnnx } from '../io/onnx.js';
import type { Sequential } from '../model.js';
import type { Tensor } from '../tensor.js';
import type { History } from '../train.js';
import { selfTest } from '../selftest.js';
import { writeReport } from '../viz/report.js';
import { ZOO, ZOO_NAMES, zooModel } from '../zoo.js';
import { applyRuntime, DEFAULTS, type Flags, int, UsageError } from './options.js';
import { fitToModel, reportAccuracy } from './shared.js';
import type { RunSettings } from './train.js';

export async function reportCommand(flags: Flags, dir: string | undefined): Promise<void> {
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

const FORMAT_OF_EXTENSION: Record<string, 'onnx' | 'npz' | 'h5'> = { '.onnx': 'onnx', '.npz': 'npz', '.h5': 'h5', '.hdf5': 'h5' };

export async function exportCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('export needs --checkpoint PATH');
  if (!flags.output) throw new UsageError('export needs --output FILE');
  const format = flags.format ?? FORMAT_OF_EXTENSION[extname(flags.output).toLowerCase()];
  if (format !== 'onnx' && format !== 'npz' && format !== 'h5') throw new UsageError(`cannot tell the format of '${flags.output}' from its extension; name it .onnx, .npz or .h5, or pass --format onnx|npz|h5`);
  const { file } = checkpointMetadata(flags.checkpoint);
  if (resolve(flags.output) === resolve(file)) throw new UsageError(`--output ${flags.output} is the checkpoint itself; export to another file`);
  const names = (flags.names ?? (format === 'h5' ? 'numbered' : 'model')) as NameMapping;
  if (!['model', 'course', 'numbered'].includes(names as string)) throw new UsageError(`--names must be model, course or numbered, got '${flags.names}'`);
  const model = loadModel(flags.checkpoint);
  let keys: string[] | null = null;
  if (format === 'onnx') await exportOnnx(model, flags.output);
  else if (format === 'npz') keys = await exportNpz(model, flags.output, { names });
  else keys = await exportHdf5(model, flags.output, { names });
  process.stderr.write(`wrote ${flags.output}${keys ? ` (${keys.join(', ')})` : ''}\n`);
}

export async function evaluateCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('evaluate needs --checkpoint PATH');
  applyRuntime(flags);
  const say = flags.quiet || flags.json ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const { file, metadata } = checkpointMetadata(flags.checkpoint);
  const trainedOn = metadata.dataset as DatasetName | undefined;
  const datasetName = (flags.dataset ?? trainedOn ?? DEFAULTS.dataset) as DatasetName;
  if (!DATASETS.includes(datasetName)) throw new UsageError(`unknown --dataset '${datasetName}'; choose one of: ${DATASETS.join(', ')}`);
  if (trainedOn && trainedOn !== datasetName) {
    throw new UsageError(`${file} was trained on ${trainedOn}, not ${datasetName}: its classes mean other things there; evaluate it on ${trainedOn} (drop --dataset)`);
  }
  const model = loadModel(file);
  const ds = await loadDataset(datasetName, { dataDir: flags['data-dir'], log: say });
  const classes = model.outputUnits === 1 ? 2 : model.outputUnits;
  if (classes !== ds.classes.length) throw new ConvkitError(`${file} predicts ${classes} classes but ${datasetName} has ${ds.classes.length}`);
  const result = reportAccuracy(model, fitToModel(ds.test.x, model, say), ds.test.y, ds.classes, say, int(flags, 'batch-size', 256), flags.json ? () => {} : undefined);
  if (flags.json) {
    console.log(JSON.stringify({ checkpoint: file, dataset: datasetName, accuracy: result.accuracy, loss: result.loss, perClass: result.perClass, confusionMatrix: result.matrix }));
  }
}

/** Images from .npy (floats as they are, uint8 scaled to [0, 1]), IDX (scaled) or CSV, as [N, H, W, C] for the model. */
export function readImages(path: string, model: Sequential): Tensor {
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

export async function predictCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('predict needs --checkpoint PATH');
  if (!flags.input) throw new UsageError('predict needs --input FILE (.npy, IDX or .csv)');
  applyRuntime(flags);
  const model = loadModel(flags.checkpoint);
  const x = readImages(flags.input, model);
  const probabilities = model.predict(x);
  const classes = model.predictClasses(x);
  const rows = ['ID,Label', ...Array.from(classes, (c, i) => `${i},${c}`)].join('\n') + '\n';
  if (flags.csv) {
    writeFileAtomic(flags.csv, new TextEncoder().encode(rows));
    process.stderr.write(`wrote ${classes.length} predictions to ${flags.csv}\n`);
  }
  if (flags.json) {
    const units = probabilities.size / Math.max(classes.length, 1);
    const rowsOut = Array.from(classes, (label, id) => ({ id, label, probabilities: Array.from(probabilities.data.subarray(id * units, (id + 1) * units)) }));
    console.log(JSON.stringify({ checkpoint: flags.checkpoint, input: flags.input, predictions: rowsOut }));
  } else if (!flags.csv) process.stdout.write(rows);
}

export function summaryCommand(flags: Flags): void {
  if (flags.checkpoint) console.log(loadModel(flags.checkpoint).summary());
  else {
    const name = flags.model ?? DEFAULTS.model;
    if (!ZOO[name]) throw new UsageError(`unknown --model '${name}'; choose one of: ${ZOO_NAMES.join(', ')}`);
    console.log(zooModel(name).summary());
    console.log(`\n${ZOO[name].description}`);
  }
}

export function infoCommand(flags: Flags): void {
  applyRuntime(flags);
  const i = info();
  if (flags.json) {
    console.log(JSON.stringify({ ...i, node: process.version }));
    return;
  }
  const lines: [string, string][] = [
    ['convkit', i.version],
    ['backend', i.backend],
    ['native addon', i.nativeAvailable ? `${i.addonSource}: ${i.addonPath}` : `unavailable (${i.nativeError})`],
    ['instruction set', i.isa ?? '-'],
    ['supported', i.supportedIsas?.join(', ') ?? '-'],
    ['threads', String(i.threads)],
    ['OpenMP', i.openmp === undefined ? '-' : i.openmp ? 'on' : 'off'],
    ['node', `${process.version} (${i.platform})`],
  ];
  for (const [k, v] of lines) console.log(`${k.padEnd(16)} ${v}`);
}

/** Native against reference on a few networks; exit 1 when they disagree. */
export function selftestCommand(flags: Flags): number {
  applyRuntime(flags);
  const result = selfTest();
  const say = (m: string) => process.stdout.write(`${m}\n`);
  say(`native ${result.isa}, ${result.threads} thread${result.threads === 1 ? '' : 's'} against the reference backend:`);
  for (const c of result.cases) say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(14)} worst difference ${c.worst.toFixed(3)} of its tolerance${c.ok ? '' : ` at ${c.where}`}`);
  say(result.ok ? 'selftest passed' : 'selftest FAILED');
  return result.ok ? 0 : 1;
}
