// The other commands: report, export, evaluate, predict, summary, info.
import { ownEntry } from '../core/check.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../formats/atomic.js';
import { info } from '../backend/select.js';
import { imagesFrom, loadDataFile, readCsvImages } from '../data/files.js';
import { preprocessingFrom, prepareImages } from '../data/preprocess.js';
import { readIdx } from '../formats/idx.js';
import { readNpy } from '../formats/npy.js';
import { ConvkitError } from '../core/errors.js';
import { loadCheckpoint, loadModel, resolveCheckpointPath } from '../models/checkpoint.js';
import { exportHdf5 } from '../interchange/hdf5.js';
import type { NameMapping } from '../interchange/names.js';
import { exportNpz } from '../interchange/npz.js';
import { exportOnnx } from '../interchange/onnx.js';
import { exportKerasH5, saveLayersModel } from '../interchange/keras/write.js';
import { checkOutputs } from './outputs.js';
import type { Tensor } from '../core/tensor.js';
import type { History } from '../models/train.js';
import { selfTest } from '../models/selftest.js';
import { writeReport } from '../viz/report.js';
import { type CurveFormat, exportCurves } from '../viz/curves.js';
import { readFileBounded } from '../formats/read.js';
import { ZOO, ZOO_NAMES, zooModel } from '../models/zoo.js';
import { applyRuntime, DEFAULTS, type Flags, int, UsageError } from './options.js';
import { reportAccuracy } from './shared.js';
import { recordedTestSet } from './task.js';
import { runDirsOf, writeRunComparison } from './compare.js';
import { sweepPaths } from '../sweep/runner.js';
import type { RunSettings } from './train.js';

export async function curvesCommand(flags: Flags, dir: string | undefined): Promise<void> {
  if (!dir) throw new UsageError('curves needs a run directory: convkit curves RUN_DIR');
  let history: History;
  try {
    history = JSON.parse(readFileBounded(join(dir, 'history.json')).toString('utf8'));
  } catch (error) {
    throw new ConvkitError(`${dir}: not a run directory (cannot read history.json: ${(error as Error).message})`);
  }
  checkOutputs([{ flag: '--output', path: flags.output ?? dir, kind: 'folder' }]);
  const files = exportCurves(history, flags.output ?? dir, { format: (flags.format ?? 'svg') as CurveFormat });
  process.stderr.write(`wrote ${files.join(', ')}\n`);
}

export async function reportCommand(flags: Flags & { title?: string }, ...dirs: string[]): Promise<void> {
  if (dirs.length === 0) throw new UsageError('report needs a run directory: convkit report RUN_DIR [RUN_DIR ...]');
  checkOutputs([{ flag: '--output', path: flags.output, kind: 'file' }]);
  if (dirs.length > 1 || existsSync(sweepPaths(dirs[0]).plan)) {
    applyRuntime(flags);
    const say = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
    const sweepDir = dirs.length === 1 ? dirs[0] : null;
    const output = flags.output ?? (sweepDir ? sweepPaths(sweepDir).report : 'comparison.html');
    const runs = runDirsOf(dirs);
    const file = await writeRunComparison(output, runs, { title: flags.title ?? (sweepDir ? `Sweep ${sweepDir}: ${runs.length} runs` : `${runs.length} runs compared`), dataDir: flags['data-dir'], say });
    say(`wrote ${file}`);
    return;
  }
  const runDir = dirs[0];
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
  const { file, model, metadata } = loadCheckpoint(runDir);
  const judged = await recordedTestSet(metadata, { 'data-dir': flags['data-dir'] }, file, say);
  const testX = prepareImages(judged.test.x, model, preprocessingFrom(metadata, file), 'test images', say);
  const output = flags.output ?? join(runDir, 'report.html');
  const report = await writeReport(output, {
    title: `${metadata.zoo ?? model.name} on ${judged.name}`, model, history, settings: { ...run.settings, data: run.source ?? judged.name }, classes: judged.classes,
    test: { x: testX, y: judged.test.y }, dataSource: run.source ?? judged.name,
  }, { svgDir: runDir });
  process.stderr.write(`wrote ${report.html} and ${report.svgs.length} SVG curves in ${runDir}\n`);
}

