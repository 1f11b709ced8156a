// Dense (fully connected) entry points.
#include "args.h"
#include "entries.h"

#include "kernels/dense/dense.h"

namespace convkit::binding {

// dense(y, x, w, b | null, rows, in, out)
Napi::Value Dense(const Napi::CallbackInfo& info) {
  expect_args(info, 7, "dense");
  const DenseSizes s = dense_sizes(info, 4);
  Floats x = floats_of(info, 1, "x", int64_t{s.rows} * s.in);
  Floats w = floats_of(info, 2, "w", int64_t{s.in} * s.out);
  Floats b = optional_floats_of(info, 3, "b", s.out);
  Floats y = floats_of(info, 0, "y", int64_t{s.rows} * s.out);
  convkit::dense_forward(y.data, x.data, w.data, b.data, s.rows, s.in, s.out);
  return info.Env().Undefined();
}

// denseBackward(dx | null, dw, db | null, dy, x, w, rows, in, out)
Napi::Value DenseBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 9, "denseBackward");
  const DenseSizes s = dense_sizes(info, 6);
  Floats dy = floats_of(info, 3, "dy", int64_t{s.rows} * s.out);
  Floats x = floats_of(info, 4, "x", int64_t{s.rows} * s.in);
  Floats w = floats_of(info, 5, "w", int64_t{s.in} * s.out);
  Floats dx = optional_floats_of(info, 0, "dx", int64_t{s.rows} * s.in);
  Floats dw = floats_of(info, 1, "dw", int64_t{s.in} * s.out);
  Floats db = optional_floats_of(info, 2, "db", s.out);
  convkit::dense_backward(dx.data, dw.data, db.data, dy.data, x.data, w.data, s.rows, s.in, s.out);
  return info.Env().Undefined();
}

}  // namespace convkit::binding
