#include "kernels/elementwise/elementwise.h"

#include <cmath>

#include "kernels/common/parallel.h"

namespace convkit {

namespace {

template <typename F>
void for_each(long n, long cost, F f) {
  parallel_chunks(n, n * cost, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; ++i) f(i);
  });
}

// 1 / (1 + e^-v) with no overflow on either side.
inline float logistic(float v) {
  if (v >= 0.0f) return 1.0f / (1.0f + std::exp(-v));
  const float e = std::exp(v);
  return e / (1.0f + e);
}

}  // namespace

void add(float* y, const float* a, const float* b, long n) {
  for_each(n, 1, [=](long i) { y[i] = a[i] + b[i]; });
}

void relu_forward(float* y, const float* x, long n) {
  // NaN passes through, as in PyTorch: a diverging run must not look healthy.
  for_each(n, 1, [=](long i) { y[i] = x[i] < 0.0f ? 0.0f : x[i]; });
}
// Backwards read dy[i] unconditionally: a load under a condition cannot be
// turned into a vector blend, and a branch on random signs mispredicts half the time.
void relu_backward(float* dx, const float* dy, const float* x, long n) {
  for_each(n, 1, [=](long i) {
    const float d = dy[i];
    dx[i] = x[i] > 0.0f ? d : 0.0f;
  });
}
void leaky_relu_forward(float* y, const float* x, float alpha, long n) {
  for_each(n, 1, [=](long i) { y[i] = x[i] > 0.0f ? x[i] : alpha * x[i]; });
}
void leaky_relu_backward(float* dx, const float* dy, const float* x, float alpha, long n) {
  for_each(n, 1, [=](long i) {
    const float d = dy[i];
    dx[i] = x[i] > 0.0f ? d : alpha * d;
  });
}
void sigmoid_forward(float* y, const float* x, long n) {
  for_each(n, 16, [=](long i) { y[i] = logistic(x[i]); });
}
void sigmoid_backward(float* dx, const float* dy, const float* y, long n) {
  for_each(n, 1, [=](long i) { dx[i] = dy[i] * y[i] * (1.0f - y[i]); });
}
void tanh_forward(float* y, const float* x, long n) {
  for_each(n, 16, [=](long i) { y[i] = std::tanh(x[i]); });
}
void tanh_backward(float* dx, const float* dy, const float* y, long n) {
  for_each(n, 1, [=](long i) { dx[i] = dy[i] * (1.0f - y[i] * y[i]); });
}

void softmax_forward(float* y, const float* x, long rows, int cols) {
  parallel_chunks(rows, rows * cols * 16, [&](long r0, long r1, int) {
    for (long r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float max = xr[0];
      for (int j = 1; j < cols; ++j) max = xr[j] > max ? xr[j] : max;
      double sum = 0.0;
      for (int j = 0; j < cols; ++j) {
        yr[j] = std::exp(xr[j] - max);
        sum += yr[j];
      }
      const float scale = static_cast<float>(1.0 / sum);
      for (int j = 0; j < cols; ++j) yr[j] *= scale;
    }
  });
}

void softmax_backward(float* dx, const float* dy, const float* y, long rows, int cols) {
  parallel_chunks(rows, rows * cols * 2, [&](long r0, long r1, int) {
    for (long r = r0; r < r1; ++r) {
      const float* dyr = dy + r * cols;
      const float* yr = y + r * cols;
      double dot = 0.0;
      for (int j = 0; j < cols; ++j) dot += static_cast<double>(dyr[j]) * yr[j];
      for (int j = 0; j < cols; ++j) dx[r * cols + j] = yr[j] * (dyr[j] - static_cast<float>(dot));
    }
  });
}

}  // namespace convkit