const FORMAT_OF_EXTENSION: Record<string, 'onnx' | 'npz' | 'h5'> = { '.onnx': 'onnx', '.npz': 'npz', '.h5': 'h5', '.hdf5': 'h5' };
const FORMATS = ['onnx', 'npz', 'h5', 'keras', 'tfjs'];

export async function exportCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('export needs --checkpoint PATH');
  if (!flags.output) throw new UsageError('export needs --output FILE');
  checkOutputs([{ flag: '--output', path: flags.output, kind: flags.format === 'tfjs' ? 'folder' : 'file' }]);
  const format = flags.format ?? FORMAT_OF_EXTENSION[extname(flags.output).toLowerCase()];
  if (!format || !FORMATS.includes(format)) throw new UsageError(`cannot tell the format of '${flags.output}' from its extension; name it .onnx, .npz or .h5, or pass --format ${FORMATS.join('|')} (keras: an .h5 Keras loads; tfjs: a LayersModel folder)`);
  const file = resolveCheckpointPath(flags.checkpoint, false);
  if (resolve(flags.output) === resolve(file)) throw new UsageError(`--output ${flags.output} is the checkpoint itself; export to another file`);
  const names = (flags.names ?? (format === 'h5' ? 'numbered' : 'model')) as NameMapping;
  if (!['model', 'course', 'numbered'].includes(names as string)) throw new UsageError(`--names must be model, course or numbered, got '${flags.names}'`);
  const model = loadModel(flags.checkpoint);
  let keys: string[] | null = null;
  if (format === 'onnx') await exportOnnx(model, flags.output);
  else if (format === 'keras') await exportKerasH5(model, flags.output);
  else if (format === 'tfjs') await saveLayersModel(model, flags.output);
  else if (format === 'npz') keys = await exportNpz(model, flags.output, { names });
  else keys = await exportHdf5(model, flags.output, { names });
  process.stderr.write(`wrote ${flags.output}${keys ? ` (${keys.join(', ')})` : ''}\n`);
}

export async function evaluateCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('evaluate needs --checkpoint PATH');
  applyRuntime(flags);
  const say = flags.quiet || flags.json ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const { file, model, metadata } = loadCheckpoint(flags.checkpoint);
  const judged = await recordedTestSet(metadata, flags, file, say);
  const classes = model.outputUnits === 1 ? 2 : model.outputUnits;
  const recorded = metadata.classes ? (JSON.parse(metadata.classes) as string[]) : judged.classes;
  const labelMax = judged.test.y.reduce((m, v) => Math.max(m, v), 0);
  if (labelMax >= classes) throw new ConvkitError(`${file} predicts ${classes} classes but ${judged.name} has labels up to ${labelMax}`);
  const x = prepareImages(judged.test.x, model, preprocessingFrom(metadata, file), `${judged.name}`, say);
  const names = recorded.length === classes ? recorded : Array.from({ length: classes }, (_, i) => String(i));
  const result = reportAccuracy(model, x, judged.test.y, names, say, { batchSize: int(flags, 'batch-size', 256), tta: flags.tta }, flags.json ? () => {} : undefined);
  if (flags.json) {
    console.log(JSON.stringify({ checkpoint: file, dataset: judged.name, tta: flags.tta ?? 'none', accuracy: result.accuracy, loss: result.loss, perClass: result.perClass, confusionMatrix: result.matrix }));
  }
}

/**
 * Images from any data file convkit reads (.npz and .h5: the test arrays,
 * else the only ones; .npy: the array itself; IDX; CSV), as [N, H, W, C].
 * Bytes are scaled to [0, 1], other types taken as they are.
 */
