import { readFileBounded } from './read.js';
import { checkPath } from '../core/check.js';
import { checkOptions } from '../core/check.js';
import { DTypeError, FormatError, ValueError, describe } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';

/** How a CSV file is read: its header, delimiter and label column. */
export interface CsvOptions {
  /** The label column, by header name or index; null for features only. Default: a column named 'label', if any. */
  labelColumn?: string | number | null;
  /** Whether the first row is a header; default: detected (a row with a non-numeric cell). */
  header?: boolean;
  delimiter?: string;
  /** Reshape each row's features, e.g. [28, 28, 1]. */
  sampleShape?: number[];
}

/** A CSV file's header and numeric rows. */
export interface CsvData {
  x: Tensor;
  y: Int32Array | null;
  columns: string[];
}

/**
 * Reads numeric CSV (e.g. Kaggle's MNIST train.csv: label, pixel0..pixel783)
 * into a features tensor and optional integer labels.
 */
export function parseCsv(text: string, options: CsvOptions = {}, source = 'CSV'): CsvData {
  checkOptions(options, ['labelColumn', 'header', 'delimiter', 'sampleShape'], 'parseCsv');
  if (typeof text !== 'string') throw new DTypeError(`parseCsv: text must be a string, got ${describe(text)}`);
  const delimiter = options.delimiter ?? ',';
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new FormatError(`${source}: no rows`);
  const first = lines[0].split(delimiter).map((s) => s.trim());
  const header = options.header ?? first.some((cell) => cell !== '' && Number.isNaN(Number(cell)));
  const columns = header ? first : first.map((_, i) => `column${i}`);
  let labelIndex = -1;
  const lc = options.labelColumn === undefined ? (columns.indexOf('label') >= 0 ? 'label' : null) : options.labelColumn;
  if (typeof lc === 'number') {
    if (!Number.isInteger(lc) || lc < 0) throw new ValueError(`${source}: labelColumn must be a column name or a non-negative integer index, got ${lc}`);
    labelIndex = lc;
  }
  else if (typeof lc === 'string') {
    labelIndex = columns.indexOf(lc);
    if (labelIndex < 0) throw new ValueError(`${source}: no column named '${lc}' (columns: ${columns.slice(0, 8).join(', ')}${columns.length > 8 ? ', ...' : ''})`);
  } else if (lc !== null) throw new ValueError(`${source}: labelColumn must be a name, an index or null, got ${describe(lc)}`);
  if (labelIndex >= columns.length) throw new ValueError(`${source}: label column ${labelIndex} is past the ${columns.length} columns`);
  const rows = lines.slice(header ? 1 : 0);
  const features = columns.length - (labelIndex >= 0 ? 1 : 0);
  const x = new Float32Array(rows.length * features);
  const y = labelIndex >= 0 ? new Int32Array(rows.length) : null;
  rows.forEach((line, r) => {
    const cells = line.split(delimiter);
    if (cells.length !== columns.length) throw new FormatError(`${source}: row ${r + (header ? 2 : 1)} has ${cells.length} cells, expected ${columns.length}`);
    let f = 0;
    cells.forEach((cell, c) => {
      const v = Number(cell);
      if (cell.trim() === '' || Number.isNaN(v)) throw new FormatError(`${source}: row ${r + (header ? 2 : 1)}, column '${columns[c]}' is not a number: '${cell}'`);
      if (c === labelIndex) {
        if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw new FormatError(`${source}: row ${r + (header ? 2 : 1)}: label '${cell}' is not a class index (an integer in [0, 2^31))`);
        y![r] = v;
      } else x[r * features + f++] = v;
    });
  });
  const shape = options.sampleShape ?? [features];
  const per = shape.reduce((a, b) => a * b, 1);
  if (per !== features) throw new ValueError(`${source}: sampleShape [${shape.join(', ')}] holds ${per} values but rows have ${features} features`);
  return { x: new Tensor(x, [rows.length, ...shape]), y, columns };
}

/**
 * Reads a numeric CSV file (an optional header row, one sample a row).
 * @example
 * ```ts
 * import { data } from 'convkit';
 * const { header, rows } = data.readCsv('train.csv');
 * ```
 */
export function readCsv(path: string, options: CsvOptions = {}): CsvData {
  checkPath(path, 'path', 'readCsv');
  const text = readFileBounded(path).toString('utf8');
  return parseCsv(text, options, path);
}
