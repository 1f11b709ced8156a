import { describe, expect, it } from 'vitest';
import { metrics, ShapeError } from '../../lib/index.js';

describe('metrics', () => {
  const truth = Int32Array.from([0, 0, 1, 1, 2, 2]);
  const predicted = Int32Array.from([0, 1, 1, 1, 0, 2]);

  it('counts the confusion matrix and normalises its rows', () => {
    const m = metrics.confusionMatrix(truth, predicted, 3);
    expect(m).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
    expect(metrics.normalizeRows(m)).toEqual([[0.5, 0.5, 0], [0, 1, 0], [0.5, 0, 0.5]]);
    expect(metrics.accuracy(truth, predicted)).toBeCloseTo(4 / 6);
    expect(() => metrics.confusionMatrix(truth, predicted.subarray(1), 3)).toThrow(ShapeError);
  });

  it('gives per-class accuracy and the worst class', () => {
    const per = metrics.perClassAccuracy(metrics.confusionMatrix(truth, predicted, 3), ['a', 'b', 'c']);
    expect(per.map((c) => c.accuracy)).toEqual([0.5, 1, 0.5]);
    expect(metrics.worstClass(per).name).toBe('a');
  });

  it('finds the k examples scored highest for each class, best first', () => {
    const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.95, 0.05]);
    const top = metrics.topKPerClass(probs, 2, [0, 1, 0, 0], 2);
    expect(top[0].map((e) => [e.index, e.probability])).toEqual([[3, Math.fround(0.95)], [0, Math.fround(0.9)]]);
    expect(top[1].map((e) => e.index)).toEqual([1, 2]);
    expect(top[1][1].trueClass).toBe(0);
  });
});
