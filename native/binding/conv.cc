// Convolution entry points: forward, both backwards, and the fused Conv2D → ReLU → MaxPool2D pass each way.
#include "args.h"
#include "entries.h"

#include "kernels/conv/conv2d.h"
#include "kernels/pool/pool.h"

namespace convkit::binding {

// conv2d(y, x, w, b | null, geometry, relu?)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  expect_args_between(info, 5, 6, "conv2d");
  const Geometry g = geometry(info, 4, false);
  Floats x = floats_of(info, 1, "x", input_size(g));
  Floats w = floats_of(info, 2, "w", weight_size(g));
  Floats b = optional_floats_of(info, 3, "b", g.out_c);
  Floats y = floats_of(info, 0, "y", output_size(g));
  convkit::conv2d_forward(y.data, x.data, w.data, b.data, g, optional_flag(info, 5, "relu"));
  return info.Env().Undefined();
}

// conv2dBackwardData(dx, dy, w, geometry)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  expect_args(info, 4, "conv2dBackwardData");
  const Geometry g = geometry(info, 3, false);
  Floats dy = floats_of(info, 1, "dy", output_size(g));
  Floats w = floats_of(info, 2, "w", weight_size(g));
  Floats dx = floats_of(info, 0, "dx", input_size(g));
  convkit::conv2d_backward_data(dx.data, dy.data, w.data, g);
  return info.Env().Undefined();
}

// conv2dBackwardFilter(dw, db | null, dy, x, geometry)
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  expect_args(info, 5, "conv2dBackwardFilter");
  const Geometry g = geometry(info, 4, false);
  Floats dy = floats_of(info, 2, "dy", output_size(g));
  Floats x = floats_of(info, 3, "x", input_size(g));
  Floats dw = floats_of(info, 0, "dw", weight_size(g));
  Floats db = optional_floats_of(info, 1, "db", g.out_c);
  convkit::conv2d_backward_filter(dw.data, db.data, dy.data, x.data, g);
  return info.Env().Undefined();
}

// conv2dReluPool(convOut | null, pooled, cells | null, x, w, b | null, geometry, poolGeometry)
Napi::Value Conv2dReluPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 8, "conv2dReluPool");
  const Geometry g = geometry(info, 6, false);
  const Geometry pg = pool_over(info, 7, g);
  Floats x = floats_of(info, 3, "x", input_size(g));
  Floats w = floats_of(info, 4, "w", weight_size(g));
  Floats b = optional_floats_of(info, 5, "b", g.out_c);
  Floats conv_out = optional_floats_of(info, 0, "convOut", output_size(g));
  Floats pooled = floats_of(info, 1, "pooled", output_size(pg));
  Bytes cells = bytes_of(info, 2, "cells", output_size(pg), true);
  if (cells.data && !convkit::pool_windows_tile(pg)) {
    range_error(env, "poolGeometry: recording cells needs windows that tile (stride = kernel, no padding)");
  }
  convkit::conv2d_forward(conv_out.data, x.data, w.data, b.data, g, true, pooled.data, &pg, cells.data);
  return env.Undefined();
}

// conv2dReluPoolBackward(dx | null, dw, db | null, dPooled, x, w, pooled, cells, geometry, poolGeometry)
Napi::Value Conv2dReluPoolBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 10, "conv2dReluPoolBackward");
  const Geometry g = geometry(info, 8, false);
  const Geometry pg = pool_over(info, 9, g);
  if (!convkit::pool_windows_tile(pg)) range_error(env, "poolGeometry: the fused backward needs windows that tile (stride = kernel, no padding)");
  Floats dp = floats_of(info, 3, "dPooled", output_size(pg));
  Floats x = floats_of(info, 4, "x", input_size(g));
  Floats w = floats_of(info, 5, "w", weight_size(g));
  Floats pooled = floats_of(info, 6, "pooled", output_size(pg));
  Bytes cells = bytes_of(info, 7, "cells", output_size(pg), false);
  Floats dx = optional_floats_of(info, 0, "dx", input_size(g));
  Floats dw = floats_of(info, 1, "dw", weight_size(g));
  Floats db = optional_floats_of(info, 2, "db", g.out_c);
  convkit::conv2d_relu_pool_backward(dx.data, dw.data, db.data, dp.data, x.data, w.data, pooled.data, cells.data, g, pg);
  return env.Undefined();
}

}  // namespace convkit::binding
