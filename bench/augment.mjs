#!/usr/bin/env node
// What augmentation costs fit: images/s of one epoch of fit on 32×32×3
// batches without augmentation, with crop+flip (shift 4, zero padding) and
// with reflect-padded crop+flip+cutout, for the CIFAR nets of the zoo. Rounds
// alternate between the settings (this machine's speed drifts over minutes)
// and each keeps its best round. The bar: crop+flip within 5% of none.
//   node bench/augment.mjs [--json FILE] [--rounds 3] [--images 2560] [--threads 2] [--net resnet-20,cifar-fast]
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { SGD, Tensor, zooModel } from '../dist/index.js';
import { info, setNumThreads } from '../dist/backend/select.js';
import { machine } from './timing.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = Number(arg('threads', availableParallelism()));
const rounds = Number(arg('rounds', 3));
const count = Number(arg('images', 2560));
const nets = arg('net', 'resnet-20,cifar-fast').split(',');
const log = (m) => process.stderr.write(`${m}\n`);
setNumThreads(threads);

let s = 7;
const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const x = new Tensor(Float32Array.from({ length: count * 3072 }, () => next() * 2 - 1), [count, 32, 32, 3]);
const y = Int32Array.from({ length: count }, () => Math.floor(next() * 10));

const settings = {
  none: undefined,
  'crop4+flip': { shift: 4, flip: true },
  'crop4:reflect+flip+cutout8': { shift: 4, padMode: 'reflect', flip: true, cutout: 8 },
};

const best = {};
for (let round = 0; round < rounds; round++) {
  for (const net of nets) {
    for (const [name, augment] of Object.entries(settings)) {
      const model = zooModel(net, { seed: 1 });
      const history = await model.fit(x, y, { epochs: 1, batchSize: 128, optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), verbose: 0, seed: 1, augment });
      const rate = history.epochs[0].imagesPerSecond;
      const key = `${net} ${name}`;
      best[key] = Math.max(best[key] ?? 0, rate);
      log(`round ${round + 1} ${key}: ${rate.toFixed(0)} img/s`);
    }
  }
}

const rows = nets.flatMap((net) => Object.keys(settings).map((name) => ({ net, augment: name, batch: 128, img_per_s: Math.round(best[`${net} ${name}`]), vs_none: Number((best[`${net} ${name}`] / best[`${net} none`]).toFixed(3)) })));
for (const r of rows) log(`${r.net.padEnd(11)} ${r.augment.padEnd(28)} ${String(r.img_per_s).padStart(6)} img/s  ${(r.vs_none * 100).toFixed(1)}% of none`);
const out = arg('json');
if (out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ bench: 'augment', date: new Date().toISOString(), machine: machine(info()), threads, images: count, rounds, rows }, null, 2)}\n`);
  log(`wrote ${out}`);
}
