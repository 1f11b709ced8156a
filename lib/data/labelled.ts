import type { Tensor } from '../tensor.js';

export interface LabelledSet {
  /** [N, H, W, C] float32. */
  x: Tensor;
  /** Class indices 0..K-1. */
  y: Int32Array;
}

export interface DataFile {
  /** The file or folder, and which arrays were used, in words. */
  source: string;
  /** The 'train' arrays, else the arrays without a split in their names. */
  train?: LabelledSet;
  val?: LabelledSet;
  test?: LabelledSet;
  /** Class names: the file's list_classes / classes when it has names, else '0', '1', ... */
  classes: string[];
}
