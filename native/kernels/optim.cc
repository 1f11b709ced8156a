#include "optim.h"

#include <cmath>

#include "parallel.h"

namespace convkit {

void sgd_step(float* param, float* velocity, const float* grad, float lr, float momentum, float weight_decay, long n) {
  parallel_chunks(n, n * 2, [&](long i0, long i1, int) {
    if (velocity) {
      for (long i = i0; i < i1; ++i) {
        velocity[i] = momentum * velocity[i] + (grad[i] + weight_decay * param[i]);
        param[i] -= lr * velocity[i];
      }
    } else {
      for (long i = i0; i < i1; ++i) param[i] -= lr * (grad[i] + weight_decay * param[i]);
    }
  });
}

void adam_step(float* param, float* m, float* v, const float* grad, float lr, float beta1, float beta2,
               float eps, double step, float weight_decay, long n) {
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta1), step)));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta2), step)));
  parallel_chunks(n, n * 8, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; ++i) {
      const float g = grad[i] + weight_decay * param[i];
      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      param[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
    }
  });
}

}  // namespace convkit
