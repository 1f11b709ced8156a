#include "kernels/dense/dense.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm/gemm.h"
#include "kernels/common/parallel.h"

namespace convkit {

void dense_forward_rows(long r0, long r1, float* y, const float* x, const float* w, const float* b, int in, int out) {
  sgemm(false, false, static_cast<int>(r1 - r0), out, in, x + r0 * in, in, w, out, y + r0 * out, out, false, b);
}

// dx[r0:r1, in] = dy[r0:r1, out] * w[in, out]^T
void dense_backward_data_rows(long r0, long r1, float* dx, const float* dy, const float* w, int in, int out) {
  sgemm(false, true, static_cast<int>(r1 - r0), in, out, dy + r0 * out, out, w, out, dx + r0 * in, in, false);
}

// dw[i0:i1, out] = x[rows, i0:i1]^T * dy[rows, out]
void dense_backward_filter_rows(long i0, long i1, float* dw, const float* dy, const float* x, int rows, int in, int out) {
  sgemm(true, false, static_cast<int>(i1 - i0), out, rows, x + i0, in, dy, out, dw + i0 * out, out, false);
}

DenseRowsPass::DenseRowsPass(Scratch& forward_weights, Scratch& backward_weights, const float* w, const float* b, int in,
                             int out)
    : b_(b), in_(in), out_(out) {
  packed_ = forward_weights.floats(packed_b_size(in, out));
  if (in > 0) pack_b(false, in, out, w, out, packed_);
  packed_t_ = backward_weights.floats(packed_b_size(out, in));
  if (out > 0) pack_b(true, out, in, w, out, packed_t_);
}

void DenseRowsPass::forward(long r0, long r1, float* y, const float* x) const {
  sgemm_packed(false, static_cast<int>(r1 - r0), out_, in_, x + r0 * in_, in_, packed_, y + r0 * out_, out_, false, b_);
}

void DenseRowsPass::backward_data(long r0, long r1, float* dx, const float* dy) const {
  sgemm_packed(false, static_cast<int>(r1 - r0), in_, out_, dy + r0 * out_, out_, packed_t_, dx + r0 * in_, in_, false);
}

void dense_forward(float* y, const float* x, const float* w, const float* b, int rows, int in, int out) {
  const long flops = 2L * rows * in * out;
  parallel_chunks(rows, flops, [&](long r0, long r1, int) { dense_forward_rows(r0, r1, y, x, w, b, in, out); });
}

void dense_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                    int rows, int in, int out) {
  const long flops = 2L * rows * in * out * (dx ? 2 : 1);
  // One parallel region for both products (each ends a step's worth of
  // small work; a region costs several microseconds here): part t of the
  // team computes rows [r0, r1) of dx and rows [i0, i1) of dw.
  const int team = parallel_team(std::min(rows, in), flops);
  parallel_chunks(team, flops, [&](long t0, long t1, int) {
    for (long t = t0; t < t1; ++t) {
      if (dx) dense_backward_data_rows(rows * t / team, rows * (t + 1) / team, dx, dy, w, in, out);
      dense_backward_filter_rows(in * t / team, in * (t + 1) / team, dw, dy, x, rows, in, out);
    }
  });
  if (db) column_sums(db, dy, rows, out);
}

void column_sums(float* sums, const float* m, long rows, int cols) {
  thread_local std::vector<double> acc;
  acc.assign(cols, 0.0);
  for (long r = 0; r < rows; ++r) {
    const float* row = m + r * cols;
    for (int c = 0; c < cols; ++c) acc[c] += row[c];
  }
  for (int c = 0; c < cols; ++c) sums[c] = static_cast<float>(acc[c]);
}

}  // namespace convkit
