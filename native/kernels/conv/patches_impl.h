// im2col / col2im as templates each ISA's translation unit compiles with its
// own flags (same internal-linkage rules as direct_conv_impl.h).
#pragma once

#include "kernels/common/geometry.h"
#include "kernels/common/vec16.h"
#include "kernels/conv/patches.h"

namespace convkit {
namespace {
namespace patches {

using vec16::f16;
// The shared loads and stores under this file's short names.
inline f16 load(const float* p) { return vec16::loadf(p); }
inline void store(float* p, f16 v) { vec16::storef(p, v); }

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

// The taps [first, last] (every stride-th) of a kernel dimension that reach
// input coordinate i: the output coordinate (i + pad - tap) / stride exists.
inline void covering_taps(int i, int pad, int stride, int k, int out, int* first, int* last) {
  const int t = i + pad;
  const int lo = t - (out - 1) * stride > 0 ? t - (out - 1) * stride : 0;
  *first = lo + (t - lo) % stride;
  *last = t < k - 1 ? t : k - 1;
}

// Each input pixel gathers, in registers, the columns of the patches that
// cover it, and is written once. (Adding each patch row back onto dx instead
// chains every store into the next patch's load of the same cells.)
inline void col2im(float* dx, const float* dcols, const Geometry& g) {
  const long C = g.in_c;
  const long K = g.patch();
  // Moving to the next covering tap along kh (kw) moves to the output pixel
  // one row (column) up-left in dcols, and stride taps on within its patch.
  const long kh_step = static_cast<long>(g.stride_h) * g.k_w * C - g.out_w * K;
  const long kw_step = static_cast<long>(g.stride_w) * C - K;
  for (int ih = 0; ih < g.in_h; ++ih) {
    int kh0, kh1;
    covering_taps(ih, g.pad_top, g.stride_h, g.k_h, g.out_h, &kh0, &kh1);
    const int n_kh = kh1 < kh0 ? 0 : (kh1 - kh0) / g.stride_h + 1;
    const long oh0 = (ih + g.pad_top - kh0) / g.stride_h;
    for (int iw = 0; iw < g.in_w; ++iw) {
      int kw0, kw1;
      covering_taps(iw, g.pad_left, g.stride_w, g.k_w, g.out_w, &kw0, &kw1);
      const int n_kw = kw1 < kw0 ? 0 : (kw1 - kw0) / g.stride_w + 1;
      const long ow0 = (iw + g.pad_left - kw0) / g.stride_w;
      const float* first = dcols + (oh0 * g.out_w + ow0) * K + (static_cast<long>(kh0) * g.k_w + kw0) * C;
      auto gather = [&](auto sum) {
        const float* row = first;
        for (int a = 0; a < n_kh; ++a, row += kh_step) {
          const float* col = row;
          for (int b = 0; b < n_kw; ++b, col += kw_step) sum(col);
        }
      };
      float* out = dx + (static_cast<long>(ih) * g.in_w + iw) * C;
      long c = 0;
      for (; c + 32 <= C; c += 32) {
        f16 s0{}, s1{};
        gather([&](const float* col) { s0 += load(col + c); s1 += load(col + c + 16); });
        store(out + c, s0);
        store(out + c + 16, s1);
      }
      for (; c + 16 <= C; c += 16) {
        f16 s0{};
        gather([&](const float* col) { s0 += load(col + c); });
        store(out + c, s0);
      }
      for (; c < C; ++c) {
        float v = 0.0f;
        gather([&](const float* col) { v += col[c]; });
        out[c] = v;
      }
    }
  }
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
