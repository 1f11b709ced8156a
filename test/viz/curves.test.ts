// The curves on their own: SVG and PNG files from a history, from the API and the CLI.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCurves, type History } from '../../lib/index.js';

const history: History = {
  epochs: [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, accuracy: 0.5 + epoch / 10, valLoss: 1.2 / epoch, valAccuracy: 0.45 + epoch / 10, learningRate: 0.01, seconds: 1, imagesPerSecond: 100 })),
  loss: [1, 0.5, 0.33], accuracy: [0.6, 0.7, 0.8], valLoss: [1.2, 0.6, 0.4], valAccuracy: [0.55, 0.65, 0.75],
  iterationLoss: Array.from({ length: 30 }, (_, i) => 2 / (i + 1)), stoppedEarly: false, interrupted: false,
};

describe('exportCurves', () => {
  it('writes the three curves as SVG, with both train and validation series', () => {
    const dir = mkdtempSync(join(tmpdir(), 'curves-'));
    const files = exportCurves(history, dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['loss-per-iteration.svg', 'loss-per-epoch.svg', 'accuracy-per-epoch.svg']);
    const accuracy = readFileSync(files[2], 'utf8');
    expect(accuracy).toMatch(/^<svg/);
    expect(accuracy).toContain('validation');
  });

  it('and as PNG: twice the SVG size, on white', () => {
    const dir = mkdtempSync(join(tmpdir(), 'curves-'));
    const [file] = exportCurves(history, dir, { format: 'png' });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const width = Number(/width="(\d+)"/.exec(exportCurvesSvg())![1]);
    expect(png.readUInt32BE(16)).toBe(width * 2);
  });

  it('refuses an unknown format and something that is not a history', () => {
    expect(() => exportCurves(history, tmpdir(), { format: 'jpg' as never })).toThrow(/exportCurves: format must be one of "svg", "png", got 'jpg'/);
    expect(() => exportCurves({} as never, tmpdir())).toThrow(/history must be what fit returns/);
  });
});

function exportCurvesSvg(): string {
  const dir = mkdtempSync(join(tmpdir(), 'curves-'));
  return readFileSync(exportCurves(history, dir)[0], 'utf8');
}
