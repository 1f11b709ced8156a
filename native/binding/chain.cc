// The whole-model pass: Conv2D → ReLU → MaxPool2D blocks and a Dense head
// (lib/plan/chain.ts), inference and a training step, in one call each.
#include "args.h"
#include "entries.h"

#include <string>
#include <vector>
#include "kernels/chain/conv_chain.h"
#include "kernels/pool/pool.h"

namespace convkit::binding {

constexpr size_t kPerBlock = 9;

// A block's arguments, in order.
enum BlockArg { kPooled, kCells, kDx, kDw, kDb, kW, kB, kGeometry, kPoolGeometry };

// "blocks[s].w" and so on, made once: making them on every call cost more
// than the checks that use them.
const char* block_arg(int s, BlockArg arg) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (int b = 0; b < convkit::kMaxChainBlocks; ++b) {
      for (const char* field : {"pooled", "cells", "dx", "dw", "db", "w", "b", "geometry", "poolGeometry"}) {
        all.push_back("blocks[" + std::to_string(b) + "]." + field);
      }
    }
    return all;
  }();
  return names[s * kPerBlock + arg].c_str();
}

// The blocks from argument `first` on, 9 each, outputs first: pooled, cells,
// dx | null, dw, db | null, w, b | null, geometry, poolGeometry. Blocks chain: each
// block's geometry reads the previous block's pooled output. Training: cells
// and dw are required, and dx for every block but the first (which has
// none); inference: cells may be null, dx, dw and db must be.
int chain_blocks(const Napi::CallbackInfo& info, size_t first, bool training, convkit::ConvBlock* blocks) {
  Napi::Env env = info.Env();
  const char* fn = training ? "convChainTrainPass" : "convChainForward";
  const size_t argc = info.Length();
  if (argc < first + kPerBlock || (argc - first) % kPerBlock != 0 ||
      (argc - first) / kPerBlock > static_cast<size_t>(convkit::kMaxChainBlocks)) {
    type_error(env, std::string(fn) + " takes " + std::to_string(first) + " arguments and 9 for each of 1 to " +
                        std::to_string(convkit::kMaxChainBlocks) + " blocks, got " + std::to_string(argc));
  }
  const int count = static_cast<int>((argc - first) / kPerBlock);
  for (int s = 0; s < count; ++s) {
    const size_t at = first + kPerBlock * s;
    auto called = [&](BlockArg arg) { return std::string(block_arg(s, arg)); };
    const Geometry g = geometry(info, at + kGeometry, false);
    const Geometry pg = pool_over(info, at + kPoolGeometry, g);
    if (!convkit::pool_windows_tile(pg)) range_error(env, called(kPoolGeometry) + ": windows must tile (stride = kernel, no padding)");
    if (s > 0) {
      const Geometry& before = blocks[s - 1].pool;
      if (g.batch != before.batch || g.in_h != before.out_h || g.in_w != before.out_w || g.in_c != before.out_c) {
        range_error(env, called(kGeometry) + " must read the previous block's pooled output");
      }
    }
    if (g.batch < 1) range_error(env, called(kGeometry) + ": the batch must hold at least 1 sample");
    convkit::ConvBlock& k = blocks[s];
    k.conv = g;
    k.pool = pg;
    k.w = floats_of(info, at + kW, block_arg(s, kW), weight_size(g)).data;
    k.b = optional_floats_of(info, at + kB, block_arg(s, kB), g.out_c).data;
    k.pooled = floats_of(info, at + kPooled, block_arg(s, kPooled), output_size(pg)).data;
    k.cells = bytes_of(info, at + kCells, block_arg(s, kCells), output_size(pg), !training).data;
    if (!training) {
      for (size_t i : {at + kDx, at + kDw, at + kDb}) {
        if (!absent(info, i)) {
          type_error(env, "blocks[" + std::to_string(s) + "].dx, dw and db must be null: inference writes no gradients");
        }
      }
      k.dx = k.dw = k.db = nullptr;
      continue;
    }
    if (s == 0 && !absent(info, at + kDx)) type_error(env, "blocks[0].dx must be null: nothing reads the input's gradient");
    k.dx = s == 0 ? nullptr : floats_of(info, at + kDx, block_arg(s, kDx), input_size(g)).data;
    k.dw = floats_of(info, at + kDw, block_arg(s, kDw), weight_size(g)).data;
    k.db = optional_floats_of(info, at + kDb, block_arg(s, kDb), g.out_c).data;
  }
  return count;
}

// The head over the last block's pooled output, flattened: its logits, weights
// and bias at arguments logits_at, w_at and w_at + 1, and the class count at classes_at.
convkit::DenseHead chain_head(const Napi::CallbackInfo& info, size_t logits_at, size_t w_at, size_t classes_at, const convkit::ConvBlock& last_block) {
  Napi::Env env = info.Env();
  const Geometry& last = last_block.pool;
  const int64_t rows = last.batch;
  convkit::DenseHead head{};
  head.in = static_cast<int>(checked_product(env, {last.out_h, last.out_w, last.out_c}, "head input"));
  head.out = static_cast<int>(integer(info, classes_at, "classes", 1, kMaxElements));
  checked_product(env, {rows, head.in}, "head input");
  checked_product(env, {rows, head.out}, "logits");
  checked_product(env, {head.in, head.out}, "headW");
  head.w = floats_of(info, w_at, "headW", int64_t{head.in} * head.out).data;
  head.b = optional_floats_of(info, w_at + 1, "headB", head.out).data;
  head.logits = floats_of(info, logits_at, "logits", rows * head.out).data;
  return head;
}

// convChainForward(logits, x, headW, headB | null, classes, then 9 for each block
// with cells | null and dx, dw, db null)
Napi::Value ConvChainForward(const Napi::CallbackInfo& info) {
  convkit::ConvBlock blocks[convkit::kMaxChainBlocks];
  const int count = chain_blocks(info, 5, false, blocks);
  const convkit::DenseHead head = chain_head(info, 0, 2, 4, blocks[count - 1]);
  Floats x = floats_of(info, 1, "x", input_size(blocks[0].conv));
  convkit::conv_chain_forward(x.data, blocks, count, head);
  return info.Env().Undefined();
}

// convChainTrainPass(probs, dLogits, logits, headDx, headDw, headDb | null, x, labels,
//                    headW, headB | null, classes, then 9 for each block) -> the mean loss
Napi::Value ConvChainTrainPass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  convkit::ConvBlock blocks[convkit::kMaxChainBlocks];
  const int count = chain_blocks(info, 11, true, blocks);
  convkit::DenseHead head = chain_head(info, 2, 8, 10, blocks[count - 1]);
  const int64_t rows = blocks[0].conv.batch;
  Floats x = floats_of(info, 6, "x", input_size(blocks[0].conv));
  convkit::SoftmaxTargets targets;
  targets.labels = labels_of(info, 7, rows, head.out);
  targets.probs = floats_of(info, 0, "probs", rows * head.out).data;
  targets.d_logits = floats_of(info, 1, "dLogits", rows * head.out).data;
  head.dx = floats_of(info, 3, "headDx", rows * head.in).data;
  head.dw = floats_of(info, 4, "headDw", int64_t{head.in} * head.out).data;
  head.db = optional_floats_of(info, 5, "headDb", head.out).data;
  return Napi::Number::New(env, convkit::conv_chain_train_pass(x.data, blocks, count, head, targets));
}

}  // namespace convkit::binding
