// A chain of Conv2D → ReLU → MaxPool2D blocks and a Dense head, run in one
// parallel region: a whole training pass (forward, softmax cross-entropy,
// backward), or inference. Each thread carries images of the batch through
// every layer (and back), so the team forks and joins once a pass instead
// of once a layer: with a region per layer, a training step on two cores
// spent a tenth of its time starting the team and waiting for its slower
// half. Each thread starts on its own share of the batch and, when done,
// takes images left in another's (share_queue.h), so a slower core does
// not hold up the step. The numbers are those of the layer-by-layer calls
// (conv2d_forward with pooling, dense_*, softmax_cross_entropy,
// conv2d_relu_pool_backward, dense_backward) on the same thread count,
// whoever ran which image.
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"

namespace convkit {

// The most blocks a chain may have (the partial sums' layout is fixed-size).
constexpr int kMaxChainBlocks = 16;

struct ConvBlock {
  Geometry conv;  // over the block's input (the previous block's pooled output)
  Geometry pool;  // over the convolution's output; its windows must tile
  const float* w;
  const float* b;   // may be null
  float* pooled;    // [N, PH, PW, O], written
  uint8_t* cells;   // the winning cell of each pooled value, written
  float* dx;        // the gradient of the block's input, written; null for the first block
  float* dw;
  float* db;  // may be null
};

struct DenseHead {
  int in, out;
  const float* w;
  const float* b;  // may be null
  float* logits;   // [N, out], written
  float* dx;       // [N, in]: the last block's pooled gradient, written
  float* dw;
  float* db;  // may be null
};

struct SoftmaxTargets {
  const int32_t* labels;  // [N], in [0, out)
  float* probs;           // [N, out], written
  float* d_logits;        // [N, out], written
};

// Inference through the same chain, also in one parallel region: each
// block's pooled output (cells may be null) and the head's logits; the
// blocks' dx, dw, db and the head's dx, dw, db are not used.
void conv_chain_forward(const float* x, const ConvBlock* blocks, int count, const DenseHead& head);

// Runs the pass for x, the first block's input; returns the mean loss.
double conv_chain_train_pass(const float* x, const ConvBlock* blocks, int count, const DenseHead& head,
                             const SoftmaxTargets& targets);

}  // namespace convkit
