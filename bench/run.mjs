#!/usr/bin/env node
// npm run bench -- [--json FILE] [--quick] [--no-reference] [--batch 32,128]
// Times every kernel at the real shapes of mnist-3layer on the native and
// reference backends; prints a table and writes JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { info, nativeBackend, setNumThreads } from '../dist/backend/select.js';
import { reference } from '../dist/backend/reference.js';
import { opCases, timeOp } from './ops.mjs';
import { machine, parseArgs, table } from './timing.mjs';

const args = parseArgs(process.argv.slice(2));
const native = nativeBackend();
const threads = args.threads?.[0] ?? info().threads;
setNumThreads(threads);
const meta = info();

const result = { machine: { ...machine(meta), threads }, train: [], infer: [], ops: [] };
const rows = [];
for (const batch of args.batches) {
  for (const c of opCases(batch)) {
    const n = timeOp(c, native, { quick: args.quick });
    result.ops.push({ op: c.op, shape: c.shape, backend: 'native', threads, gflops: n.gflops, seconds: n.seconds });
    const row = { op: c.op, shape: c.shape, 'native GFLOP/s': n.gflops.toFixed(1) };
    if (args.reference) {
      const r = timeOp(c, reference, { reference: true });
      result.ops.push({ op: c.op, shape: c.shape, backend: 'reference', threads: 1, gflops: r.gflops, seconds: r.seconds });
      row['reference GFLOP/s'] = r.gflops.toFixed(3);
      row['native/reference'] = `${(n.gflops / r.gflops).toFixed(0)}x`;
    }
    rows.push(row);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');

console.log(`convkit kernels — ${result.machine.cpu}, ${threads} thread(s), ISA ${meta.isa}, OpenMP ${meta.openmp ? 'on' : 'off'}`);
console.log(table(rows, Object.keys(rows[0])));
if (args.json) {
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${args.json}`);
}
