// A sweep's plan: runs × grid, named by what varies; strict about what a file may say.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specFromFlags } from '../../lib/cli/sweep.js';
import { poolShape } from '../../lib/sweep/local.js';
import { checkSweepSpec, planRuns, readSweepFile, trainArgs } from '../../lib/sweep/spec.js';

describe('a sweep plan', () => {
  it('crosses the runs with the grid, in order, and names each run by what varies', () => {
    const plan = planRuns(checkSweepSpec({ base: { epochs: 2, dataset: 'mnist' }, runs: [{ model: 'mnist-2layer' }, { model: 'mnist-3layer' }], grid: { lr: [0.001, 0.003], seed: [0, 1] } }));
    expect(plan.map((r) => r.name)).toEqual([
      '0-model=mnist-2layer_lr=0.001_seed=0', '1-model=mnist-2layer_lr=0.001_seed=1', '2-model=mnist-2layer_lr=0.003_seed=0', '3-model=mnist-2layer_lr=0.003_seed=1',
      '4-model=mnist-3layer_lr=0.001_seed=0', '5-model=mnist-3layer_lr=0.001_seed=1', '6-model=mnist-3layer_lr=0.003_seed=0', '7-model=mnist-3layer_lr=0.003_seed=1',
    ]);
    expect(plan[5].settings).toEqual({ epochs: 2, dataset: 'mnist', model: 'mnist-3layer', lr: 0.001, seed: 1 });
    expect(trainArgs(plan[5].settings)).toEqual(['--epochs', '2', '--dataset', 'mnist', '--model', 'mnist-3layer', '--lr', '0.001', '--seed', '1']);
  });

  it('takes the command line\'s comma lists as grid axes and single values as every run\'s', () => {
    const spec = specFromFlags({ out: 'x', lr: '0.001,0.003', 'batch-size': '32,128', epochs: '2', model: 'mnist-3layer' }, null);
    expect(spec.base).toEqual({ epochs: 2, model: 'mnist-3layer' });
    expect(spec.grid).toEqual({ lr: [0.001, 0.003], batchSize: [32, 128] });
    expect(planRuns(spec)).toHaveLength(4);
  });

  it('reads YAML and JSON files, with file names relative to the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-spec-'));
    writeFileSync(join(dir, 'a.yaml'), 'base: {epochs: 1}\nruns:\n  - model: net.json\ngrid:\n  learning_rate: [0.01, 0.1]\n');
    const spec = await readSweepFile(join(dir, 'a.yaml'));
    expect(spec.name).toBe('a');
    expect(spec.runs[0].model).toBe(join(dir, 'net.json'));
    expect(spec.grid.lr).toEqual([0.01, 0.1]);
    expect(planRuns(spec).map((r) => r.name)).toEqual(['0-lr=0.01', '1-lr=0.1']);
    writeFileSync(join(dir, 'b.json'), '{"name": "b", "grid": {"seed": [1, 2, 3]}}');
    expect(planRuns(await readSweepFile(join(dir, 'b.json')))).toHaveLength(3);
    writeFileSync(join(dir, 'c.yaml'), 'grid: {lr: [0.1,\n');
    await expect(readSweepFile(join(dir, 'c.yaml'))).rejects.toThrow(/c\.yaml: not valid YAML/);
  });

  it('refuses what it does not know, naming it', () => {
    expect(() => checkSweepSpec({ grid: { lrate: [1] } })).toThrow(/unknown setting 'lrate'/);
    expect(() => checkSweepSpec({ base: { batch: 3 } })).toThrow(/unknown setting 'batch'/);
    expect(() => checkSweepSpec({ grids: {} })).toThrow(/unknown key 'grids'.*did you mean 'grid'/);
    expect(() => checkSweepSpec({ grid: { lr: [] } })).toThrow(/grid.lr is empty/);
    expect(() => checkSweepSpec({ base: { lr: { x: 1 } } })).toThrow(/lr must be a string, a number or a boolean/);
    expect(() => checkSweepSpec([1])).toThrow(/must be an object/);
  });

  it('sizes the pool to the cores: workers × threads never exceeds them', () => {
    expect(poolShape(8, undefined, undefined, 2)).toEqual({ workers: 2, threads: 1 });
    expect(poolShape(8, undefined, 2, 2)).toEqual({ workers: 1, threads: 2 });
    expect(poolShape(8, 1, undefined, 4)).toEqual({ workers: 1, threads: 4 });
    expect(poolShape(1, undefined, undefined, 16)).toEqual({ workers: 1, threads: 1 });
  });
});
