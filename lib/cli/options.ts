// The convkit command's options, help text, defaults and the small parsers they share.
import { setBackend, setNumThreads } from '../backend/select.js';
import { DATASETS } from '../data/datasets.js';
import { ZOO_NAMES } from '../zoo.js';

/** Bad usage: exit code 2. */
export class UsageError extends Error {}

/** Training stopped by Ctrl-C after saving; exit code 130 like a shell. */
export class Interrupted extends Error {}

export const DEFAULTS = {
  model: 'mnist-3layer',
  dataset: 'mnist',
  epochs: 5,
  batchSize: 32,
  optimizer: 'adam',
  lrDecay: 0.5,
  seed: 0,
} as const;

export const HELP = `convkit — train and run convolutional neural networks from Node

usage: convkit <command> [options]

commands:
  train      train a zoo model on a data set and print its test accuracy
  evaluate   accuracy of a checkpoint on a data set's test images
  predict    class predictions of a checkpoint for images in a file
  export     a checkpoint as ONNX, NumPy .npz or HDF5
  report     an HTML report (curves, confusion matrix, top-3 images, CAMs) for a run directory
  summary    a model's layers, output shapes and parameter counts
  info       version, backend, instruction set, threads, OpenMP, which native binary and from where
  selftest   check the native kernels against the reference backend on this machine
  build      compile the native addon here (for platforms without a prebuilt binary)

train options:
  --model NAME        zoo model (default ${DEFAULTS.model}); one of: ${ZOO_NAMES.join(', ')}
  --dataset NAME      ${DATASETS.join(' | ')} (default ${DEFAULTS.dataset})
  --data-dir DIR      folder with the data set's files (default: $CONVKIT_DATA, the cache, a download, the embedded sample)
  --epochs N          passes over the training set (default ${DEFAULTS.epochs})
  --batch-size N      images per step (default ${DEFAULTS.batchSize})
  --optimizer NAME    adam | sgd | momentum (default ${DEFAULTS.optimizer})
  --lr RATE           learning rate (default 0.002 for adam, 0.01 for sgd and momentum)
  --lr-decay F        multiply the rate by F after every epoch, the course's step decay (default ${DEFAULTS.lrDecay}; 1 keeps it constant)
  --validation F      hold out this fraction of the training set for validation (default 0: none)
  --limit N           train on the first N training images only
  --seed N            seed for weights and shuffling (default ${DEFAULTS.seed})
  --out DIR           run directory: model.safetensors, optimizer.safetensors, history.json, run.json (saved every epoch)
  --resume DIR        continue a run directory where it stopped (--epochs may extend it)
  --tensorboard DIR   write TensorBoard event files (scalars per iteration and epoch, top-3 test images per class)
  --report FILE       write a self-contained HTML report (and the curves as SVG files beside it, or in --out)
  --backend NAME      native | reference (default: native when the addon loads)
  --threads N         native threads (default: $CONVKIT_NUM_THREADS, else all cores)
  --quiet             no progress output
  --no-check-finite   do not stop when the loss or a gradient turns NaN/Inf (checked by default)
  Ctrl-C              finishes the batch, saves a resumable state (to --out, else runs/), exits 130

evaluate options:  --checkpoint PATH (file or run directory), --dataset, --data-dir, --batch-size
predict options:   --checkpoint PATH, --input FILE (.npy, IDX or .csv images), --csv OUT (writes ID,Label)
export options:    --checkpoint PATH --format onnx|npz|h5 --output FILE [--names model|course|numbered]
                   (npz keys default to the model's names, h5 datasets to W1, b1, W2, ...; 'course' gives w1, b1, ... or w_conv, b_conv, w_fc, b_fc)
report options:    convkit report RUN_DIR [--data-dir DIR] [--output FILE (default RUN_DIR/report.html)]
summary options:   --model NAME or --checkpoint PATH
global options:    --verbose (stack traces on errors), --help, --version
`;

export const OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'lr-decay': { type: 'string' },
  validation: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  checkpoint: { type: 'string' },
  input: { type: 'string' },
  csv: { type: 'string' },
  resume: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
  names: { type: 'string' },
  tensorboard: { type: 'string' },
  report: { type: 'string' },
  quiet: { type: 'boolean' },
  'no-check-finite': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export function int(flags: Flags, name: keyof Flags, fallback: number, min = 1): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

export function num(flags: Flags, name: keyof Flags): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${raw}'`);
  return n;
}

export function applyRuntime(flags: Flags): void {
  if (flags.backend !== undefined) {
    if (flags.backend !== 'native' && flags.backend !== 'reference') throw new UsageError(`--backend must be 'native' or 'reference', got '${flags.backend}'`);
    setBackend(flags.backend);
  }
  if (flags.threads !== undefined) setNumThreads(int(flags, 'threads', 1));
}
