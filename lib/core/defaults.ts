// Every default a user meets, once: the API's optimizers and the CLI's
// training recipe read them here, and so does the help text that states them.

/** Each optimizer's settings when none are given (PyTorch's and Keras's values). */
export const OPTIMIZER_DEFAULTS = {
  sgd: { learningRate: 0.01, momentum: 0, weightDecay: 0 },
  momentum: { learningRate: 0.01, momentum: 0.9, weightDecay: 0 },
  adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
  /** Keras's and tfjs's RMSprop: rho 0.9, epsilon 1e-7 under the root. */
  rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, weightDecay: 0 },
  /** PyTorch's AdamW: decoupled weight decay 0.01. */
  adamw: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 },
  /** PyTorch's Adagrad. */
  adagrad: { learningRate: 0.01, epsilon: 1e-10, weightDecay: 0 },
} as const;

/** The optimizer names that `createOptimizer`, model files and `--optimizer` accept. */
export type OptimizerName = keyof typeof OPTIMIZER_DEFAULTS;
export const OPTIMIZER_NAMES = Object.keys(OPTIMIZER_DEFAULTS) as OptimizerName[];

/** What `convkit train` does without flags: the main job (the 3-layer MNIST CNN to 99.2% in 5 epochs). */
export const TRAINING_DEFAULTS = {
  model: 'mnist-3layer',
  dataset: 'mnist',
  epochs: 5,
  batchSize: 32,
  optimizer: 'adam' as OptimizerName,
  /** Higher than the API's 0.001: with the per-epoch decay it reaches 99.2% on MNIST in 5 epochs. */
  learningRate: { sgd: 0.01, momentum: 0.01, adam: 0.002, rmsprop: 0.001, adamw: 0.002, adagrad: 0.01 } satisfies Record<OptimizerName, number>,
  lrDecay: 0.5,
  seed: 0,
} as const;
