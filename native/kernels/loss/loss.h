// Losses: mean over the batch; each writes dLoss/dLogits (already divided by
// the count) and returns the loss.
#pragma once

#include <cstdint>

namespace convkit {

// logits[rows, cols], labels[rows] in [0, cols) -> probs, d_logits; stable for any logit magnitude.
double softmax_cross_entropy(float* probs, float* d_logits, const float* logits, const int32_t* labels,
                             long rows, int cols);

// Rows [r0, r1) of softmax_cross_entropy over a batch of `rows`: probs and
// d_logits of those rows, and each row's loss in row_loss[r] (the loss is
// their sum over all rows, in row order, divided by rows).
void softmax_cross_entropy_rows(float* probs, float* d_logits, const float* logits, const int32_t* labels, long r0,
                                long r1, long rows, int cols, double* row_loss);

// Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1], n values.
double sigmoid_binary_cross_entropy(float* d_logits, const float* logits, const float* targets, long n);

}  // namespace convkit
