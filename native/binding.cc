// The one N-API file: argument checks, zero-copy views of the caller's
// Float32Arrays, and dispatch to the kernels. Every buffer length is checked
// against the geometry here, again, so that no input can make a kernel read
// or write out of bounds. TypeError: wrong kind of argument; RangeError:
// wrong size or value (lib/backend/native.ts maps them to ConvkitErrors).

#include <napi.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "cpu.h"
#include "kernels/conv2d.h"
#include "kernels/conv_chain.h"
#include "kernels/convert.h"
#include "kernels/dense.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/loss.h"
#include "kernels/optim.h"
#include "kernels/parallel.h"
#include "kernels/pool.h"
#include "kernels/share_queue.h"

namespace {

using convkit::Geometry;

constexpr int64_t kMaxElements = INT32_MAX;

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

[[noreturn]] void range_error(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

void expect_length(Napi::Env env, const char* name, int64_t length, int64_t expected) {
  if (length != expected) {
    range_error(env, std::string(name) + " has " + std::to_string(length) + " elements, expected " + std::to_string(expected));
  }
}

bool absent(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNull() || info[i].IsUndefined(); }

struct Floats {
  float* data = nullptr;
  int64_t length = 0;
  explicit operator bool() const { return data != nullptr || length > 0; }
};

// A view of argument i, which must be a Float32Array.
Floats floats(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    type_error(env, std::string(name) + " must be a Float32Array");
  }
  Napi::Float32Array array = v.As<Napi::Float32Array>();
  Floats out;
  out.length = static_cast<int64_t>(array.ElementLength());
  out.data = out.length > 0 ? array.Data() : nullptr;
  return out;
}

struct Bytes {
  uint8_t* data = nullptr;
  int64_t length = 0;
  explicit operator bool() const { return data != nullptr || length > 0; }
};

// A view of argument i, which must be a Uint8Array.
Bytes bytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    type_error(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  Napi::Uint8Array array = v.As<Napi::Uint8Array>();
  Bytes out;
  out.length = static_cast<int64_t>(array.ElementLength());
  out.data = out.length > 0 ? array.Data() : nullptr;
  return out;
}

// bytes() of exactly `expected` elements (or null / undefined when nullable).
Bytes bytes_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected, bool nullable) {
  if (nullable && absent(info, i)) return {};
  Bytes b = bytes(info, i, name);
  expect_length(info.Env(), name, b.length, expected);
  return b;
}

// A required buffer of exactly `expected` elements.
Floats floats_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected) {
  Floats f = floats(info, i, name);
  expect_length(info.Env(), name, f.length, expected);
  return f;
}

// null / undefined (data == nullptr), or a buffer of exactly `expected` elements.
Floats optional_floats_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected) {
  return absent(info, i) ? Floats{} : floats_of(info, i, name, expected);
}

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) type_error(info.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || std::floor(d) != d) {
    range_error(info.Env(), std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "], got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

double number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) type_error(info.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) range_error(info.Env(), std::string(name) + " must be finite");
  return d;
}

int64_t checked_product(Napi::Env env, std::initializer_list<int64_t> dims, const char* what) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d != 0 && p > kMaxElements / d) range_error(env, std::string(what) + " has more than 2^31-1 elements");
    p *= d;
  }
  return p;
}

