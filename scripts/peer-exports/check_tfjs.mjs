// Loads convkit's tfjs exports in TensorFlow.js (see make.mjs); prints the largest difference from convkit's predictions.
const base = process.argv[2] ?? '../peer-exports';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const tf = createRequire((process.env.TFJS_DIR ?? '../tfjs') + '/node_modules/')('@tensorflow/tfjs');
await tf.setBackend('cpu');
const exp = JSON.parse(readFileSync(`${base}/expected.json`, 'utf8'));
for (const name of ['seq', 'res']) {
  const dir = `${base}/${name}-tfjs`;
  const json = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
  const bin = readFileSync(`${dir}/weights.bin`);
  const m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }));
  const r = exp[name];
  const y = m.predict(tf.tensor(r.x, [3, ...r.shape])).dataSync();
  console.log(name, 'tfjs max error', Math.max(...Array.from(y, (v, i) => Math.abs(v - r.y[i]))));
}
