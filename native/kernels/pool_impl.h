// Max pooling over windows that tile the input, 16 channels at a time, as
// templates each ISA's translation unit compiles with its own flags (like
// direct_conv_impl.h; same internal-linkage rules). For channel counts that
// are multiples of 16; pool.cc keeps the general kernels.
#pragma once

#include <cstdint>

#include "geometry.h"

namespace convkit {
namespace {
namespace pooling {

typedef float f16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t i16 __attribute__((vector_size(64), aligned(4)));

inline f16 loadf(const float* p) {
  f16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

inline void storef(float* p, f16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

// One image: y[oh, ow, :] = max of its window.
inline void forward_image(float* y, const float* x, const Geometry& g) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const float* origin = x + (static_cast<long>(oh * KH) * W + ow * KW) * C;
      float* out = y + (static_cast<long>(oh) * g.out_w + ow) * C;
      for (int cb = 0; cb < C; cb += 16) {
        f16 best = loadf(origin + cb);
        for (int kh = 0; kh < KH; ++kh)
          for (int kw = (kh == 0 ? 1 : 0); kw < KW; ++kw) {
            const f16 v = loadf(origin + (static_cast<long>(kh) * W + kw) * C + cb);
            best = v > best ? v : best;
          }
        storef(out + cb, best);
      }
    }
}

// One image: dx gets each dy at its window's first maximum (masked by max > 0
// when relu_mask); every dx cell is written once, the rows and columns the
// floor leaves out get 0. channel_sums (if not null) += each channel's sum of dx.
inline void backward_image(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask,
                           float* channel_sums) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  const int covered_h = g.out_h * KH, covered_w = g.out_w * KW;
  for (int ih = covered_h; ih < g.in_h; ++ih) __builtin_memset(dx + static_cast<long>(ih) * W * C, 0, sizeof(float) * W * C);
  const f16 zero = f16{};
  for (int oh = 0; oh < g.out_h; ++oh) {
    if (covered_w < W) {
      for (int kh = 0; kh < KH; ++kh) __builtin_memset(dx + (static_cast<long>(oh * KH + kh) * W + covered_w) * C, 0, sizeof(float) * (W - covered_w) * C);
    }
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C;
      const float* d = dy + (static_cast<long>(oh) * g.out_w + ow) * C;
      for (int cb = 0; cb < C; cb += 16) {
        f16 best = loadf(x + origin + cb);
        i16 which = i16{};
        for (int kh = 0, cell = 0; kh < KH; ++kh)
          for (int kw = 0; kw < KW; ++kw, ++cell) {
            if (cell == 0) continue;
            const f16 v = loadf(x + origin + (static_cast<long>(kh) * W + kw) * C + cb);
            const i16 better = v > best;  // strict: ties keep the earlier cell
            best = better ? v : best;
            which = better ? (i16{} + cell) : which;
          }
        i16 pass = i16{} - 1;
        if (relu_mask) pass = best > zero;
        const f16 dv = loadf(d + cb);
        if (channel_sums) storef(channel_sums + cb, loadf(channel_sums + cb) + (pass ? dv : zero));
        for (int kh = 0, cell = 0; kh < KH; ++kh)
          for (int kw = 0; kw < KW; ++kw, ++cell) {
            const i16 hit = (which == cell) & pass;
            storef(dx + origin + (static_cast<long>(kh) * W + kw) * C + cb, hit ? dv : zero);
          }
      }
    }
  }
}

}  // namespace pooling
}  // namespace
}  // namespace convkit