// Reads and re-derives a geometry: output sizes must follow from the input,
// kernel, stride and padding, so a forged geometry cannot reach a kernel.
Geometry geometry(const Napi::CallbackInfo& info, size_t i, bool pooling) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    type_error(env, "geometry must be an Int32Array");
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() != 15) range_error(env, "geometry must hold 15 integers");
  const int32_t* p = a.Data();
  Geometry g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
  if (g.batch < 0 || g.in_h < 1 || g.in_w < 1 || g.in_c < 1 || g.out_c < 1 || g.k_h < 1 || g.k_w < 1 ||
      g.stride_h < 1 || g.stride_w < 1 || g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 || g.pad_right < 0) {
    range_error(env, "geometry has a negative or zero size");
  }
  const int64_t span_h = static_cast<int64_t>(g.in_h) + g.pad_top + g.pad_bottom - g.k_h;
  const int64_t span_w = static_cast<int64_t>(g.in_w) + g.pad_left + g.pad_right - g.k_w;
  if (span_h < 0 || span_w < 0) range_error(env, "geometry: the window is larger than the padded input");
  if (g.out_h != span_h / g.stride_h + 1 || g.out_w != span_w / g.stride_w + 1) {
    range_error(env, "geometry: output size does not follow from input, kernel, stride and padding");
  }
  if (pooling && (g.out_c != g.in_c || g.pad_top >= g.k_h || g.pad_bottom >= g.k_h || g.pad_left >= g.k_w ||
                  g.pad_right >= g.k_w)) {
    range_error(env, "geometry: pooling needs out_c == in_c and padding smaller than the window");
  }
  checked_product(env, {g.batch, g.in_h, g.in_w, g.in_c}, "input");
  checked_product(env, {g.batch, g.out_h, g.out_w, g.out_c}, "output");
  checked_product(env, {g.out_h, g.out_w, g.k_h, g.k_w, g.in_c}, "im2col matrix");
  checked_product(env, {g.k_h, g.k_w, g.in_c, g.out_c}, "weights");
  return g;
}

int64_t input_size(const Geometry& g) { return static_cast<int64_t>(g.batch) * g.in_h * g.in_w * g.in_c; }
int64_t output_size(const Geometry& g) { return static_cast<int64_t>(g.batch) * g.out_h * g.out_w * g.out_c; }
int64_t weight_size(const Geometry& g) { return static_cast<int64_t>(g.k_h) * g.k_w * g.in_c * g.out_c; }

void expect_args(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() != n) {
    type_error(info.Env(), std::string(fn) + " takes " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }
}

// ---- convolution ----------------------------------------------------------

bool optional_flag(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || info[i].IsUndefined()) return false;
  if (!info[i].IsBoolean()) type_error(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

void expect_args_between(const Napi::CallbackInfo& info, size_t lo, size_t hi, const char* fn) {
  if (info.Length() < lo || info.Length() > hi) {
    type_error(info.Env(), std::string(fn) + " takes " + std::to_string(lo) + " to " + std::to_string(hi) + " arguments, got " + std::to_string(info.Length()));
  }
}

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

// The pool geometry at argument i, which must pool the output of convolution g.
Geometry pool_over(const Napi::CallbackInfo& info, size_t i, const Geometry& g) {
  const Geometry pg = geometry(info, i, true);
  if (pg.batch != g.batch || pg.in_h != g.out_h || pg.in_w != g.out_w || pg.in_c != g.out_c) {
    range_error(info.Env(), "poolGeometry must pool the convolution's output");
  }
  return pg;
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

// ---- pooling --------------------------------------------------------------

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

// ---- dense ----------------------------------------------------------------

struct DenseSizes {
  int rows, in, out;
};

DenseSizes dense_sizes(const Napi::CallbackInfo& info, size_t i) {
  DenseSizes s{static_cast<int>(integer(info, i, "rows", 0, kMaxElements)),
               static_cast<int>(integer(info, i + 1, "inFeatures", 1, kMaxElements)),
               static_cast<int>(integer(info, i + 2, "outFeatures", 1, kMaxElements))};
  checked_product(info.Env(), {s.rows, s.in}, "x");
  checked_product(info.Env(), {s.in, s.out}, "w");
  checked_product(info.Env(), {s.rows, s.out}, "y");
  return s;
}

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

// ---- element-wise ---------------------------------------------------------

// name(y, x)
template <void (*Kernel)(float*, const float*, long)>
Napi::Value Unary(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "activation");
  Floats x = floats(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  Kernel(y.data, x.data, x.length);
  return info.Env().Undefined();
}

// nameBackward(dx, dy, saved)
template <void (*Kernel)(float*, const float*, const float*, long)>
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "activation backward");
  Floats dy = floats(info, 1, "dy");
  Floats saved = floats_of(info, 2, "x or y", dy.length);
  Floats dx = floats_of(info, 0, "dx", dy.length);
  Kernel(dx.data, dy.data, saved.data, dy.length);
  return info.Env().Undefined();
}

