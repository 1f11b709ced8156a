// The binding's argument helpers: typed, bounds-checked views of a call's
// arguments. Each throws a JavaScript TypeError (wrong kind) or RangeError
// (wrong size or value), which lib/backend/native-backend.ts maps to ConvkitErrors.
#pragma once

#include <napi.h>

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "kernels/common/geometry.h"

namespace convkit::binding {

using convkit::Geometry;

constexpr int64_t kMaxElements = INT32_MAX;
// The integers of a packed geometry (GEOMETRY_FIELDS in lib/backend/geometry.ts).
constexpr int kGeometryFields = 15;

[[noreturn]] void type_error(Napi::Env env, const std::string& message);
[[noreturn]] void range_error(Napi::Env env, const std::string& message);
void expect_length(Napi::Env env, const char* name, int64_t length, int64_t expected);
void expect_args(const Napi::CallbackInfo& info, size_t n, const char* fn);
void expect_args_between(const Napi::CallbackInfo& info, size_t lo, size_t hi, const char* fn);
inline bool absent(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNull() || info[i].IsUndefined(); }

struct Floats {
  float* data = nullptr;
  int64_t length = 0;
  explicit operator bool() const { return data != nullptr || length > 0; }
};

struct Bytes {
  uint8_t* data = nullptr;
  int64_t length = 0;
  explicit operator bool() const { return data != nullptr || length > 0; }
};

// A view of argument i, which must be a Float32Array (any length).
Floats floats(const Napi::CallbackInfo& info, size_t i, const char* name);
// A required buffer of exactly `expected` elements.
Floats floats_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected);
// null / undefined (data == nullptr), or a buffer of exactly `expected` elements.
Floats optional_floats_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected);
// A view of argument i, which must be a Uint8Array.
Bytes bytes(const Napi::CallbackInfo& info, size_t i, const char* name);
// bytes() of exactly `expected` elements (or null / undefined when nullable).
Bytes bytes_of(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t expected, bool nullable);
// Argument i as class labels: an Int32Array of `rows` values in [0, classes).
const int32_t* labels_of(const Napi::CallbackInfo& info, size_t i, int64_t rows, int64_t classes);

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
double number(const Napi::CallbackInfo& info, size_t i, const char* name);
bool optional_flag(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t checked_product(Napi::Env env, std::initializer_list<int64_t> dims, const char* what);

// Reads and re-derives a geometry: output sizes must follow from the input,
// kernel, stride and padding, so a forged geometry cannot reach a kernel.
Geometry geometry(const Napi::CallbackInfo& info, size_t i, bool pooling);
// The pool geometry at argument i, which must pool the output of convolution g.
Geometry pool_over(const Napi::CallbackInfo& info, size_t i, const Geometry& g);

inline int64_t input_size(const Geometry& g) { return static_cast<int64_t>(g.batch) * g.in_h * g.in_w * g.in_c; }
inline int64_t output_size(const Geometry& g) { return static_cast<int64_t>(g.batch) * g.out_h * g.out_w * g.out_c; }
inline int64_t weight_size(const Geometry& g) { return static_cast<int64_t>(g.k_h) * g.k_w * g.in_c * g.out_c; }

struct DenseSizes {
  int rows, in, out;
};
// rows, inFeatures and outFeatures at arguments i to i + 2.
DenseSizes dense_sizes(const Napi::CallbackInfo& info, size_t i);

struct RowsCols {
  int64_t rows;
  int cols;
};
// rows and cols at arguments i and i + 1.
RowsCols rows_cols(const Napi::CallbackInfo& info, size_t i);

}  // namespace convkit::binding
