#include "kernels/norm/batch_norm.h"

#include <cmath>
#include <vector>

namespace convkit {

namespace {

// Per-channel double accumulators, kept per thread so that a training step allocates nothing after its first.
double* channel_sums(int channels, int which) {
  thread_local std::vector<double> sums[2];
  std::vector<double>& s = sums[which];
  if (static_cast<int>(s.size()) < channels) s.resize(channels);
  for (int c = 0; c < channels; ++c) s[c] = 0.0;
  return s.data();
}

}  // namespace

void batch_norm_train_forward(float* y, float* mean, float* var, float* inv_std, const float* x, const float* gamma,
                              const float* beta, long rows, int channels, float eps) {
  double* sum = channel_sums(channels, 0);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    for (int c = 0; c < channels; ++c) sum[c] += xr[c];
  }
  for (int c = 0; c < channels; ++c) mean[c] = static_cast<float>(sum[c] / static_cast<double>(rows));
  // The variance about the float mean, in a second pass (no cancellation of E[x^2] - E[x]^2).
  double* sq = channel_sums(channels, 1);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    for (int c = 0; c < channels; ++c) {
      const double d = static_cast<double>(xr[c]) - mean[c];
      sq[c] += d * d;
    }
  }
  for (int c = 0; c < channels; ++c) {
    const double v = sq[c] / static_cast<double>(rows);
    var[c] = static_cast<float>(v);
    inv_std[c] = static_cast<float>(1.0 / std::sqrt(v + static_cast<double>(eps)));
  }
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
    for (int c = 0; c < channels; ++c) yr[c] = (xr[c] - mean[c]) * inv_std[c] * gamma[c] + beta[c];
  }
}

void batch_norm_infer_forward(float* y, const float* x, const float* mean, const float* var, const float* gamma,
                              const float* beta, long rows, int channels, float eps) {
  thread_local std::vector<float> scale_shift;
  if (static_cast<int>(scale_shift.size()) < 2 * channels) scale_shift.resize(2 * channels);
  float* scale = scale_shift.data();
  float* shift = scale + channels;
  for (int c = 0; c < channels; ++c) {
    scale[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps)));
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
    for (int c = 0; c < channels; ++c) yr[c] = xr[c] * scale[c] + shift[c];
  }
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* inv_std, const float* gamma, long rows, int channels) {
  double* sdy = channel_sums(channels, 0);
  double* sdyx = channel_sums(channels, 1);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    const float* dyr = dy + r * channels;
    for (int c = 0; c < channels; ++c) {
      sdy[c] += dyr[c];
      sdyx[c] += static_cast<double>(dyr[c]) * ((xr[c] - mean[c]) * inv_std[c]);
    }
  }
  for (int c = 0; c < channels; ++c) {
    dbeta[c] = static_cast<float>(sdy[c]);
    dgamma[c] = static_cast<float>(sdyx[c]);
  }
  if (dx == nullptr) return;
  const double n = static_cast<double>(rows);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    const float* dyr = dy + r * channels;
    float* dxr = dx + r * channels;
    for (int c = 0; c < channels; ++c) {
      const float xhat = (xr[c] - mean[c]) * inv_std[c];
      const float k = gamma[c] * inv_std[c];
      dxr[c] = k * (dyr[c] - static_cast<float>(sdy[c] / n) - xhat * static_cast<float>(sdyx[c] / n));
    }
  }
}

}  // namespace convkit