// bytesToFloats(y, x: Uint8Array, divisor)
Napi::Value BytesToFloats(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "bytesToFloats");
  Bytes x = bytes(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  const double divisor = number(info, 2, "divisor");
  if (divisor == 0.0) range_error(info.Env(), "divisor must not be 0");
  convkit::bytes_to_floats(y.data, x.data, static_cast<long>(x.length), static_cast<float>(divisor));
  return info.Env().Undefined();
}

// leakyRelu(y, x, alpha)
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "leakyRelu");
  Floats x = floats(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  convkit::leaky_relu_forward(y.data, x.data, static_cast<float>(number(info, 2, "alpha")), x.length);
  return info.Env().Undefined();
}

// leakyReluBackward(dx, dy, x, alpha)
Napi::Value LeakyReluBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 4, "leakyReluBackward");
  Floats dy = floats(info, 1, "dy");
  Floats x = floats_of(info, 2, "x", dy.length);
  Floats dx = floats_of(info, 0, "dx", dy.length);
  convkit::leaky_relu_backward(dx.data, dy.data, x.data, static_cast<float>(number(info, 3, "alpha")), dy.length);
  return info.Env().Undefined();
}

struct RowsCols {
  int64_t rows;
  int cols;
};

RowsCols rows_cols(const Napi::CallbackInfo& info, size_t i) {
  RowsCols rc{integer(info, i, "rows", 0, kMaxElements), static_cast<int>(integer(info, i + 1, "cols", 1, kMaxElements))};
  checked_product(info.Env(), {rc.rows, rc.cols}, "rows x cols");
  return rc;
}

// softmax(y, x, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  expect_args(info, 4, "softmax");
  const RowsCols rc = rows_cols(info, 2);
  Floats x = floats_of(info, 1, "x", rc.rows * rc.cols);
  Floats y = floats_of(info, 0, "y", rc.rows * rc.cols);
  convkit::softmax_forward(y.data, x.data, rc.rows, rc.cols);
  return info.Env().Undefined();
}

// softmaxBackward(dx, dy, y, rows, cols)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 5, "softmaxBackward");
  const RowsCols rc = rows_cols(info, 3);
  Floats dy = floats_of(info, 1, "dy", rc.rows * rc.cols);
  Floats y = floats_of(info, 2, "y", rc.rows * rc.cols);
  Floats dx = floats_of(info, 0, "dx", rc.rows * rc.cols);
  convkit::softmax_backward(dx.data, dy.data, y.data, rc.rows, rc.cols);
  return info.Env().Undefined();
}

// ---- losses ---------------------------------------------------------------

// Argument i as class labels: an Int32Array of `rows` values in [0, classes).
const int32_t* labels_of(const Napi::CallbackInfo& info, size_t i, int64_t rows, int64_t classes) {
  Napi::Env env = info.Env();
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    type_error(env, "labels must be an Int32Array");
  }
  Napi::Int32Array labels = info[i].As<Napi::Int32Array>();
  if (static_cast<int64_t>(labels.ElementLength()) != rows) {
    range_error(env, "labels has " + std::to_string(labels.ElementLength()) + " elements, expected " + std::to_string(rows));
  }
  const int32_t* l = labels.Data();
  for (int64_t r = 0; r < rows; ++r) {
    if (l[r] < 0 || l[r] >= classes) range_error(env, "labels[" + std::to_string(r) + "] = " + std::to_string(l[r]) + " is outside [0, " + std::to_string(classes) + ")");
  }
  return l;
}

// softmaxCrossEntropy(probs, dLogits, logits, labels, rows, cols) -> loss
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 6, "softmaxCrossEntropy");
  const RowsCols rc = rows_cols(info, 4);
  if (rc.rows < 1) range_error(env, "rows must be at least 1");
  Floats logits = floats_of(info, 2, "logits", rc.rows * rc.cols);
  const int32_t* l = labels_of(info, 3, rc.rows, rc.cols);
  Floats probs = floats_of(info, 0, "probs", rc.rows * rc.cols);
  Floats d = floats_of(info, 1, "dLogits", rc.rows * rc.cols);
  return Napi::Number::New(env, convkit::softmax_cross_entropy(probs.data, d.data, logits.data, l, rc.rows, rc.cols));
}

