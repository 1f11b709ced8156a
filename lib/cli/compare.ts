// `convkit report RUN_A RUN_B ...` and a sweep's own report: reads each run
// directory (settings, results, history, model), loads the test set each
// was trained on once, and renders lib/viz/compare.ts's page.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConvkitError } from '../core/errors.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { Conv2D } from '../nn/layers/conv.js';
import { preprocessingFrom, prepareImages } from '../data/preprocess.js';
import type { LabelledSet } from '../data/labelled.js';
import type { Model } from '../models/model.js';
import { readFinished, sweepPaths } from '../sweep/runner.js';
import { Tensor } from '../core/tensor.js';
import type { History } from '../models/train.js';
import { gradCam } from '../viz/cam.js';
import { type ComparedRun, writeComparison } from '../viz/compare.js';
import { grayPng, overlayPng } from '../viz/png.js';
import { analyze, grayImage } from '../viz/report.js';
import { recordedTestSet } from './task.js';

/** How many test images the activation maps show: one per class, the first of each, up to this many classes. */
const SAMPLE_CLASSES = 10;
const SCALE = 3;

/** The run directories a list of paths stands for: a sweep directory stands for its runs, in plan order. */
export function runDirsOf(paths: readonly string[]): { name: string; dir: string }[] {
  return paths.flatMap((p) => {
    const plan = sweepPaths(p).plan;
    if (existsSync(plan)) {
      const runs = (JSON.parse(readFileSync(plan, 'utf8')) as { runs: { name: string }[] }).runs;
      return runs.map((r) => ({ name: r.name, dir: sweepPaths(p).run(r.name) })).filter((r) => readFinished(r.dir));
    }
    return [{ name: basename(resolve(p)), dir: p }];
  });
}

/** The first test image of each of the first classes. */
function sampleOf(test: LabelledSet): number[] {
  const first = new Map<number, number>();
  for (let i = 0; i < test.y.length && first.size < SAMPLE_CLASSES; i++) if (!first.has(test.y[i])) first.set(test.y[i], i);
  return [...first.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}

/** Grad-CAM of the model's predicted class on the sample, from the test images already prepared for it (x). */
function mapsOf(model: Model, x: Tensor, y: ArrayLike<number>, indices: number[]): ComparedRun['cams'] {
  if (!model.layers.some((l) => l instanceof Conv2D)) return 'no convolution: an MLP has no activation map';
  const [H, W, C] = model.inputShape;
  const size = H * W * C;
  const sample = new Tensor(new Float32Array(indices.length * size), [indices.length, H, W, C]);
  indices.forEach((i, k) => sample.data.set(x.data.subarray(i * size, (i + 1) * size), k * size));
  const predicted = model.predictClasses(sample);
  return indices.map((i, k) => {
    const map = gradCam(model, new Tensor(sample.data.slice(k * size, (k + 1) * size), [H, W, C]), predicted[k]);
    const g = grayImage(sample, k);
    return { png: overlayPng(g.pixels, map.data, g.width, g.height, SCALE), predicted: predicted[k], trueClass: y[i] };
  });
}

export interface CompareOptions {
  title: string;
  dataDir?: string;
  say?: (line: string) => void;
}

/** Writes the comparison of these run directories to `output`. */
export async function writeRunComparison(output: string, runs: readonly { name: string; dir: string }[], options: CompareOptions): Promise<string> {
  const say = options.say ?? (() => {});
  if (runs.length === 0) throw new ConvkitError('report: no finished runs to compare');
  const tests = new Map<string, Promise<{ classes: string[]; test: LabelledSet }>>();
  let sample: { images: Uint8Array[]; classes: number[] } | null = null;
  let sampleKey: string | null = null;
  const compared: ComparedRun[] = [];
  for (const { name, dir } of runs) {
    let run: Record<string, unknown>;
    try {
      run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    } catch (error) {
      throw new ConvkitError(`${dir}: not a run directory (cannot read run.json: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    let history: History | null = null;
    try {
      history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    } catch {}
    const { file, model, metadata } = loadCheckpoint(dir);
    const settings = (run.settings ?? {}) as Record<string, unknown>;
    const key = `${metadata.dataset ?? ''}|${metadata.data ?? ''}|${metadata.test ?? ''}|${metadata.testSplit ?? ''}|${metadata.seed ?? ''}`;
    if (!tests.has(key)) tests.set(key, recordedTestSet(metadata, { 'data-dir': options.dataDir }, file, say).then((t) => ({ classes: t.classes, test: t.test })));
    let cams: ComparedRun['cams'];
    let top: ComparedRun['top'] = null;
    let classes: readonly string[] = metadata.classes ? JSON.parse(metadata.classes) : [];
    try {
      const t = await tests.get(key)!;
      classes = t.classes;
      const indices = sampleOf(t.test);
      if (sampleKey === null) {
        sampleKey = key;
        sample = { images: indices.map((i) => { const g = grayImage(t.test.x, i); return grayPng(g.pixels, g.width, g.height, SCALE); }), classes: indices.map((i) => t.test.y[i]) };
      }
      // The test set prepared once for this model (its resize and scaler): the top images and the maps read it.
      const x = prepareImages(t.test.x, model, preprocessingFrom(metadata, file), 'test images');
      cams = key === sampleKey ? mapsOf(model, x, t.test.y, indices) : 'trained on other data than the sample';
      const a = analyze(model, x, t.test.y, t.classes);
      top = a.top.map((examples, c) => examples.map((e, r) => ({ png: a.topImages[c][r], probability: e.probability, trueClass: e.trueClass })));
    } catch (error) {
      cams = `its test images could not be loaded (${(error as Error).message})`;
    }
    compared.push({
      name, settings: tableSettings(settings, model.name), parameters: model.countParams(),
      testAccuracy: typeof run.testAccuracy === 'number' ? run.testAccuracy : null, testLoss: typeof run.testLoss === 'number' ? run.testLoss : null,
      seconds: typeof run.seconds === 'number' ? run.seconds : null, history, classes,
      confusionMatrix: (run.confusionMatrix as number[][] | undefined) ?? null, perClass: (run.perClass as ComparedRun['perClass'] | undefined) ?? null, cams, top,
    });
  }
  return writeComparison(output, { title: options.title, runs: compared, sample });
}

/** The settings worth a column: what a person compares runs by. */
function tableSettings(s: Record<string, unknown>, modelName: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // An architecture file is shown by the name it gives its model, not its path.
  if (typeof s.model === 'string' && /\.json$/i.test(s.model)) s = { ...s, model: modelName };
  for (const k of ['model', 'dataset', 'data', 'optimizer', 'learningRate', 'lrDecay', 'batchSize', 'epochs', 'seed', 'limit', 'validation', 'scaler']) {
    if (s[k] !== undefined && s[k] !== null) out[k] = s[k];
  }
  return out;
}
