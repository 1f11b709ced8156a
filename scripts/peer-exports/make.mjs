// convkit models written as Keras .h5 and tfjs LayersModels, for the peers to
// load (check_keras.py, check_tfjs.mjs): they must predict what convkit
// predicts. From the project root, after npm run compile:
//   node scripts/peer-exports/make.mjs ../peer-exports
//   ../tf-venv/bin/python scripts/peer-exports/check_keras.py ../peer-exports
//   TFJS_DIR=../tfjs node scripts/peer-exports/check_tfjs.mjs ../peer-exports
import { exportKerasH5, saveLayersModel, layers, sequential, input, model, loadKerasModel, loadLayersModel, Tensor } from '../../dist/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
const dir = process.argv[2] ?? '../peer-exports';
mkdirSync(dir, { recursive: true });
const seq = sequential([
  layers.conv2d({ filters: 4, kernelSize: 3, padding: 1, activation: 'relu', inputShape: [10, 10, 3] }),
  layers.batchNormalization(),
  layers.maxPool2d({ poolSize: 2 }),
  layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: 1 }),
  layers.leakyRelu({ alpha: 0.1 }),
  layers.flatten(),
  layers.dropout({ rate: 0.2 }),
  layers.dense({ units: 5, activation: 'softmax' }),
], { seed: 3, name: 'ck_seq' });
const x0 = input({ shape: [8, 8, 3] });
const a = layers.relu().apply(layers.batchNormalization({ epsilon: 1e-5 }).apply(layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(x0)));
const b = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(a);
const c = layers.globalAvgPool2d().apply(layers.concatenate().apply([layers.add().apply([a, b]), a]));
const res = model({ inputs: x0, outputs: layers.dense({ units: 3, activation: 'sigmoid' }).apply(c), seed: 5, name: 'ck_res' });
// BN statistics away from 0/1
for (const m of [seq, res]) for (const p of m.weights()) if (p.name.includes('running')) p.value.data.forEach((_, i, d) => (d[i] = p.name.endsWith('var') ? 0.5 + (i % 3) * 0.4 : 0.1 * (i % 5) - 0.2));
const out = {};
for (const [name, m, shape] of [['seq', seq, [10, 10, 3]], ['res', res, [8, 8, 3]]]) {
  const n = 3 * shape.reduce((p, d) => p * d, 1);
  const x = new Tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), [3, ...shape]);
  out[name] = { x: [...x.data], shape, y: [...m.predict(x).data] };
  await exportKerasH5(m, `${dir}/${name}.h5`);
  await saveLayersModel(m, `${dir}/${name}-tfjs`);
  const back1 = await loadKerasModel(`${dir}/${name}.h5`);
  const back2 = await loadLayersModel(`${dir}/${name}-tfjs/model.json`);
  const err = (t) => Math.max(...t.predict(x).data.map((v, i) => Math.abs(v - out[name].y[i])));
  console.log(name, 'round trip h5', err(back1), 'tfjs', err(back2));
}
writeFileSync(`${dir}/expected.json`, JSON.stringify(out));