// ---- a chain of Conv2D → ReLU → MaxPool2D blocks and a Dense head ---------

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

// sigmoidBinaryCrossEntropy(dLogits, logits, targets) -> loss
Napi::Value SigmoidBinaryCrossEntropy(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "sigmoidBinaryCrossEntropy");
  Floats logits = floats(info, 1, "logits");
  if (logits.length < 1) range_error(info.Env(), "logits must not be empty");
  Floats targets = floats_of(info, 2, "targets", logits.length);
  Floats d = floats_of(info, 0, "dLogits", logits.length);
  return Napi::Number::New(info.Env(), convkit::sigmoid_binary_cross_entropy(d.data, logits.data, targets.data, logits.length));
}

// ---- optimizers -----------------------------------------------------------

// sgdStep(param, velocity | null, grad, lr, momentum, weightDecay)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  expect_args(info, 6, "sgdStep");
  Floats p = floats(info, 0, "param");
  Floats g = floats_of(info, 2, "grad", p.length);
  Floats v = optional_floats_of(info, 1, "velocity", p.length);
  convkit::sgd_step(p.data, v.data, g.data, static_cast<float>(number(info, 3, "lr")),
                    static_cast<float>(number(info, 4, "momentum")), static_cast<float>(number(info, 5, "weightDecay")), p.length);
  return info.Env().Undefined();
}

// adamStep(param, m, v, grad, lr, beta1, beta2, eps, step, weightDecay)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  expect_args(info, 10, "adamStep");
  Floats p = floats(info, 0, "param");
  Floats g = floats_of(info, 3, "grad", p.length);
  Floats m = floats_of(info, 1, "m", p.length);
  Floats v = floats_of(info, 2, "v", p.length);
  const double step = static_cast<double>(integer(info, 8, "step", 1, INT64_C(1) << 52));
  convkit::adam_step(p.data, m.data, v.data, g.data, static_cast<float>(number(info, 4, "lr")),
                     static_cast<float>(number(info, 5, "beta1")), static_cast<float>(number(info, 6, "beta2")),
                     static_cast<float>(number(info, 7, "eps")), step, static_cast<float>(number(info, 9, "weightDecay")), p.length);
  return info.Env().Undefined();
}

// ---- runtime --------------------------------------------------------------

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("isa", convkit::isa_name(convkit::current_isa()));
  out.Set("gemmKernel", convkit::current_gemm_kernel().name);
  Napi::Array supported = Napi::Array::New(env);
  Napi::Array compiled = Napi::Array::New(env);
  uint32_t ns = 0, nc = 0;
  for (convkit::Isa isa : {convkit::Isa::Avx512, convkit::Isa::Avx2, convkit::Isa::Generic}) {
    if (convkit::cpu_supports(isa) && convkit::isa_compiled(isa)) supported.Set(ns++, convkit::isa_name(isa));
    if (convkit::isa_compiled(isa)) compiled.Set(nc++, convkit::isa_name(isa));
  }
  out.Set("supportedIsas", supported);
  out.Set("compiledIsas", compiled);
  out.Set("threads", convkit::num_threads());
  out.Set("openmp", convkit::openmp_enabled());
  return out;
}

