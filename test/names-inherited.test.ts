// #35 class 1: a user's name that is also an inherited property of plain
// objects ('constructor', 'toString', '__proto__', 'hasOwnProperty') is an
// unknown name like any other, in the API, in JSON model files and
// checkpoints, in imported files and in the CLI: never a TypeError.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../lib/index.js';

const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
const dir = mkdtempSync(join(tmpdir(), 'convkit-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const small = () => ck.sequential([ck.layers.flatten({ inputShape: [2, 2, 1] }), ck.layers.dense({ units: 2 })]);

const api: [string, (name: string) => unknown][] = [
  ['zooModel', (n) => ck.zooModel(n)],
  ['loadDataset', (n) => ck.data.loadDataset(n as never, { download: false })],
  ['createOptimizer', (n) => ck.createOptimizer(n as never)],
  ['optimizerFromConfig', (n) => ck.optimizerFromConfig({ kind: n })],
  ['compile loss', (n) => small().compile({ optimizer: 'adam', loss: n as never })],
  ['compile metric', (n) => small().compile({ optimizer: 'adam', metrics: [n] })],
  ['an activation', (n) => ck.layers.conv2d({ filters: 1, kernelSize: 1, activation: n as never })],
  ['an initializer', (n) => ck.layers.dense({ units: 2, kernelInitializer: n as never })],
  ['a layer kind in a config', (n) => ck.modelFromConfig({ layers: [{ kind: n }], inputShape: [2] } as never)],
  ['a Keras layer class', (n) => ck.loadLayersModel(tfjsFile(n))],
];

function tfjsFile(className: string): string {
  const file = join(dir, `${className}.json`);
  writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: className, config: { name: 'x', batch_input_shape: [null, 2] } }] } }, weightsManifest: [] }));
  return file;
}

describe('names that are inherited properties of plain objects', () => {
  for (const [what, call] of api) {
    it.each(NAMES)(`${what}: '%s' is an unknown name, a ConvkitError`, async (name) => {
      let error: unknown;
      try {
        await call(name);
      } catch (e) {
        error = e;
      }
      expect(error, `${what} accepted '${name}'`).toBeInstanceOf(ck.ConvkitError);
      expect((error as Error).message).not.toMatch(/is not a function|Cannot read properties|undefined \(reading/);
    });
  }

  it('the CLI says unknown model, data set or setting (exit 2), not a stack', () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
    for (const name of NAMES) {
      const train = run(['train', '--model', name, '--quiet']);
      expect(train.status, train.stderr).toBe(2);
      expect(train.stderr).toMatch(new RegExp(`unknown --model '${name.replace(/[_$]/g, '\\$&')}'`));
      const summary = run(['summary', '--model', name]);
      expect(summary.status, summary.stderr).toBe(2);
      expect(summary.stderr).not.toMatch(/TypeError|    at /);
    }
  });
});
