// Batch normalization over the channels of NHWC activations: x is
// [rows, channels] with rows = N * H * W. Training normalizes by the batch's
// statistics and returns them; inference uses the moving ones. Sums are in
// double, so the result does not depend on the batch's size or order of
// magnitude more than float rounding of each term.
#pragma once

namespace convkit {

// y = (x - mean) * inv_std * gamma + beta, mean and inv_std = 1 / sqrt(var + eps)
// the batch's (biased variance), written per channel; var is the biased variance.
void batch_norm_train_forward(float* y, float* mean, float* var, float* inv_std, const float* x, const float* gamma,
                              const float* beta, long rows, int channels, float eps);

// y = (x - mean) / sqrt(var + eps) * gamma + beta with the given (moving) statistics.
void batch_norm_infer_forward(float* y, const float* x, const float* mean, const float* var, const float* gamma,
                              const float* beta, long rows, int channels, float eps);

// The training forward's backward: dbeta = sum dy, dgamma = sum dy * xhat and
// (unless dx is null) dx = gamma * inv_std / rows * (rows * dy - dbeta - xhat * dgamma),
// xhat = (x - mean) * inv_std. dgamma and dbeta are overwritten.
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* inv_std, const float* gamma, long rows, int channels);

}  // namespace convkit
