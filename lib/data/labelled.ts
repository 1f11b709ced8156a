import type { Tensor } from '../core/tensor.js';

/** Images (NHWC) and their integer labels. */
export interface LabelledSet {
  /** [N, H, W, C] float32. */
  x: Tensor;
  /** Class indices 0..K-1. */
  y: Int32Array;
}

/** What a data file held: one labelled set, or a train and a test part. */
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
