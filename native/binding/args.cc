// Definitions of args.h.
#include "args.h"

#include <cmath>

namespace convkit::binding {


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
  if (a.ElementLength() != kGeometryFields) range_error(env, "geometry must hold " + std::to_string(kGeometryFields) + " integers");
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

void expect_args(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() != n) {
    type_error(info.Env(), std::string(fn) + " takes " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }
}

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

// The pool geometry at argument i, which must pool the output of convolution g.
Geometry pool_over(const Napi::CallbackInfo& info, size_t i, const Geometry& g) {
  const Geometry pg = geometry(info, i, true);
  if (pg.batch != g.batch || pg.in_h != g.out_h || pg.in_w != g.out_w || pg.in_c != g.out_c) {
    range_error(info.Env(), "poolGeometry must pool the convolution's output");
  }
  return pg;
}

DenseSizes dense_sizes(const Napi::CallbackInfo& info, size_t i) {
  DenseSizes s{static_cast<int>(integer(info, i, "rows", 0, kMaxElements)),
               static_cast<int>(integer(info, i + 1, "inFeatures", 1, kMaxElements)),
               static_cast<int>(integer(info, i + 2, "outFeatures", 1, kMaxElements))};
  checked_product(info.Env(), {s.rows, s.in}, "x");
  checked_product(info.Env(), {s.in, s.out}, "w");
  checked_product(info.Env(), {s.rows, s.out}, "y");
  return s;
}


RowsCols rows_cols(const Napi::CallbackInfo& info, size_t i) {
  RowsCols rc{integer(info, i, "rows", 0, kMaxElements), static_cast<int>(integer(info, i + 1, "cols", 1, kMaxElements))};
  checked_product(info.Env(), {rc.rows, rc.cols}, "rows x cols");
  return rc;
}

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

}  // namespace convkit::binding
