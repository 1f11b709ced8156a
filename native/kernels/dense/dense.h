// Fully connected layers on the blocked SGEMM. Threads split rows of the output.
#pragma once

#include "kernels/common/scratch.h"

namespace convkit {

// y[rows, out] = x[rows, in] * w[in, out] + b[out] (b may be null)
void dense_forward(float* y, const float* x, const float* w, const float* b, int rows, int in, int out);

// dx[rows, in] = dy * w^T (dx may be null), dw[in, out] = x^T * dy, db[out] = column sums of dy (db may be null)
void dense_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                    int rows, int in, int out);

// The parts the two functions above split among threads, for callers that
// run several layers in one parallel region: rows [r0, r1) of y; rows
// [r0, r1) of dx; rows [i0, i1) of dw, over all the batch's rows.
void dense_forward_rows(long r0, long r1, float* y, const float* x, const float* w, const float* b, int in, int out);
void dense_backward_data_rows(long r0, long r1, float* dx, const float* dy, const float* w, int in, int out);
void dense_backward_filter_rows(long i0, long i1, float* dw, const float* dy, const float* x, int rows, int in, int out);

// dense_forward_rows and dense_backward_data_rows on one thread, for any
// rows, with the weights packed once (the same numbers: sgemm packs them the
// same way on every call).
class DenseRowsPass {
 public:
  DenseRowsPass(Scratch& forward_weights, Scratch& backward_weights, const float* w, const float* b, int in, int out);
  // y[r0:r1] = x[r0:r1] * w + b
  void forward(long r0, long r1, float* y, const float* x) const;
  // dx[r0:r1] = dy[r0:r1] * w^T
  void backward_data(long r0, long r1, float* dx, const float* dy) const;

 private:
  const float* b_;
  int in_, out_;
  float* packed_;    // w, K = in
  float* packed_t_;  // w^T, K = out
};

// sums[c] = sum over r of m[r * cols + c], accumulated in double.
void column_sums(float* sums, const float* m, long rows, int cols);

}  // namespace convkit
