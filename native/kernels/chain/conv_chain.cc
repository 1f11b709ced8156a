#include "kernels/chain/conv_chain.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <vector>

#include "kernels/conv/conv2d_passes.h"
#include "kernels/dense/dense.h"
#include "kernels/loss/loss.h"
#include "kernels/common/parallel.h"
#include "kernels/common/scratch.h"
#include "kernels/common/share_queue.h"

namespace convkit {

namespace {

// At most this many floats of gradients of images taken from another
// thread's share (mnist-3layer: 23k a taken image).
constexpr long kMaxTakenFloats = 4L << 20;

// Each thread's buffers for every block's prepared forward and backward, and the head's.
thread_local ConvScratch t_block_scratch[kMaxChainBlocks];
thread_local Scratch t_head_weights;
thread_local Scratch t_head_weights_t;

// On the calling thread, shared by the team: every block's per-share
// partial weight and bias gradients, the gradients of images taken from
// another share, each row's loss, the shares' queues.
thread_local Scratch t_weight_partials;
thread_local Scratch t_bias_partials;
thread_local Scratch t_taken;
thread_local std::vector<double> t_row_loss;
thread_local std::vector<int> t_taken_slot;
thread_local std::vector<ShareQueue> t_queues;

// helped: whether threads may take from each other's shares.
ShareQueue* share_queues(int team, long batch, bool helped) {
  if (t_queues.size() < static_cast<std::size_t>(team)) t_queues = std::vector<ShareQueue>(team);
  for (int t = 0; t < team; ++t) t_queues[t].reset(batch * t / team, batch * (t + 1) / team, !helped);
  return t_queues.data();
}

// One thread's prepared chain: every block's forward (and backward, for
// training) and the head's, run on any images.
class ChainThread {
 public:
  // by_entries[s]: how block s's backward runs (ReluPoolBackwardPass::entries_apply), for training.
  ChainThread(const float* x, const ConvBlock* blocks, int count, const DenseHead& head, bool training,
              const bool* by_entries = nullptr)
      : blocks_(blocks), count_(count), head_(head),
        dense_(t_head_weights, t_head_weights_t, head.w, head.b, head.in, head.out) {
    const float* in = x;
    for (int s = 0; s < count; ++s) {
      const ConvBlock& k = blocks[s];
      forward_[s].emplace(t_block_scratch[s].forward, nullptr, in, k.w, k.b, k.conv, true, k.pooled, &k.pool, k.cells);
      if (training) {
        backward_[s].emplace(t_block_scratch[s], s > 0 ? k.dx : nullptr, s + 1 < count ? blocks[s + 1].dx : head.dx,
                             in, k.w, k.pooled, k.cells, k.conv, k.pool, by_entries[s]);
      }
      in = k.pooled;
    }
  }

  // Images [n0, n1) through every block and the head: pooled outputs and logits.
  void forward(long n0, long n1) {
    for (int s = 0; s < count_; ++s) forward_[s]->images(n0, n1);
    dense_.forward(n0, n1, head_.logits, blocks_[count_ - 1].pooled);
  }

  // Forward, loss and backward of images [n0, n1): nothing here reads a row
  // another range writes. Block s's gradients are added into dw[s], db[s].
  void train(long n0, long n1, const SoftmaxTargets& targets, long batch, double* row_loss, float* const* dw,
             double* const* db) {
    forward(n0, n1);
    softmax_cross_entropy_rows(targets.probs, targets.d_logits, head_.logits, targets.labels, n0, n1, batch, head_.out,
                               row_loss);
    dense_.backward_data(n0, n1, head_.dx, targets.d_logits);
    for (int s = count_ - 1; s >= 0; --s) backward_[s]->images(n0, n1, dw[s], db[s]);
  }

