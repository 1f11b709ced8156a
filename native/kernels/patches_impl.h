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

// For a fixed (oh, ow, kh) the valid kw taps are consecutive pixels, so each is one contiguous copy.
inline void im2col(float* cols, const float* x, const Geometry& g) {
  const long C = g.in_c;
  const long row_len = static_cast<long>(g.k_w) * C;
  float* out = cols;
  for (int oh = 0; oh < g.out_h; ++oh) {
    for (int ow = 0; ow < g.out_w; ++ow) {
      int lo, hi;
      valid_kw(g, ow, &lo, &hi);
      const int iw0 = ow * g.stride_w - g.pad_left;
      for (int kh = 0; kh < g.k_h; ++kh) {
        const int ih = oh * g.stride_h - g.pad_top + kh;
        if (ih < 0 || ih >= g.in_h || lo >= hi) {
          zero(out, row_len);
        } else {
          zero(out, lo * C);
          copy(out + lo * C, x + (static_cast<long>(ih) * g.in_w + iw0 + lo) * C, (hi - lo) * C);
          zero(out + hi * C, (g.k_w - hi) * C);
        }
        out += row_len;
      }
    }
  }
}

inline void col2im(float* dx, const float* dcols, const Geometry& g) {
  const long C = g.in_c;
  zero(dx, g.in_image());
  const float* in = dcols;
  for (int oh = 0; oh < g.out_h; ++oh) {
    for (int ow = 0; ow < g.out_w; ++ow) {
      int lo, hi;
      valid_kw(g, ow, &lo, &hi);
      const int iw0 = ow * g.stride_w - g.pad_left;
      for (int kh = 0; kh < g.k_h; ++kh) {
        const int ih = oh * g.stride_h - g.pad_top + kh;
        if (ih >= 0 && ih < g.in_h && lo < hi) {
          add(dx + (static_cast<long>(ih) * g.in_w + iw0 + lo) * C, in + lo * C, (hi - lo) * C);
        }
        in += static_cast<long>(g.k_w) * C;
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