export async function readImages(path: string, say: (m: string) => void): Promise<Tensor> {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpy(path);
    return imagesFrom({ data: a.data as ArrayLike<number>, shape: [...a.shape], bytes: a.dtype === 'u1' }, path, say);
  }
  if (ext === '.csv') return readCsvImages(path, null, say).x;
  if (ext === '.npz' || ext === '.h5' || ext === '.hdf5' || (existsSync(path) && statSync(path).isDirectory())) {
    const d = await loadDataFile(path, { log: say });
    return (d.test ?? d.train ?? d.val)!.x;
  }
  const idx = readIdx(path);
  return imagesFrom({ data: idx.data, shape: [...idx.dims], bytes: true }, path, say);
}

export async function predictCommand(flags: Flags): Promise<void> {
  if (!flags.checkpoint) throw new UsageError('predict needs --checkpoint PATH');
  if (!flags.input) throw new UsageError('predict needs --input FILE (.npz, .h5, .npy, IDX or .csv)');
  const file = resolveCheckpointPath(flags.checkpoint, false);
  if (flags.csv && (resolve(flags.csv) === resolve(flags.input) || resolve(flags.csv) === resolve(file))) {
    throw new UsageError(`--csv ${flags.csv} would replace its own input; write the predictions to another file`);
  }
  checkOutputs([{ flag: '--csv', path: flags.csv, kind: 'file' }]);
  applyRuntime(flags);
  const say = flags.json ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const { model, metadata } = loadCheckpoint(file);
  const x = prepareImages(await readImages(flags.input, say), model, preprocessingFrom(metadata, file), flags.input, say);
  const probabilities = model.predict(x, { tta: flags.tta });
  const classes = model.predictClasses(x, { tta: flags.tta });
  const units = probabilities.size / Math.max(classes.length, 1);
  // One sigmoid output is the probability of class 1.
  const header = flags.probabilities ? (units === 1 ? ['ID', 'Label', 'P1'] : ['ID', 'Label', ...Array.from({ length: units }, (_, c) => `P${c}`)]) : ['ID', 'Label'];
  const line = (c: number, i: number) => {
    const cells = [String(i), String(c)];
    if (flags.probabilities) for (let k = 0; k < units; k++) cells.push(probabilities.data[i * units + k].toPrecision(6));
    return cells.join(',');
  };
  const rows = [header.join(','), ...Array.from(classes, line)].join('\n') + '\n';
  if (flags.csv) {
    writeFileAtomic(flags.csv, new TextEncoder().encode(rows));
    process.stderr.write(`wrote ${classes.length} predictions to ${flags.csv}\n`);
  }
  if (flags.json) {
    const rowsOut = Array.from(classes, (label, id) => ({ id, label, probabilities: Array.from(probabilities.data.subarray(id * units, (id + 1) * units)) }));
    console.log(JSON.stringify({ checkpoint: flags.checkpoint, input: flags.input, predictions: rowsOut }));
  } else if (!flags.csv) process.stdout.write(rows);
}

export function summaryCommand(flags: Flags): void {
  if (flags.checkpoint) console.log(loadModel(flags.checkpoint).summary());
  else {
    const name = flags.model ?? DEFAULTS.model;
    const entry = ownEntry(ZOO, name);
    if (!entry) throw new UsageError(`unknown --model '${name}'; choose one of: ${ZOO_NAMES.join(', ')}`);
    console.log(zooModel(name).summary());
    console.log(`\n${entry.description}`);
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
    ['convolutions', i.convAlgorithm === undefined ? '-' : CONV_ALGORITHM_SAYS[i.convAlgorithm] ?? i.convAlgorithm],
    ['node', `${process.version} (${i.platform})`],
  ];
  for (const [k, v] of lines) console.log(`${k.padEnd(16)} ${v}`);
}

const CONV_ALGORITHM_SAYS: Record<string, string> = {
  auto: 'auto (Winograd where it measured faster, pooled gradients from their entries; CONVKIT_CONV=direct turns both off)',
  fast: 'fast (auto, with Winograd weight gradients too; CONVKIT_CONV=fast)',
  direct: 'direct, dense (CONVKIT_CONV=direct)',
  winograd: 'Winograd wherever it applies (CONVKIT_CONV=winograd)',
};

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
