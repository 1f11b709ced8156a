import { checkBoolean, checkNumber, checkOptions, checkPositiveInt } from '../core/check.js';
import { ShapeError, formatShape } from '../core/errors.js';
import { checkTensor } from '../ops/check.js';
import { Random } from '../core/random.js';
import { Tensor } from '../core/tensor.js';

/** Integer class labels, one per sample. */
export type LabelArray = Int32Array | Uint8Array | readonly number[];

/** One mini-batch: its images and (where the set has them) labels, or rows of target values. */
export interface Batch {
  x: Tensor;
  /** Integer labels (empty when the targets are values). */
  y: Int32Array;
  /** Target rows [n, ...], where the targets are values (one-hot rows, regression values) rather than labels. */
  values?: Tensor;
  /** The rows of the full data set this batch holds. */
  indices: Int32Array;
}

/**
 * Gathers rows of x and y into batch buffers that are reused from batch to
 * batch (one set for full batches, one for the last short batch), so an
 * epoch allocates nothing. A batch is valid until the next one is made.
 */
export class BatchGatherer {
  private readonly rowSize: number;
  private readonly sampleShape: number[];
  private full: { x: Float32Array; y: Int32Array; v: Float32Array | null } | null = null;
  private tail: { x: Float32Array; y: Int32Array; v: Float32Array | null } | null = null;
  private readonly labels: LabelArray | null;
  private readonly values: Tensor | null;
  private readonly valueSize: number;

  /** y: one label per sample, or a tensor of target rows [N, ...] (gathered as batch.values). */
  constructor(private readonly x: Tensor, y: LabelArray | Tensor | null, private readonly batchSize: number) {
    this.sampleShape = x.shape.slice(1);
    this.rowSize = this.sampleShape.reduce((a, b) => a * b, 1);
    this.values = y instanceof Tensor ? y : null;
    this.labels = y instanceof Tensor ? null : y;
    this.valueSize = this.values ? this.values.size / this.values.shape[0] : 0;
  }

  /** The samples at these indices as one batch, in reused buffers (valid until the next gather). */
  gather(indices: Int32Array): Batch {
    const n = indices.length;
    let slot = n === this.batchSize ? this.full : this.tail;
    if (!slot || slot.x.length !== n * this.rowSize) {
      slot = { x: new Float32Array(n * this.rowSize), y: new Int32Array(this.values ? 0 : n), v: this.values ? new Float32Array(n * this.valueSize) : null };
      if (n === this.batchSize) this.full = slot;
      else this.tail = slot;
    }
    const src = this.x.data;
    const size = this.rowSize;
    for (let i = 0; i < n; i++) {
      const row = indices[i];
      slot.x.set(src.subarray(row * size, row * size + size), i * size);
      if (this.labels) slot.y[i] = this.labels[row];
      else if (slot.v) slot.v.set(this.values!.data.subarray(row * this.valueSize, (row + 1) * this.valueSize), i * this.valueSize);
    }
    const batch: Batch = { x: new Tensor(slot.x, [n, ...this.sampleShape]), y: slot.y, indices };
    if (slot.v) batch.values = new Tensor(slot.v, [n, ...this.values!.shape.slice(1)]);
    return batch;
  }
}

export function checkBatchSize(batchSize: unknown, op: string): number {
  return checkPositiveInt(batchSize, 'batchSize', op);
}

/**
 * Mini-batches covering every sample exactly once per epoch (the course's
 * get_mini_batch): shuffled with the seed when shuffle is true, the last
 * batch shorter when batchSize does not divide the count.
 */
export function miniBatches(
  x: Tensor,
  y: LabelArray | null,
  batchSize: number,
  options: { shuffle?: boolean; seed?: number } = {},
): Generator<Batch> {
  // Checked when called, not at the first next(): a generator body runs late.
  checkOptions(options, ['shuffle', 'seed'], 'miniBatches');
  checkTensor(x, 'x', 'miniBatches');
  checkBatchSize(batchSize, 'miniBatches');
  if (options.shuffle !== undefined) checkBoolean(options.shuffle, 'shuffle', 'miniBatches');
  const seed = options.seed === undefined ? 0 : checkNumber(options.seed, 'seed', 'miniBatches', { integer: true, min: 0, max: 2 ** 32 - 1 });
  const count = x.shape[0];
  if (y && y.length !== count) throw new ShapeError(`miniBatches: y has ${y.length} labels but x has ${count} samples (x.shape = ${formatShape(x.shape)})`);
  const order = options.shuffle === false ? Int32Array.from({ length: count }, (_, i) => i) : new Random(seed).permutation(count);
  const gatherer = new BatchGatherer(x, y, batchSize);
  return (function* batches() {
    for (let start = 0; start < count; start += batchSize) {
      yield gatherer.gather(order.subarray(start, Math.min(start + batchSize, count)));
    }
  })();
}
