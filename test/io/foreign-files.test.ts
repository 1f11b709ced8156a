// Files that are not convkit checkpoints say what they are, and paths given
// as URLs (tfjs's 'file://dir', 'indexeddb://name') are taken or refused by
// name instead of becoming a folder called 'file:'.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, exportHdf5, exportNpz, exportOnnx, FormatError, loadModel, parseSafetensors, saveModel, ValueError, zooModel } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'foreign-'));

describe('a file that is not a checkpoint', () => {
  const model = zooModel('mlp-30', { seed: 1 });

  it.each([
    ['model.h5', async (p: string) => { await exportHdf5(model, p); }, /model\.h5: this is an HDF5 file \(a Keras \.h5 model or weights\?\).*loadKerasModel.*importHdf5/],
    ['weights.npz', async (p: string) => { await exportNpz(model, p); }, /weights\.npz: this is a zip archive \(a Keras 3 \.keras file, a PyTorch \.pt file or an \.npz\?\)/],
    ['model.json', async (p: string) => writeFileSync(p, '\n  {"modelTopology": {}, "weightsManifest": []}'), /model\.json: this is a JSON file \(a tfjs model\.json.*loadLayersModel/],
  ])('%s handed to loadModel says what it is', async (name, write, message) => {
    const path = join(dir, name);
    await write(path);
    expect(() => loadModel(path)).toThrow(FormatError);
    expect(() => loadModel(path)).toThrow(message);
  });

  it("is not mistaken for JSON when a real header's length byte is '{', '[' or white space", () => {
    // convkit pads headers to 8 bytes, other writers need not: build unpadded ones of those lengths.
    for (const length of [0x7b, 0x5b, 0x20, 0x0a + 256, 0x09 + 256]) {
      const json = '{"__metadata__":{"a":"b"}}';
      const bytes = new Uint8Array(8 + length);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(length), true);
      bytes.set(new TextEncoder().encode(json.padEnd(length, ' ')), 8);
      expect(parseSafetensors(bytes).metadata).toEqual({ a: 'b' });
    }
  });
});

describe('paths given as URLs', () => {
  const model = zooModel('mlp-30', { seed: 2 });

  it("saveModel and loadModel take tfjs's file:// form, as tfjs-node reads it", () => {
    const target = join(dir, 'tfjs-habit');
    const file = saveModel(model, `file://${target}`);
    expect(file).toBe(join(target, 'model.safetensors'));
    expect(existsSync(join(process.cwd(), 'file:'))).toBe(false);
    expect(loadModel(`file://${target}`).parameters()[0].value.data).toEqual(model.parameters()[0].value.data);
    expect(() => saveModel(model, 'file://')).toThrow(/saveModel: path 'file:\/\/' names no file or folder/);
  });

  it('other readers and writers refuse a URL by name, saying what to give', async () => {
    await expect(exportOnnx(model, 'indexeddb://my-model')).rejects.toThrow(/exportOnnx: path 'indexeddb:\/\/my-model' is a URL, not a file or folder name; convkit reads and writes local files/);
    await expect(exportNpz(model, 'file:///tmp/x.npz')).rejects.toThrow(/exportNpz: path 'file:\/\/\/tmp\/x\.npz' is a URL.*give the path itself \('\/tmp\/x\.npz'\); saveModel and loadModel also take file:\/\/ URLs/);
    expect(() => data.readNpy('https://example.com/x.npy')).toThrow(ValueError);
  });
});
