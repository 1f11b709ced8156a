#include "kernels/loss/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace convkit {

void softmax_cross_entropy_rows(float* probs, float* d_logits, const float* logits, const int32_t* labels, long r0,
                                long r1, long rows, int cols, double* row_loss) {
  const double inv_rows = 1.0 / static_cast<double>(rows);
  for (long r = r0; r < r1; ++r) {
    const float* z = logits + r * cols;
    double max = z[0];
    for (int j = 1; j < cols; ++j) max = std::max(max, static_cast<double>(z[j]));
    double sum = 0.0;
    for (int j = 0; j < cols; ++j) sum += std::exp(z[j] - max);
    const double log_sum = std::log(sum) + max;  // log-sum-exp around the maximum
    const int label = labels[r];
    row_loss[r] = log_sum - z[label];
    for (int j = 0; j < cols; ++j) {
      const double p = std::exp(z[j] - log_sum);
      probs[r * cols + j] = static_cast<float>(p);
      d_logits[r * cols + j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) * inv_rows);
    }
  }
}

double softmax_cross_entropy(float* probs, float* d_logits, const float* logits, const int32_t* labels,
                             long rows, int cols) {
  thread_local std::vector<double> row_loss;
  row_loss.resize(static_cast<std::size_t>(rows));
  softmax_cross_entropy_rows(probs, d_logits, logits, labels, 0, rows, rows, cols, row_loss.data());
  double total = 0.0;
  for (long r = 0; r < rows; ++r) total += row_loss[r];
  return total * (1.0 / static_cast<double>(rows));
}

double sigmoid_binary_cross_entropy(float* d_logits, const float* logits, const float* targets, long n) {
  double total = 0.0;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (long i = 0; i < n; ++i) {
    const double z = logits[i];
    const double t = targets[i];
    // max(z, 0) - z t + log(1 + e^-|z|) = -t log s(z) - (1 - t) log(1 - s(z)), without overflow
    total += std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
    const double s = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    d_logits[i] = static_cast<float>((s - t) * inv_n);
  }
  return total * inv_n;
}

}  // namespace convkit
