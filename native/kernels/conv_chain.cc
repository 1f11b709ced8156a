#include "conv_chain.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv2d.h"
#include "dense.h"
#include "loss.h"
#include "parallel.h"
#include "scratch.h"

namespace convkit {

namespace {

// On the calling thread, shared by the team: every block's per-thread
// partial weight and bias gradients, and each row's loss.
thread_local Scratch t_weight_partials;
thread_local Scratch t_bias_partials;
thread_local std::vector<double> t_row_loss;

// Images [n0, n1) through every block and the head: their pooled outputs and logits.
void forward_images(long n0, long n1, const float* x, const ConvBlock* blocks, int count, const DenseHead& head) {
  const float* in = x;
  for (int s = 0; s < count; ++s) {
    const ConvBlock& k = blocks[s];
    conv2d_forward_images(n0, n1, nullptr, in, k.w, k.b, k.conv, true, k.pooled, &k.pool, k.cells);
    in = k.pooled;
  }
  dense_forward_rows(n0, n1, head.logits, in, head.w, head.b, head.in, head.out);
}

}  // namespace

void conv_chain_forward(const float* x, const ConvBlock* blocks, int count, const DenseHead& head) {
  const long batch = blocks[0].conv.batch;
  long flops = 2L * batch * head.in * head.out;
  for (int s = 0; s < count; ++s) flops += 2L * batch * blocks[s].conv.out_pixels() * blocks[s].conv.patch() * blocks[s].conv.out_c;
  parallel_chunks(batch, flops, [&](long n0, long n1, int) { forward_images(n0, n1, x, blocks, count, head); });
}

double conv_chain_train_pass(const float* x, const ConvBlock* blocks, int count, const DenseHead& head,
                             const SoftmaxTargets& targets) {
  const long batch = blocks[0].conv.batch;
  long flops = 6L * batch * head.in * head.out;
  long weights_at[kMaxChainBlocks + 1] = {0};
  long bias_at[kMaxChainBlocks + 1] = {0};
  for (int s = 0; s < count; ++s) {
    const Geometry& g = blocks[s].conv;
    flops += 2L * batch * g.out_pixels() * g.patch() * g.out_c * (s > 0 ? 3 : 2);
    weights_at[s + 1] = weights_at[s] + g.patch() * g.out_c;
    bias_at[s + 1] = bias_at[s] + g.out_c;
  }
  const int team = parallel_team(batch, flops);
  // Block s's partials: team slices of its weights, from team * weights_at[s].
  float* weight_partials = t_weight_partials.floats(static_cast<std::size_t>(team) * weights_at[count]);
  double* bias_partials = reinterpret_cast<double*>(t_bias_partials.floats(2 * static_cast<std::size_t>(team) * bias_at[count]));
  t_row_loss.resize(static_cast<std::size_t>(batch));
  double* row_loss = t_row_loss.data();
  const float* features = blocks[count - 1].pooled;  // the head's input

  // Forward, loss and backward of share t of the batch: nothing here reads
  // a row another share writes.
  auto pass = [&](long t) {
    const long n0 = batch * t / team, n1 = batch * (t + 1) / team;
    forward_images(n0, n1, x, blocks, count, head);
    softmax_cross_entropy_rows(targets.probs, targets.d_logits, head.logits, targets.labels, n0, n1, batch, head.out,
                               row_loss);
    dense_backward_data_rows(n0, n1, head.dx, targets.d_logits, head.w, head.in, head.out);
    const float* d_pooled = head.dx;
    for (int s = count - 1; s >= 0; --s) {
      const ConvBlock& k = blocks[s];
      const long weights = weights_at[s + 1] - weights_at[s];
      float* dw_part = weight_partials + team * weights_at[s] + t * weights;
      double* db_part = bias_partials + team * bias_at[s] + t * k.conv.out_c;
      std::memset(dw_part, 0, sizeof(float) * weights);
      std::fill(db_part, db_part + k.conv.out_c, 0.0);
      conv2d_relu_pool_backward_images(n0, n1, dw_part, db_part, s > 0 ? k.dx : nullptr, d_pooled,
                                       s > 0 ? blocks[s - 1].pooled : x, k.w, k.pooled, k.cells, k.conv, k.pool);
      d_pooled = k.dx;
    }
  };
  // Share t of the sums over the batch, which need every share's rows.
  auto sum = [&](long t) {
    const long i0 = head.in * t / team, i1 = head.in * (t + 1) / team;
    if (i1 > i0) dense_backward_filter_rows(i0, i1, head.dw, targets.d_logits, features, static_cast<int>(batch), head.in, head.out);
    for (int s = 0; s < count; ++s) {
      const long weights = weights_at[s + 1] - weights_at[s];
      sum_partials(blocks[s].dw, weight_partials + team * weights_at[s], team, weights, weights * t / team,
                   weights * (t + 1) / team);
    }
    if (t == team - 1) {
      for (int s = 0; s < count; ++s) {
        if (blocks[s].db) sum_partials(blocks[s].db, bias_partials + team * bias_at[s], team, blocks[s].conv.out_c);
      }
      if (head.db) column_sums(head.db, targets.d_logits, batch, head.out);
    }
  };
  // Each thread runs one share, unless OpenMP gave fewer threads than asked
  // for; every thread reaches the barrier exactly once either way.
  parallel_chunks(team, flops, [&](long t0, long t1, int) {
    for (long t = t0; t < t1; ++t) pass(t);
    team_barrier();
    for (long t = t0; t < t1; ++t) sum(t);
  });

  double total = 0.0;
  for (long r = 0; r < batch; ++r) total += row_loss[r];
  return total * (1.0 / static_cast<double>(batch));
}

}  // namespace convkit
