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

// The windows of channels [cb, cb + 16) of one image; FKH x FKW fixes the
// window at compile time (0: g's, at run time). Returns the sum of what
// reached dx, per channel.
template <int FKH, int FKW>
inline f16 backward_channels(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask, int cb) {
  const int C = g.in_c, W = g.in_w;
  const int KH = FKH ? FKH : g.k_h, KW = FKW ? FKW : g.k_w;
  const f16 zero = f16{};
  f16 sum = zero;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C + cb;
      f16 best = loadf(x + origin);
      i16 which = i16{};
      for (int kh = 0, cell = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw, ++cell) {
          if (cell == 0) continue;
          const f16 v = loadf(x + origin + (static_cast<long>(kh) * W + kw) * C);
          const i16 better = v > best;  // strict: ties keep the earlier cell
          best = better ? v : best;
          which = better ? (i16{} + cell) : which;
        }
      const f16 dv = loadf(dy + (static_cast<long>(oh) * g.out_w + ow) * C + cb);
      const i16 pass = relu_mask ? best > zero : i16{} - 1;
      sum += pass ? dv : zero;
      for (int kh = 0, cell = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw, ++cell) {
          const i16 hit = (which == cell) & pass;
          storef(dx + origin + (static_cast<long>(kh) * W + kw) * C, hit ? dv : zero);
        }
    }
  return sum;
}

// One image: dx gets each dy at its window's first maximum (masked by max > 0
// when relu_mask); every dx cell is written once, the rows and columns the
// floor leaves out get 0. channel_sums (if not null) += each channel's sum of dx.
inline void backward_image(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask,
                           float* channel_sums) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  const int covered_h = g.out_h * KH, covered_w = g.out_w * KW;
  for (int ih = covered_h; ih < g.in_h; ++ih) __builtin_memset(dx + static_cast<long>(ih) * W * C, 0, sizeof(float) * W * C);
  if (covered_w < W) {
    for (int ih = 0; ih < covered_h; ++ih) __builtin_memset(dx + (static_cast<long>(ih) * W + covered_w) * C, 0, sizeof(float) * (W - covered_w) * C);
  }
  // Channel blocks outermost: the per-channel sum stays in a register, and
  // an image (a few tens of KB) stays in L1 across the blocks.
  for (int cb = 0; cb < C; cb += 16) {
    const f16 sum = KH == 2 && KW == 2 ? backward_channels<2, 2>(dx, dy, x, g, relu_mask, cb)
                                       : backward_channels<0, 0>(dx, dy, x, g, relu_mask, cb);
    if (channel_sums) storef(channel_sums + cb, loadf(channel_sums + cb) + sum);
  }
}

}  // namespace pooling
}  // namespace
}  // namespace convkit
