// Batch normalization entry points: every buffer checked against rows x channels before the kernel runs.
#include "args.h"
#include "entries.h"

#include "kernels/norm/batch_norm.h"

namespace convkit::binding {

namespace {

constexpr int64_t kMaxChannels = 1 << 20;

struct NormShape {
  int64_t rows;
  int64_t channels;
  int64_t size;
};

NormShape norm_shape(const Napi::CallbackInfo& info, size_t rows_at) {
  const int64_t rows = integer(info, rows_at, "rows", 1, INT64_MAX / 2);
  const int64_t channels = integer(info, rows_at + 1, "channels", 1, kMaxChannels);
  return {rows, channels, checked_product(info.Env(), {rows, channels}, "rows x channels")};
}

float eps_of(const Napi::CallbackInfo& info, size_t i) {
  const double eps = number(info, i, "epsilon");
  if (!(eps > 0.0)) range_error(info.Env(), "epsilon must be > 0");
  return static_cast<float>(eps);
}

}  // namespace

// batchNormTrainForward(y, mean, var, invStd, x, gamma, beta, rows, channels, eps)
Napi::Value BatchNormTrainForward(const Napi::CallbackInfo& info) {
  expect_args(info, 10, "batchNormTrainForward");
  const NormShape s = norm_shape(info, 7);
  const float eps = eps_of(info, 9);
  Floats x = floats_of(info, 4, "x", s.size);
  Floats y = floats_of(info, 0, "y", s.size);
  Floats mean = floats_of(info, 1, "mean", s.channels);
  Floats var = floats_of(info, 2, "var", s.channels);
  Floats inv_std = floats_of(info, 3, "invStd", s.channels);
  Floats gamma = floats_of(info, 5, "gamma", s.channels);
  Floats beta = floats_of(info, 6, "beta", s.channels);
  batch_norm_train_forward(y.data, mean.data, var.data, inv_std.data, x.data, gamma.data, beta.data, s.rows,
                           static_cast<int>(s.channels), eps);
  return info.Env().Undefined();
}

// batchNormInferForward(y, x, mean, var, gamma, beta, rows, channels, eps)
Napi::Value BatchNormInferForward(const Napi::CallbackInfo& info) {
  expect_args(info, 9, "batchNormInferForward");
  const NormShape s = norm_shape(info, 6);
  const float eps = eps_of(info, 8);
  Floats x = floats_of(info, 1, "x", s.size);
  Floats y = floats_of(info, 0, "y", s.size);
  Floats mean = floats_of(info, 2, "mean", s.channels);
  Floats var = floats_of(info, 3, "var", s.channels);
  Floats gamma = floats_of(info, 4, "gamma", s.channels);
  Floats beta = floats_of(info, 5, "beta", s.channels);
  batch_norm_infer_forward(y.data, x.data, mean.data, var.data, gamma.data, beta.data, s.rows,
                           static_cast<int>(s.channels), eps);
  return info.Env().Undefined();
}

// batchNormBackward(dx | null, dgamma, dbeta, dy, x, mean, invStd, gamma, rows, channels)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 10, "batchNormBackward");
  const NormShape s = norm_shape(info, 8);
  Floats dy = floats_of(info, 3, "dy", s.size);
  Floats x = floats_of(info, 4, "x", s.size);
  Floats dx = optional_floats_of(info, 0, "dx", s.size);
  Floats dgamma = floats_of(info, 1, "dgamma", s.channels);
  Floats dbeta = floats_of(info, 2, "dbeta", s.channels);
  Floats mean = floats_of(info, 5, "mean", s.channels);
  Floats inv_std = floats_of(info, 6, "invStd", s.channels);
  Floats gamma = floats_of(info, 7, "gamma", s.channels);
  batch_norm_backward(dx.data, dgamma.data, dbeta.data, dy.data, x.data, mean.data, inv_std.data, gamma.data, s.rows,
                      static_cast<int>(s.channels));
  return info.Env().Undefined();
}

}  // namespace convkit::binding
