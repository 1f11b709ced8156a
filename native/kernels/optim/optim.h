// Optimizer updates applied in place to a parameter buffer of n values.
#pragma once

namespace convkit {

// v = momentum * v + (g + wd * p); p -= lr * v (Nesterov: p -= lr * ((g + wd * p) + momentum * v)).
// velocity null: p -= lr * (g + wd * p).
void sgd_step(float* param, float* velocity, const float* grad, float lr, float momentum, float weight_decay, bool nesterov, long n);

// Adam (Kingma & Ba) with bias correction; step counts from 1.
void adam_step(float* param, float* m, float* v, const float* grad, float lr, float beta1, float beta2,
               float eps, double step, float weight_decay, long n);

}  // namespace convkit