// The multiply-add peak of the current ISA here, on the current thread count (about 0.6 s).
Napi::Value MeasurePeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) type_error(env, "measurePeak takes no arguments");
  const convkit::PeakMeasurement m = convkit::measure_peak(convkit::num_threads());
  Napi::Object out = Napi::Object::New(env);
  out.Set("gflops", m.gflops);
  out.Set("threads", m.threads);
  out.Set("isa", convkit::isa_name(convkit::current_isa()));
  out.Set("flopsPerIteration", m.flops_per_iteration);
  return out;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) type_error(env, "setIsa takes one string: 'avx512', 'avx2' or 'generic'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  convkit::Isa isa;
  if (!convkit::parse_isa(name.c_str(), &isa)) {
    range_error(env, "unknown ISA '" + name + "'; expected 'avx512', 'avx2' or 'generic'");
  }
  if (!convkit::set_isa(isa)) {
    std::string have;
    for (convkit::Isa i : {convkit::Isa::Avx512, convkit::Isa::Avx2, convkit::Isa::Generic}) {
      if (convkit::cpu_supports(i) && convkit::isa_compiled(i)) have += (have.empty() ? "" : ", ") + std::string(convkit::isa_name(i));
    }
    range_error(env, "this CPU or build cannot run '" + name + "' (it can run: " + have + ")");
  }
  return env.Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int n = static_cast<int>(integer(info, 0, "threads", 1, 1024));
  convkit::set_num_threads(n);
  convkit::set_kernel_threads(n);
  return info.Env().Undefined();
}

// setSchedule('balanced' | 'static' | 'take-first'): how the chain's threads share a batch (share_queue.h).
Napi::Value SetSchedule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) type_error(env, "setSchedule takes one string: 'balanced', 'static' or 'take-first'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name == "balanced") convkit::set_share_schedule(convkit::ShareSchedule::Balanced);
  else if (name == "static") convkit::set_share_schedule(convkit::ShareSchedule::Static);
  else if (name == "take-first") convkit::set_share_schedule(convkit::ShareSchedule::TakeFirst);
  else range_error(env, "unknown schedule '" + name + "'; expected 'balanced', 'static' or 'take-first'");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // The ISA and thread count are the process's: Init runs again for every
  // worker thread that loads the addon, and must not undo the main thread's choice.
  static std::once_flag configured;
  std::call_once(configured, [] {
    convkit::set_isa(convkit::best_isa());
    convkit::set_kernel_threads(convkit::num_threads());
  });

  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("measurePeak", Napi::Function::New(env, MeasurePeak));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("setSchedule", Napi::Function::New(env, SetSchedule));

  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardFilter", Napi::Function::New(env, Conv2dBackwardFilter));
  exports.Set("conv2dReluPool", Napi::Function::New(env, Conv2dReluPool));
  exports.Set("conv2dReluPoolBackward", Napi::Function::New(env, Conv2dReluPoolBackward));
  exports.Set("maxPool2d", Napi::Function::New(env, PoolForward<convkit::max_pool2d_forward>));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward));
  exports.Set("avgPool2d", Napi::Function::New(env, PoolForward<convkit::avg_pool2d_forward>));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward));
  exports.Set("dense", Napi::Function::New(env, Dense));
  exports.Set("denseBackward", Napi::Function::New(env, DenseBackward));
  exports.Set("bytesToFloats", Napi::Function::New(env, BytesToFloats));
  exports.Set("relu", Napi::Function::New(env, Unary<convkit::relu_forward>));
  exports.Set("reluBackward", Napi::Function::New(env, UnaryBackward<convkit::relu_backward>));
  exports.Set("leakyRelu", Napi::Function::New(env, LeakyRelu));
  exports.Set("leakyReluBackward", Napi::Function::New(env, LeakyReluBackward));
  exports.Set("sigmoid", Napi::Function::New(env, Unary<convkit::sigmoid_forward>));
  exports.Set("sigmoidBackward", Napi::Function::New(env, UnaryBackward<convkit::sigmoid_backward>));
  exports.Set("tanh", Napi::Function::New(env, Unary<convkit::tanh_forward>));
  exports.Set("tanhBackward", Napi::Function::New(env, UnaryBackward<convkit::tanh_backward>));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy));
  exports.Set("convChainForward", Napi::Function::New(env, ConvChainForward));
  exports.Set("convChainTrainPass", Napi::Function::New(env, ConvChainTrainPass));
  exports.Set("sigmoidBinaryCrossEntropy", Napi::Function::New(env, SigmoidBinaryCrossEntropy));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  return exports;
}

}  // namespace

NODE_API_MODULE(convkit, Init)
