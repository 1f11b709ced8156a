#include "kernels/optim/optim.h"

#include <cmath>

#include "kernels/common/parallel.h"

namespace convkit {

namespace {

// The element loops take their arrays as restrict-qualified locals so the
// compiler can vectorise them (through a lambda's captured references it
// cannot prove the arrays do not overlap).
void sgd_range(float* __restrict p, float* __restrict v, const float* __restrict g, float lr, float mu, float wd, bool nesterov, long n) {
  if (v && nesterov) {
    // PyTorch's form: the step looks ahead along the updated velocity.
    for (long i = 0; i < n; ++i) {
      const float d = g[i] + wd * p[i];
      v[i] = mu * v[i] + d;
      p[i] -= lr * (d + mu * v[i]);
    }
  } else if (v) {
    for (long i = 0; i < n; ++i) {
      v[i] = mu * v[i] + (g[i] + wd * p[i]);
      p[i] -= lr * v[i];
    }
  } else {
    for (long i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
  }
}

void adam_range(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict grad, float lr,
                float beta1, float beta2, float eps, float c1, float c2, float wd, long n) {
  for (long i = 0; i < n; ++i) {
    const float g = grad[i] + wd * p[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * c1) / (std::sqrt(vi * c2) + eps);
  }
}

}  // namespace

void sgd_step(float* param, float* velocity, const float* grad, float lr, float momentum, float weight_decay, bool nesterov, long n) {
  parallel_chunks(n, n * 2, [=](long i0, long i1, int) {
    sgd_range(param + i0, velocity ? velocity + i0 : nullptr, grad + i0, lr, momentum, weight_decay, nesterov, i1 - i0);
  });
}

void adam_step(float* param, float* m, float* v, const float* grad, float lr, float beta1, float beta2,
               float eps, double step, float weight_decay, long n) {
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta1), step)));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta2), step)));
  parallel_chunks(n, n * 8, [=](long i0, long i1, int) {
    adam_range(param + i0, m + i0, v + i0, grad + i0, lr, beta1, beta2, eps, c1, c2, weight_decay, i1 - i0);
  });
}

}  // namespace convkit
