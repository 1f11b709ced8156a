#!/usr/bin/env node
// npm run accuracy [-- --data-dir DIR] — the full accuracy runs on real data,
// through the CLI as a user runs it. Writes accuracy.json beside the runs.
// mnist-3layer 5 epochs on 60,000 MNIST (≥ 99.0%), mlp-30 (> 85%) and cnn-14
// (> 90%) on 14×14 MNIST, mnist-2layer on Fashion-MNIST (> 90%), and the
// course tasks on the user's-own-data path: the chest X-ray task from
// PneumoniaMNIST's .npz resized to 32×32 (> 85%, with its predictions CSV),
// SIGNS from HDF5 with the course network (≥ 92%, weights exported as HDF5)
// and Fashion-MNIST with a scaler and a validation split (≥ 92%).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const dataDir = args.includes('--data-dir') ? args[args.indexOf('--data-dir') + 1] : process.env.CONVKIT_DATA;
if (!dataDir) {
  console.error('accuracy: pass --data-dir DIR or set CONVKIT_DATA to a folder with mnist/ and fashion-mnist/');
  process.exit(2);
}
const out = 'runs/accuracy';
mkdirSync(out, { recursive: true });

const runs = [
  { name: 'mnist-3layer', args: ['--model', 'mnist-3layer', '--dataset', 'mnist', '--epochs', '5'], bar: 0.99 },
  { name: 'mlp-30', args: ['--model', 'mlp-30', '--dataset', 'mnist', '--epochs', '5'], bar: 0.85 },
  { name: 'cnn-14', args: ['--model', 'cnn-14', '--dataset', 'mnist', '--epochs', '5', '--lr', '0.005'], bar: 0.9 },
  { name: 'fashion-mnist-2layer', args: ['--model', 'mnist-2layer', '--dataset', 'fashion-mnist', '--epochs', '8', '--lr-decay', '0.7'], bar: 0.9 },
  {
    name: 'xray',
    args: ['--data', join(dataDir, 'pneumoniamnist/pneumoniamnist.npz'), '--model', 'xray-binary', '--resize', '32', '--class-weight', 'balanced', '--shift', '1', '--epochs', '10'],
    bar: 0.85,
    after: (dir) => ['predict', '--checkpoint', dir, '--input', join(dataDir, 'pneumoniamnist/pneumoniamnist.npz'), '--csv', join(dir, 'predictions.csv')],
  },
  {
    name: 'signs',
    args: ['--data', join(dataDir, 'signs/train_signs_cs230jpeg.h5'), '--test', join(dataDir, 'signs/test_signs.h5'), '--model', 'examples/signs-course.json', '--scaler', 'standard', '--epochs', '30', '--lr-decay', '0.9'],
    bar: 0.92,
    after: (dir) => ['export', '--checkpoint', dir, '--output', join(dir, 'weights.h5')],
  },
  { name: 'fashion-mnist-scaler', args: ['--model', 'examples/fashion-net.json', '--dataset', 'fashion-mnist', '--scaler', 'channel', '--validation', '0.1', '--epochs', '12', '--lr-decay', '0.8'], bar: 0.92 },
];

const results = [];
for (const run of runs) {
  const dir = join(out, run.name);
  const cmd = ['dist/cli.js', 'train', ...run.args, ...(run.args.includes('--data') ? [] : ['--data-dir', dataDir]), '--out', dir, '--overwrite'];
  console.log(`$ convkit ${cmd.slice(1).join(' ')}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, cmd, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
  if (run.after) {
    const then = ['dist/cli.js', ...run.after(dir)];
    console.log(`$ convkit ${then.slice(1).join(' ')}`);
    const a = spawnSync(process.execPath, then, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (a.status !== 0) process.exit(a.status ?? 1);
  }
  const summary = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  results.push({ run: run.name, testAccuracy: summary.testAccuracy, bar: run.bar, pass: summary.testAccuracy >= run.bar, seconds: (Date.now() - started) / 1000, worst: summary.perClass.reduce((a, b) => (b.accuracy < a.accuracy ? b : a)) });
}
writeFileSync(join(out, 'accuracy.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\nrun                    test accuracy   bar     wall s   worst class');
for (const r of results) console.log(`${r.run.padEnd(22)} ${(r.testAccuracy * 100).toFixed(2).padStart(8)}%   ${(r.bar * 100).toFixed(0).padStart(3)}%   ${r.seconds.toFixed(1).padStart(6)}   ${r.worst.name} ${(r.worst.accuracy * 100).toFixed(1)}%  ${r.pass ? '' : 'BELOW BAR'}`);
process.exit(results.every((r) => r.pass) ? 0 : 1);
