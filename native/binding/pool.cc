// Pooling entry points.
#include "args.h"
#include "entries.h"

#include "kernels/pool/pool.h"

namespace convkit::binding {

// maxPool2d(y, x, geometry) / avgPool2d(y, x, geometry)
template <void (*Kernel)(float*, const float*, const Geometry&)>
Napi::Value PoolForward(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "pool2d");
  const Geometry g = geometry(info, 2, true);
  Floats x = floats_of(info, 1, "x", input_size(g));
  Floats y = floats_of(info, 0, "y", output_size(g));
  Kernel(y.data, x.data, g);
  return info.Env().Undefined();
}

// maxPool2dBackward(dx, dy, x, geometry, reluMask?)
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  expect_args_between(info, 4, 5, "maxPool2dBackward");
  const Geometry g = geometry(info, 3, true);
  Floats dy = floats_of(info, 1, "dy", output_size(g));
  Floats x = floats_of(info, 2, "x", input_size(g));
  Floats dx = floats_of(info, 0, "dx", input_size(g));
  convkit::max_pool2d_backward(dx.data, dy.data, x.data, g, optional_flag(info, 4, "reluMask"));
  return info.Env().Undefined();
}

// avgPool2dBackward(dx, dy, geometry)
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "avgPool2dBackward");
  const Geometry g = geometry(info, 2, true);
  Floats dy = floats_of(info, 1, "dy", output_size(g));
  Floats dx = floats_of(info, 0, "dx", input_size(g));
  convkit::avg_pool2d_backward(dx.data, dy.data, g);
  return info.Env().Undefined();
}

Napi::Value MaxPool2d(const Napi::CallbackInfo& info) { return PoolForward<convkit::max_pool2d_forward>(info); }
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) { return PoolForward<convkit::avg_pool2d_forward>(info); }

}  // namespace convkit::binding
