// A damaged HDF5 file that sends libhdf5 into an endless loop (found by the
// fuzzer: keras-seq.h5 with a few bytes changed) is stopped at the time limit
// with a FormatError naming the file, and HDF5 reading goes on working after.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FormatError, loadKerasModel } from '../../lib/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('libhdf5 under a time limit', () => {
  const limit = process.env.CONVKIT_HDF5_TIMEOUT_MS;
  afterEach(() => {
    if (limit === undefined) delete process.env.CONVKIT_HDF5_TIMEOUT_MS;
    else process.env.CONVKIT_HDF5_TIMEOUT_MS = limit;
  });

  it('stops a file that never finishes reading, then reads the next one', async () => {
    process.env.CONVKIT_HDF5_TIMEOUT_MS = '2000';
    const error = await loadKerasModel(fixture('hdf5/endless-loop.h5')).catch((e) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect(error.message).toMatch(/endless-loop\.h5: .*libhdf5 did not finish within 2 s, so it was stopped; the file is damaged/);
    expect(error.message.split('\n')).toHaveLength(1);
    delete process.env.CONVKIT_HDF5_TIMEOUT_MS;
    const model = await loadKerasModel(fixture('import/keras-seq.h5'));
    expect(model.layers.length).toBeGreaterThan(2);
  });
});
