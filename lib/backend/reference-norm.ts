// Batch normalization as a textbook writes it, over the channels of
// [rows, channels] activations (NHWC with rows = N * H * W), in float64: the
// reference the native kernels are held to.

/** Float64Array too: the gradient checks run the reference in float64. */
type Floats = Float32Array | Float64Array;

/** The batch's mean and biased variance, inv_std = 1 / sqrt(var + eps), and y = (x - mean) * inv_std * gamma + beta. */
export function batchNormTrainForward(
  y: Floats, mean: Floats, variance: Floats, invStd: Floats, x: Floats, gamma: Floats, beta: Floats,
  rows: number, channels: number, eps: number,
): void {
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += x[r * channels + c];
    mean[c] = sum / rows;
    // The mean as stored (rounded to float32 for a Float32Array), as the native kernel centres on it.
    const m = mean[c];
    let sq = 0;
    for (let r = 0; r < rows; r++) {
      const d = x[r * channels + c] - m;
      sq += d * d;
    }
    const v = sq / rows;
    variance[c] = v;
    invStd[c] = 1 / Math.sqrt(v + eps);
    const k = invStd[c] * gamma[c];
    for (let r = 0; r < rows; r++) y[r * channels + c] = (x[r * channels + c] - m) * k + beta[c];
  }
}

/** y = (x - mean) / sqrt(var + eps) * gamma + beta with given (moving) statistics. */
export function batchNormInferForward(
  y: Floats, x: Floats, mean: Floats, variance: Floats, gamma: Floats, beta: Floats, rows: number, channels: number, eps: number,
): void {
  for (let c = 0; c < channels; c++) {
    const scale = gamma[c] / Math.sqrt(variance[c] + eps);
    for (let r = 0; r < rows; r++) y[r * channels + c] = (x[r * channels + c] - mean[c]) * scale + beta[c];
  }
}

/**
 * The training forward's backward: dbeta = Σ dy, dgamma = Σ dy·x̂, and unless
 * dx is null, dx = γ·inv_std·(dy − mean(dy) − x̂·mean(dy·x̂)).
 */
export function batchNormBackward(
  dx: Floats | null, dgamma: Floats, dbeta: Floats, dy: Floats, x: Floats, mean: Floats, invStd: Floats, gamma: Floats,
  rows: number, channels: number,
): void {
  for (let c = 0; c < channels; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * channels + c;
      sdy += dy[i];
      sdyx += dy[i] * (x[i] - mean[c]) * invStd[c];
    }
    dbeta[c] = sdy;
    dgamma[c] = sdyx;
    if (!dx) continue;
    const k = gamma[c] * invStd[c];
    for (let r = 0; r < rows; r++) {
      const i = r * channels + c;
      dx[i] = k * (dy[i] - sdy / rows - (x[i] - mean[c]) * invStd[c] * (sdyx / rows));
    }
  }
}
