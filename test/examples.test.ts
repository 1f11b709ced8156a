// The architecture files in examples/ build for the data they are meant for and run forward.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { modelFromConfig, Tensor } from '../lib/index.js';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const inputs: Record<string, [number, number, number]> = { 'fashion-net.json': [28, 28, 1], 'signs-course.json': [64, 64, 3], 'mlp-3layer.json': [28, 28, 1] };

describe('examples/*.json', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s builds and predicts', (file) => {
    expect(inputs[file], `add ${file}'s input shape to this test`).toBeDefined();
    const model = modelFromConfig({ ...JSON.parse(readFileSync(dir + file, 'utf8')), inputShape: inputs[file] });
    const out = model.predict(new Tensor(new Float32Array(2 * inputs[file].reduce((a, b) => a * b, 1)).fill(0.5), [2, ...inputs[file]]));
    expect(out.shape[0]).toBe(2);
    expect(Array.from(out.data).every(Number.isFinite)).toBe(true);
  });
});
