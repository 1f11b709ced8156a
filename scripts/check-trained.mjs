// A trained run's checkpoint, held to its copies: exported to ONNX and run
// by onnxruntime-node on the whole test set (classes identical, logits within
// 1e-4), and saved and reloaded through safetensors, npz and HDF5 (predictions
// identical, bit for bit). Prints one JSON object.
//   node scripts/check-trained.mjs RUN_DIR [--dataset cifar10] [--data-dir DIR]
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data, encodeOnnx, exportHdf5, exportNpz, importHdf5, importNpz, loadModel, modelFromConfig } from '../dist/index.js';
import { loadCheckpoint } from '../dist/models/checkpoint.js';
import { prepareImages, preprocessingFrom } from '../dist/data/preprocess.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const runDir = args[0];
if (!runDir) throw new Error('usage: node scripts/check-trained.mjs RUN_DIR [--dataset cifar10] [--data-dir DIR]');
const ort = createRequire(import.meta.url)('onnxruntime-node');

const { file, model, metadata } = loadCheckpoint(runDir);
const ds = await data.loadDataset(flag('dataset', 'cifar10'), { dataDir: flag('data-dir', process.env.CONVKIT_DATA), log: () => {} });
const x = prepareImages(ds.test.x, model, preprocessingFrom(metadata, file), 'test images');
const logits = model.predictLogits(x, { batchSize: 500 });
const classes = model.defaultLoss().classes(logits);
const accuracy = classes.reduce((n, c, i) => n + (c === ds.test.y[i] ? 1 : 0), 0) / classes.length;

// onnxruntime, in batches of 500 (its own threads; convkit's are idle meanwhile).
const session = await ort.InferenceSession.create(encodeOnnx(model));
const [h, w, c] = model.inputShape;
const units = logits.shape[1];
let maxDiff = 0;
let classMismatches = 0;
for (let start = 0; start < x.shape[0]; start += 500) {
  const n = Math.min(500, x.shape[0] - start);
  const batch = x.data.subarray(start * h * w * c, (start + n) * h * w * c);
  const out = (await session.run({ input: new ort.Tensor('float32', batch, [n, h, w, c]) })).logits.data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < units; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(out[i * units + j] - logits.data[(start + i) * units + j]));
      if (out[i * units + j] > out[i * units + best]) best = j;
    }
    if (best !== classes[start + i]) classMismatches++;
  }
}

// Every checkpoint format: the predictions of the reloaded model, bit for bit.
const dir = mkdtempSync(join(tmpdir(), 'check-trained-'));
const same = (other) => other.predictLogits(x, { batchSize: 500 }).data.every((v, i) => Object.is(v, logits.data[i]));
model.save(join(dir, 'st'));
const formats = { safetensors: same(loadModel(join(dir, 'st'))) };
await exportNpz(model, join(dir, 'w.npz'));
const fromNpz = modelFromConfig(model.config());
await importNpz(fromNpz, join(dir, 'w.npz'));
formats.npz = same(fromNpz);
await exportHdf5(model, join(dir, 'w.h5'));
const fromH5 = modelFromConfig(model.config());
await importHdf5(fromH5, join(dir, 'w.h5'));
formats.hdf5 = same(fromH5);

console.log(JSON.stringify({ checkpoint: file, testImages: x.shape[0], accuracy, onnx: { classMismatches, maxLogitDifference: maxDiff }, reloadedIdentically: formats }, null, 2));
