// #35 class 7: an HDF5 file with a group where a dataset is expected, or
// integers or strings where float weights are, says what it found, what was
// expected, and the path inside the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, FormatError, importHdf5, layers, loadKerasWeights, sequential } from '../../lib/index.js';
import { hdf5 } from '../../lib/formats/hdf5-file.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-h5-kind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => join(dir, name);
const net = () => sequential([layers.dense({ units: 2, inputShape: [4] })]);

beforeAll(async () => {
  const h5 = await hdf5();
  const write = (name: string, fill: (f: InstanceType<typeof h5.File>) => void) => {
    const f = new h5.File(file(name), 'w');
    fill(f);
    f.close();
  };
  write('group.h5', (f) => {
    f.create_group('W1');
    f.create_dataset({ name: 'b1', data: new Float32Array(2), shape: [2], dtype: '<f' });
  });
  write('int64.h5', (f) => {
    f.create_dataset({ name: 'W1', data: new BigInt64Array(8), shape: [4, 2], dtype: '<q' });
    f.create_dataset({ name: 'b1', data: new Float32Array(2), shape: [2], dtype: '<f' });
  });
  write('strings.h5', (f) => {
    f.create_dataset({ name: 'x_train', data: ['a', 'b', 'c', 'd'] });
    f.create_dataset({ name: 'y_train', data: new Int32Array(4), shape: [4], dtype: '<i' });
  });
  write('data-group.h5', (f) => {
    f.create_group('x_train');
    f.create_dataset({ name: 'y_train', data: new Int32Array(4), shape: [4], dtype: '<i' });
  });
  write('keras-int.h5', (f) => {
    const root = f.create_group('model_weights');
    root.create_attribute('layer_names', ['dense_1']);
    const g = root.create_group('dense_1');
    g.create_attribute('weight_names', ['dense_1/kernel', 'dense_1/bias']);
    const scope = g.create_group('dense_1');
    scope.create_dataset({ name: 'kernel', data: new Int32Array(8), shape: [4, 2], dtype: '<i' });
    scope.create_dataset({ name: 'bias', data: new Float32Array(2), shape: [2], dtype: '<f' });
  });
});

describe('HDF5 entries of the wrong kind', () => {
  it('a group where a weight is expected', async () => {
    await expect(importHdf5(net(), file('group.h5'))).rejects.toThrow(/group.h5: 'W1' is a group, where the dataset of dense_1.weight is expected/);
  });

  it('int64 where float weights are expected', async () => {
    await expect(importHdf5(net(), file('int64.h5'))).rejects.toThrow(/int64.h5: 'W1' is a dataset of int64 \[4, 2\], where dense_1.weight \(float weights \[4, 2\]\) is expected/);
    await expect(loadKerasWeights(net(), file('keras-int.h5'))).rejects.toThrow(/keras-int.h5: 'model_weights\/dense_1\/dense_1\/kernel' is a dataset of int32 \[4, 2\], where a weight \(a float dataset\) is expected/);
  });

  it('strings where images are expected, and a group named like the data', async () => {
    await expect(data.loadDataFile(file('strings.h5'))).rejects.toThrow(FormatError);
    await expect(data.loadDataFile(file('strings.h5'))).rejects.toThrow(/'x_train' is a dataset of strings or records \[4\], where numbers \(images or labels\) are expected/);
    await expect(data.loadDataFile(file('data-group.h5'))).rejects.toThrow(/it has: y_train; groups, which hold no array themselves: x_train/);
  });
});
