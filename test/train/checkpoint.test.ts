import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, zooModel, ZOO, ZOO_NAMES } from '../../lib/index.js';
import { loadModel, saveModel } from '../../lib/models/checkpoint.js';
import { randomTensor, rng } from '../helpers/random.js';

describe('checkpoints', () => {
  it('save then load gives identical predictions for every zoo model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    for (const name of ZOO_NAMES) {
      const model = zooModel(name, { seed: 11 });
      const path = saveModel(model, join(dir, `${name}.safetensors`));
      const back = loadModel(path);
      expect(back.config()).toEqual(model.config());
      const x = randomTensor(rng(1), [2, ...ZOO[name].inputShape], 0, 1);
      expect(Array.from(back.predict(x).data), name).toEqual(Array.from(model.predict(x).data));
    }
  });

  it('refuses a truncated file, a wrong magic and a mismatched architecture with a FormatError naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = saveModel(zooModel('cnn-14'), join(dir, 'm.safetensors'));
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 10));
    expect(() => loadModel(join(dir, 'cut.safetensors'))).toThrow(FormatError);
    expect(() => loadModel(join(dir, 'cut.safetensors'))).toThrow(/cut.safetensors: tensor '.*' spans bytes/);
    const bad = Buffer.from(bytes);
    bad.writeBigUInt64LE(10n ** 15n, 0);
    writeFileSync(join(dir, 'bad.safetensors'), bad);
    expect(() => loadModel(join(dir, 'bad.safetensors'))).toThrow(/bad.safetensors: header of 1000000000000000 bytes runs past the end of the file/);
    const text = bytes.toString('latin1').replace('\\"filters\\":3', '\\"filters\\":4');
    writeFileSync(join(dir, 'arch.safetensors'), Buffer.from(text, 'latin1'));
    expect(() => loadModel(join(dir, 'arch.safetensors'))).toThrow(/arch.safetensors: the architecture's Conv2D 'conv2d_1' declares 4 outputs but its weights are \[3, 3, 1, 3\]/);
  });
});
