#include "kernels/norm/batch_norm.h"

#include <cmath>
#include <vector>

#include "kernels/common/parallel.h"

namespace convkit {

namespace {

// Per-thread partial sums per channel, in double: slot t of `count` arrays of
// `channels` for thread t. Kept per calling thread (one addon instance), so a
// training step allocates nothing after its first.
double* partial_sums(int threads, int channels, int count) {
  thread_local std::vector<double> sums;
  const std::size_t need = static_cast<std::size_t>(threads) * count * channels;
  if (sums.size() < need) sums.resize(need);
  for (std::size_t i = 0; i < need; ++i) sums[i] = 0.0;
  return sums.data();
}

// Rows of each thread's chunk are summed in order, then the chunks in thread
// order: the result depends on the thread count only.
template <typename Body>
void per_row_chunks(long rows, int channels, Body body) {
  parallel_chunks(rows, rows * channels, [&](long begin, long end, int t) { body(begin, end, t); });
}

}  // namespace

void batch_norm_train_forward(float* y, float* mean, float* var, float* inv_std, const float* x, const float* gamma,
                              const float* beta, long rows, int channels, float eps) {
  const int team = parallel_team(rows, rows * static_cast<long>(channels));
  double* sums = partial_sums(team, channels, 2);
  per_row_chunks(rows, channels, [&](long begin, long end, int t) {
    double* sum = sums + static_cast<long>(t) * 2 * channels;
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      for (int c = 0; c < channels; ++c) sum[c] += xr[c];
    }
  });
  for (int c = 0; c < channels; ++c) {
    double s = 0;
    for (int t = 0; t < team; ++t) s += sums[static_cast<long>(t) * 2 * channels + c];
    mean[c] = static_cast<float>(s / static_cast<double>(rows));
  }
  // The variance about the float mean, in a second pass (no cancellation of E[x^2] - E[x]^2).
  per_row_chunks(rows, channels, [&](long begin, long end, int t) {
    double* sq = sums + static_cast<long>(t) * 2 * channels + channels;
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      for (int c = 0; c < channels; ++c) {
        const double d = static_cast<double>(xr[c]) - mean[c];
        sq[c] += d * d;
      }
    }
  });
  for (int c = 0; c < channels; ++c) {
    double s = 0;
    for (int t = 0; t < team; ++t) s += sums[static_cast<long>(t) * 2 * channels + channels + c];
    const double v = s / static_cast<double>(rows);
    var[c] = static_cast<float>(v);
    inv_std[c] = static_cast<float>(1.0 / std::sqrt(v + static_cast<double>(eps)));
  }
  per_row_chunks(rows, channels, [&](long begin, long end, int) {
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      float* yr = y + r * channels;
      for (int c = 0; c < channels; ++c) yr[c] = (xr[c] - mean[c]) * inv_std[c] * gamma[c] + beta[c];
    }
  });
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
  per_row_chunks(rows, channels, [&](long begin, long end, int) {
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      float* yr = y + r * channels;
      for (int c = 0; c < channels; ++c) yr[c] = xr[c] * scale[c] + shift[c];
    }
  });
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* inv_std, const float* gamma, long rows, int channels) {
  const int team = parallel_team(rows, rows * static_cast<long>(channels));
  double* sums = partial_sums(team, channels, 2);
  per_row_chunks(rows, channels, [&](long begin, long end, int t) {
    double* sdy = sums + static_cast<long>(t) * 2 * channels;
    double* sdyx = sdy + channels;
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      const float* dyr = dy + r * channels;
      for (int c = 0; c < channels; ++c) {
        sdy[c] += dyr[c];
        sdyx[c] += static_cast<double>(dyr[c]) * ((xr[c] - mean[c]) * inv_std[c]);
      }
    }
  });
  for (int c = 0; c < channels; ++c) {
    double a = 0;
    double b = 0;
    for (int t = 0; t < team; ++t) {
      a += sums[static_cast<long>(t) * 2 * channels + c];
      b += sums[static_cast<long>(t) * 2 * channels + channels + c];
    }
    dbeta[c] = static_cast<float>(a);
    dgamma[c] = static_cast<float>(b);
    sums[c] = a;  // the totals in double, in thread 0's slot (read above), for dx
    sums[channels + c] = b;
  }
  if (dx == nullptr) return;
  const double n = static_cast<double>(rows);
  per_row_chunks(rows, channels, [&](long begin, long end, int) {
    for (long r = begin; r < end; ++r) {
      const float* xr = x + r * channels;
      const float* dyr = dy + r * channels;
      float* dxr = dx + r * channels;
      for (int c = 0; c < channels; ++c) {
        const float xhat = (xr[c] - mean[c]) * inv_std[c];
        const float k = gamma[c] * inv_std[c];
        dxr[c] = k * (dyr[c] - static_cast<float>(sums[c] / n) - xhat * static_cast<float>(sums[channels + c] / n));
      }
    }
  });
}

}  // namespace convkit