 private:
  const ConvBlock* blocks_;
  int count_;
  const DenseHead& head_;
  DenseRowsPass dense_;
  std::optional<ConvForwardPass> forward_[kMaxChainBlocks];
  std::optional<ReluPoolBackwardPass> backward_[kMaxChainBlocks];
};

long chain_flops(const ConvBlock* blocks, int count, const DenseHead& head, bool training) {
  const long batch = blocks[0].conv.batch;
  long flops = (training ? 6L : 2L) * batch * head.in * head.out;
  for (int s = 0; s < count; ++s) {
    const Geometry& g = blocks[s].conv;
    flops += 2L * batch * g.out_pixels() * g.patch() * g.out_c * (training ? (s > 0 ? 3 : 2) : 1);
  }
  return flops;
}

}  // namespace

void conv_chain_forward(const float* x, const ConvBlock* blocks, int count, const DenseHead& head) {
  const long batch = blocks[0].conv.batch;
  const long flops = chain_flops(blocks, count, head, false);
  const int team = parallel_team(batch, flops);
  const bool helped = team > 1 && share_schedule() != ShareSchedule::Static;
  ShareQueue* queues = share_queues(team, batch, helped);
  // Every image's outputs are its own: any thread may run any image.
  parallel_chunks(team, flops, [&](long t0, long t1, int) {
    ChainThread me(x, blocks, count, head, false);
    auto run_own = [&](long t) {
      for (long n0, n1; queues[t].take_front(n0, n1);) me.forward(n0, n1);
    };
    auto take = [&](ShareQueue& other, long most) {
      for (long n; most-- > 0 && (n = other.take_back()) >= 0;) me.forward(n, n + 1);
      return true;
    };
    work_shares(queues, team, t0, t1, helped, run_own, take);
  });
}

double conv_chain_train_pass(const float* x, const ConvBlock* blocks, int count, const DenseHead& head,
                             const SoftmaxTargets& targets) {
  const long batch = blocks[0].conv.batch;
  const long flops = chain_flops(blocks, count, head, true);
  long weights_at[kMaxChainBlocks + 1] = {0};
  long bias_at[kMaxChainBlocks + 1] = {0};
  // Decided once a pass, for every thread and for the partials' layout.
  bool by_entries[kMaxChainBlocks] = {false};
  bool one_sum_per_image = true;
  for (int s = 0; s < count; ++s) {
    const Geometry& g = blocks[s].conv;
    weights_at[s + 1] = weights_at[s] + g.patch() * g.out_c;
    bias_at[s + 1] = bias_at[s] + g.out_c;
    by_entries[s] = ReluPoolBackwardPass::entries_apply(g, blocks[s].pool);
    one_sum_per_image = one_sum_per_image && ReluPoolBackwardPass::one_sum_per_image(g, by_entries[s]);
  }
  const int team = parallel_team(batch, flops);
  // Block s's partials: team slices of its weights, from team * weights_at[s].
  float* weight_partials = t_weight_partials.floats(static_cast<std::size_t>(team) * weights_at[count]);
  double* bias_partials = reinterpret_cast<double*>(t_bias_partials.floats(2 * static_cast<std::size_t>(team) * bias_at[count]));
  t_row_loss.resize(static_cast<std::size_t>(batch));
  double* row_loss = t_row_loss.data();
  const float* features = blocks[count - 1].pooled;  // the head's input
  // Block s's partial weight and bias gradients of share t.
  auto share_dw = [&](int s, long t) { return weight_partials + team * weights_at[s] + t * (weights_at[s + 1] - weights_at[s]); };
  auto share_db = [&](int s, long t) { return bias_partials + team * bias_at[s] + t * blocks[s].conv.out_c; };

  // An image taken from the back of another thread's share gets its
  // gradients made alone, into zeros, in a slot: every weight's, then every
  // bias's (as doubles). Added after the pass to its share's partials, in
  // image order, they give the sums its owner would have made (which adds
  // each image as one sum: one_sum_per_image), so the result does not
  // depend on who ran which image.
  const long biases_from = (weights_at[count] + 15) / 16 * 16;  // the doubles aligned
  const long slot_floats = (biases_from + 2 * bias_at[count] + 15) / 16 * 16;
  const bool balanced = team > 1 && one_sum_per_image && share_schedule() != ShareSchedule::Static;
  const long slots = balanced ? std::min(batch / 2, kMaxTakenFloats / slot_floats) : 0;
  ShareQueue* queues = share_queues(team, batch, slots > 0);
  float* taken = slots > 0 ? t_taken.floats(static_cast<std::size_t>(slots * slot_floats)) : nullptr;
  t_taken_slot.resize(static_cast<std::size_t>(batch));
  int* taken_slot = t_taken_slot.data();
  std::atomic<long> next_slot{0};
  // Block s's weight and bias gradients of the image in a slot.
  auto slot_dw = [&](long slot, int s) { return taken + slot * slot_floats + weights_at[s]; };
  auto slot_db = [&](long slot, int s) { return reinterpret_cast<double*>(taken + slot * slot_floats + biases_from) + bias_at[s]; };

  // A thread's own shares, claimed from their fronts, into their partials.
  auto run_own = [&](ChainThread& me, long t) {
    float* dw[kMaxChainBlocks];
    double* db[kMaxChainBlocks];
    for (int s = 0; s < count; ++s) {
      dw[s] = share_dw(s, t);
      db[s] = share_db(s, t);
      // by the thread that adds to them: the lines stay in its cache
      std::memset(dw[s], 0, sizeof(float) * (weights_at[s + 1] - weights_at[s]));
      std::fill(db[s], db[s] + blocks[s].conv.out_c, 0.0);
    }
    for (long n0, n1; queues[t].take_front(n0, n1);) me.train(n0, n1, targets, batch, row_loss, dw, db);
  };
  // Up to `most` images from the back of another share, each into a slot;
  // false once the slots are used up.
  auto take = [&](ChainThread& me, ShareQueue& other, long most) {
    float* dw[kMaxChainBlocks];
    double* db[kMaxChainBlocks];
    for (; most > 0 && !other.empty(); --most) {
      const long slot = next_slot.fetch_add(1, std::memory_order_relaxed);
      if (slot >= slots) return false;
      const long n = other.take_back();
      if (n < 0) break;
      std::memset(taken + slot * slot_floats, 0, sizeof(float) * slot_floats);
      for (int s = 0; s < count; ++s) {
        dw[s] = slot_dw(slot, s);
        db[s] = slot_db(slot, s);
      }
      taken_slot[n] = static_cast<int>(slot);
      me.train(n, n + 1, targets, batch, row_loss, dw, db);
    }
    return true;
  };
  // Weights [i0, i1) of share t's block-s partials, plus the images taken from its back.
  auto add_taken_weights = [&](int s, long t, long i0, long i1) {
    float* part = share_dw(s, t);
    for (long n = queues[t].taken_from_back(); n < queues[t].end(); ++n) {
      const float* gradients = slot_dw(taken_slot[n], s);
      for (long i = i0; i < i1; ++i) part[i] += gradients[i];
    }
  };
  auto add_taken_biases = [&](int s, long t) {
    double* part = share_db(s, t);
    for (long n = queues[t].taken_from_back(); n < queues[t].end(); ++n) {
      const double* gradients = slot_db(taken_slot[n], s);
      for (int o = 0; o < blocks[s].conv.out_c; ++o) part[o] += gradients[o];
    }
  };
  // Part t of the sums over the batch, which need every share's rows.
  auto sum = [&](long t) {
    const long i0 = head.in * t / team, i1 = head.in * (t + 1) / team;
    if (i1 > i0) dense_backward_filter_rows(i0, i1, head.dw, targets.d_logits, features, static_cast<int>(batch), head.in, head.out);
    for (int s = 0; s < count; ++s) {
      const long weights = weights_at[s + 1] - weights_at[s];
      const long w0 = weights * t / team, w1 = weights * (t + 1) / team;
      if (slots > 0) {
        for (long u = 0; u < team; ++u) add_taken_weights(s, u, w0, w1);
      }
      // Partials in the pass's layout, transposed or not (ReluPoolBackwardPass).
      if (by_entries[s]) {
        sum_transposed_partials(blocks[s].dw, share_dw(s, 0), team, weights, blocks[s].conv, w0, w1);
      } else {
        sum_partials(blocks[s].dw, share_dw(s, 0), team, weights, w0, w1);
      }
    }
    if (t == team - 1) {
      for (int s = 0; s < count; ++s) {
        if (!blocks[s].db) continue;
        if (slots > 0) {
          for (long u = 0; u < team; ++u) add_taken_biases(s, u);
        }
        sum_partials(blocks[s].db, share_db(s, 0), team, blocks[s].conv.out_c);
      }
      if (head.db) column_sums(head.db, targets.d_logits, batch, head.out);
    }
  };
  // Each thread owns one share, unless OpenMP gave fewer threads than asked
  // for; every thread reaches the barrier exactly once either way.
  parallel_chunks(team, flops, [&](long t0, long t1, int) {
    {
      ChainThread me(x, blocks, count, head, true, by_entries);
      work_shares(queues, team, t0, t1, slots > 0, [&](long t) { run_own(me, t); },
                  [&](ShareQueue& other, long most) { return take(me, other, most); });
    }
    team_barrier();
    for (long t = t0; t < t1; ++t) sum(t);
  });

  double total = 0.0;
  for (long r = 0; r < batch; ++r) total += row_loss[r];
  return total * (1.0 / static_cast<double>(batch));
}

}  // namespace convkit
