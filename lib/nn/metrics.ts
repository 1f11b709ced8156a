import { checkPositiveInt, toInt32Labels } from '../core/check.js';
import { DTypeError, ShapeError, ValueError, describe } from '../core/errors.js';
import type { LabelArray } from '../data/batches.js';

/** counts[true][predicted] over classes 0..classes-1. */
export function confusionMatrix(truth: LabelArray, predicted: LabelArray, classes: number): number[][] {
  toInt32Labels(truth, 'truth', 'confusionMatrix');
  toInt32Labels(predicted, 'predicted', 'confusionMatrix');
  checkPositiveInt(classes, 'classes', 'confusionMatrix');
  if (truth.length !== predicted.length) throw new ShapeError(`confusionMatrix: ${truth.length} labels but ${predicted.length} predictions`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (t < 0 || t >= classes || p < 0 || p >= classes) throw new ValueError(`confusionMatrix: pair ${i} (${t}, ${p}) is outside ${classes} classes`);
    m[t][p]++;
  }
  return m;
}

/** A confusion matrix: a square array of arrays of non-negative counts. */
function checkMatrix(matrix: unknown, fn: string): number[][] {
  const ok = Array.isArray(matrix) && matrix.every((row) => Array.isArray(row) && row.length === matrix.length && row.every((v) => typeof v === 'number' && v >= 0));
  if (!ok) throw new ValueError(`${fn}: matrix must be a square array of arrays of counts (confusionMatrix's result), got ${describe(matrix)}`);
  return matrix as number[][];
}

/** Each row divided by its total (rows with no samples stay 0). */
export function normalizeRows(matrix: number[][]): number[][] {
  checkMatrix(matrix, 'normalizeRows');
  return matrix.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
}

/**
 * The fraction of predictions equal to the truth.
 * @example
 * ```ts
 * import { accuracy } from 'convkit/metrics';
 * accuracy([0, 1, 2], [0, 1, 1]); // 0.666...
 * ```
 */
export function accuracy(truth: LabelArray, predicted: LabelArray): number {
  toInt32Labels(truth, 'truth', 'accuracy');
  toInt32Labels(predicted, 'predicted', 'accuracy');
  if (truth.length !== predicted.length) throw new ShapeError(`accuracy: ${truth.length} labels but ${predicted.length} predictions`);
  if (truth.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) right++;
  return right / truth.length;
}

/** One class's accuracy, with how many samples it had. */
export interface ClassAccuracy {
  class: number;
  name: string;
  correct: number;
  total: number;
  accuracy: number;
}

/** Accuracy of each true class (recall), from a confusion matrix. */
export function perClassAccuracy(matrix: number[][], names?: readonly string[]): ClassAccuracy[] {
  checkMatrix(matrix, 'perClassAccuracy');
  if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) throw new ValueError(`perClassAccuracy: names must be an array of class names, got ${describe(names)}`);
  return matrix.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return { class: c, name: names?.[c] ?? String(c), correct: row[c], total, accuracy: total > 0 ? row[c] / total : 0 };
  });
}

/** The class with the lowest accuracy. */
export function worstClass(perClass: ClassAccuracy[]): ClassAccuracy {
  if (!Array.isArray(perClass) || perClass.some((c) => !c || typeof c.accuracy !== 'number' || typeof c.total !== 'number')) {
    throw new ValueError(`worstClass: perClass must be perClassAccuracy's result, got ${describe(perClass)}`);
  }
  if (!perClass.some((c) => c.total > 0)) throw new ValueError('worstClass: no class has any samples');
  return perClass.filter((c) => c.total > 0).reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
}

/** A test example with the score the model gave its class. */
export interface ScoredExample {
  index: number;
  probability: number;
  trueClass: number;
}

/**
 * For each class, the k examples the model gives the highest probability of
 * being that class (the examples it is surest about), best first.
 * probs is [N, classes] row-major.
 */
export function topKPerClass(probs: Float32Array, classes: number, truth: ArrayLike<number>, k = 3): ScoredExample[][] {
  if (!(probs instanceof Float32Array)) throw new DTypeError(`topKPerClass: probs must be a Float32Array [N, classes], got ${describe(probs)}`);
  checkPositiveInt(classes, 'classes', 'topKPerClass');
  toInt32Labels(truth, 'truth', 'topKPerClass');
  checkPositiveInt(k, 'k', 'topKPerClass');
  const n = probs.length / classes;
  if (!Number.isInteger(n) || truth.length !== n) throw new ShapeError(`topKPerClass: ${probs.length} probabilities do not make ${truth.length} rows of ${classes} classes`);
  return Array.from({ length: classes }, (_, c) => {
    const best: ScoredExample[] = [];
    for (let i = 0; i < n; i++) {
      const p = probs[i * classes + c];
      if (best.length < k || p > best[best.length - 1].probability) {
        best.push({ index: i, probability: p, trueClass: truth[i] });
        best.sort((a, b) => b.probability - a.probability || a.index - b.index);
        if (best.length > k) best.pop();
      }
    }
    return best;
  });
}
