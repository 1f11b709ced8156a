// im2col / col2im as templates each ISA's translation unit compiles with its
// own flags (same internal-linkage rules as direct_conv_impl.h).
#pragma once

#include "geometry.h"
#include "patches.h"

namespace convkit {
namespace {
namespace patches {

typedef float f16 __attribute__((vector_size(64), aligned(4)));

inline f16 load(const float* p) {
  f16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

inline void store(float* p, f16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

inline void copy(float* __restrict d, const float* __restrict s, long n) {
  long i = 0;
  for (; i + 16 <= n; i += 16) store(d + i, load(s + i));
  for (; i < n; ++i) d[i] = s[i];
}

inline void zero(float* d, long n) {
  long i = 0;
  for (; i + 16 <= n; i += 16) store(d + i, f16{});
  for (; i < n; ++i) d[i] = 0.0f;
}

inline void add(float* __restrict d, const float* __restrict s, long n) {
  long i = 0;
  for (; i + 16 <= n; i += 16) store(d + i, load(d + i) + load(s + i));
  for (; i < n; ++i) d[i] += s[i];
}

// The kw range [lo, hi) of a kernel row that lands inside the image for output column ow.
inline void valid_kw(const Geometry& g, int ow, int* lo, int* hi) {
  const int iw0 = ow * g.stride_w - g.pad_left;
  *lo = iw0 < 0 ? -iw0 : 0;
  *hi = g.in_w - iw0 < g.k_w ? g.in_w - iw0 : g.k_w;
  if (*hi < *lo) *hi = *lo;
}

// Visits the kernel rows of every patch in im2col order: visit(row, pixel,
// lo, hi) for each (oh, ow, kh), where row is the offset of that kernel row
// in the im2col matrix (KW * C floats) and its kw taps [lo, hi) land on
// consecutive pixels of the image starting at pixel offset `pixel` (lo == hi
// == 0: the row lies entirely in the padding).
template <typename Visit>
inline void for_each_kernel_row(const Geometry& g, Visit visit) {
  const long row_len = static_cast<long>(g.k_w) * g.in_c;
  long row = 0;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      int lo, hi;
      valid_kw(g, ow, &lo, &hi);
      const int iw0 = ow * g.stride_w - g.pad_left;
      for (int kh = 0; kh < g.k_h; ++kh, row += row_len) {
        const int ih = oh * g.stride_h - g.pad_top + kh;
        const bool inside = ih >= 0 && ih < g.in_h && lo < hi;
        visit(row, inside ? static_cast<long>(ih) * g.in_w + iw0 + lo : 0L, inside ? lo : 0, inside ? hi : 0);
      }
    }
}

// Each kernel row's valid taps are consecutive pixels: one contiguous copy, zeros around it.
inline void im2col(float* cols, const float* x, const Geometry& g) {
  const long C = g.in_c;
  for_each_kernel_row(g, [&](long row, long pixel, int lo, int hi) {
    float* out = cols + row;
    zero(out, lo * C);
    copy(out + lo * C, x + pixel * C, (hi - lo) * C);
    zero(out + hi * C, (g.k_w - hi) * C);
  });
}

inline void col2im(float* dx, const float* dcols, const Geometry& g) {
  const long C = g.in_c;
  zero(dx, g.in_image());
  for_each_kernel_row(g, [&](long row, long pixel, int lo, int hi) {
    add(dx + pixel * C, dcols + row + lo * C, (hi - lo) * C);
  });
}

inline void pad_interior(float* xpad, const float* x, const Geometry& g, int padded_w) {
  const long C = g.in_c;
  for (int h = 0; h < g.in_h; ++h) {
    copy(xpad + ((static_cast<long>(h) + g.pad_top) * padded_w + g.pad_left) * C, x + static_cast<long>(h) * g.in_w * C, g.in_w * C);
  }
}

}  // namespace patches
}  // namespace
}  // namespace convkit
