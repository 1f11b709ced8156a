// The preprocessing a model was trained with, saved in its checkpoint so
// that predict and evaluate apply the same: the images' size before resizing
// and the StandardScaler fitted on the training images (after resizing).
import { FormatError, ShapeError, formatShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { StandardScaler, resize } from './transforms.js';

/** What prepareImages reads of a model: its name and per-sample input shape [H, W, C]. */
export interface ImageModel {
  readonly name: string;
  readonly inputShape: readonly number[];
}

export interface Preprocessing {
  /** The training images' [H, W, C] as read, before any resize to the model's input. */
  sourceShape?: number[];
  /** mean and std per feature (or per channel), fitted on the training images. */
  scaler?: { mean: number[]; std: number[]; per?: 'feature' | 'channel' };
}

/** The checkpoint metadata key that holds the preprocessing, as JSON. */
export const PREPROCESSING_KEY = 'preprocessing';

export function preprocessingFrom(metadata: Record<string, string>, file: string): Preprocessing {
  const raw = metadata[PREPROCESSING_KEY];
  if (raw === undefined) return {};
  let p: Preprocessing;
  try {
    p = JSON.parse(raw);
  } catch (error) {
    throw new FormatError(`${file}: the preprocessing metadata is not valid JSON (${(error as Error).message})`);
  }
  if (p.scaler !== undefined) StandardScaler.fromJSON(p.scaler, `${file}: preprocessing.scaler`);
  return p;
}

/**
 * Images made ready for a model: resized to its input size (area averaging)
 * when they differ, then standardised with the saved scaler. Refuses images
 * whose channels differ from the model's.
 */
export function prepareImages(x: Tensor, model: ImageModel, p: Preprocessing, what: string, say: (m: string) => void = () => {}): Tensor {
  const [h, w, c] = model.inputShape;
  if (x.rank !== 4 || x.shape[3] !== c) {
    throw new ShapeError(`${what}: images are ${formatShape(x.shape.slice(1))} but ${model.name} takes ${formatShape(model.inputShape)} (${c === 1 ? 'grayscale' : `${c} channels`})`);
  }
  let out = x;
  if (x.shape[1] !== h || x.shape[2] !== w) {
    say(`resizing images ${x.shape[1]}×${x.shape[2]} → ${h}×${w} for ${model.name}`);
    out = resize(x, h, w);
  }
  if (p.scaler) out = StandardScaler.fromJSON(p.scaler).transform(out);
  return out;
}
