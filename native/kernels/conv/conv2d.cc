#include "kernels/conv/conv2d.h"

#include <algorithm>
#include <cstring>

#include "kernels/conv/conv2d_passes.h"
#include "kernels/dense/dense.h"
#include "kernels/common/parallel.h"
#include "kernels/common/scratch.h"

namespace convkit {

namespace {

// The layer-by-layer calls' buffers, one set per thread.
thread_local ConvScratch t_layer;
// On the calling thread, shared by the team: per-thread partial sums.
thread_local Scratch t_partials;
thread_local Scratch t_db;

}  // namespace

void conv2d_forward(float* y, const float* x, const float* w, const float* b, const Geometry& g, bool relu,
                    float* pooled, const Geometry* pg, uint8_t* cells) {
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * g.out_c;
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int) {
    ConvForwardPass(t_layer.forward, y, x, w, b, g, relu, pooled, pg, cells).images(n0, n1);
  });
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const Geometry& g) {
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * g.out_c;
  const int chunk = images_per_chunk(g);
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int) {
    DataGradient data_gradient(t_layer.data, g, w, chunk);
    for (long n = n0; n < n1; n += chunk) {
      data_gradient.compute(dx + n * g.in_image(), dy + n * g.out_image(), std::min<long>(chunk, n1 - n));
    }
  });
}

void conv2d_backward_filter(float* dw, float* db, const float* dy, const float* x, const Geometry& g) {
  const int M = static_cast<int>(g.out_pixels());
  const int K = static_cast<int>(g.patch());
  const int O = g.out_c;
  const long weights = static_cast<long>(K) * O;
  const long flops = 2L * g.batch * M * K * O;
  const int team = parallel_team(g.batch, flops);
  // Each thread sums its images into its own slice; the slices are then
  // added in thread order, so the result depends only on the thread count.
  float* partials = team > 1 ? t_partials.floats(static_cast<std::size_t>(team) * weights) : dw;
  if (g.batch == 0) std::memset(dw, 0, sizeof(float) * weights);  // no thread runs
  const int chunk = images_per_chunk(g);
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int t) {
    float* mine = partials + static_cast<long>(t) * weights;
    std::memset(mine, 0, sizeof(float) * weights);  // by the thread that adds to it, as in conv2d_relu_pool_backward
    FilterGradient filter(t_layer.filter, g, chunk, false);
    for (long n = n0; n < n1; n += chunk) {
      filter.add(mine, dy + n * g.out_image(), x + n * g.in_image(), std::min<long>(chunk, n1 - n));
    }
  });
  if (team > 1) sum_partials(dw, partials, team, weights);
  if (db) column_sums(db, dy, static_cast<long>(g.batch) * M, O);
}

void conv2d_relu_pool_backward(float* dx, float* dw, float* db, const float* d_pooled, const float* x, const float* w,
                               const float* pooled, const uint8_t* cells, const Geometry& g, const Geometry& pg) {
  const long weights = g.patch() * g.out_c;
  const int O = g.out_c;
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * O * (dx ? 2 : 1);
  const int team = parallel_team(g.batch, flops);
  const bool by_entries = ReluPoolBackwardPass::entries_apply(g, pg);  // once: the partials' layout
  // Per-thread partial sums of dw and db, added in thread order afterwards.
  float* partials = t_partials.floats(static_cast<std::size_t>(team) * weights);
  double* db_partials = reinterpret_cast<double*>(t_db.floats(static_cast<std::size_t>(team) * O * 2));
  if (g.batch == 0) {  // no thread runs: the sums below read zeros
    std::memset(partials, 0, sizeof(float) * team * weights);
    std::fill(db_partials, db_partials + team * O, 0.0);
  }
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int t) {
    float* mine = partials + static_cast<long>(t) * weights;
    double* db_mine = db_partials + static_cast<long>(t) * O;
    std::memset(mine, 0, sizeof(float) * weights);  // by the thread that adds to it: the lines stay in its cache
    std::fill(db_mine, db_mine + O, 0.0);
    ReluPoolBackwardPass(t_layer, dx, d_pooled, x, w, pooled, cells, g, pg, by_entries).images(n0, n1, mine, db_mine);
  });
  if (by_entries) sum_transposed_partials(dw, partials, team, weights, g, 0, weights);
  else sum_partials(dw, partials, team, weights);
  if (db) sum_partials(db, db_partials, team, O);
}

}  // namespace convkit
