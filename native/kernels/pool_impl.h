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
typedef uint8_t u16 __attribute__((vector_size(16), aligned(1)));

inline i16 load_cells(const uint8_t* p) {
  u16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return __builtin_convertvector(v, i16);
}

inline void store_cells(uint8_t* p, i16 v) {
  const u16 bytes = __builtin_convertvector(v, u16);
  __builtin_memcpy(p, &bytes, sizeof(bytes));
}

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

// Channels [cb, cb + 16) of one image: y = each window's max, cells = which
// cell of the window holds it (the first in row-major order, as the backward
// recomputes it). FKH x FKW as in backward_channels.
template <int FKH, int FKW>
inline void forward_cells_channels(float* y, uint8_t* cells, const float* x, const Geometry& g, int cb) {
  const int C = g.in_c, W = g.in_w;
  const int KH = FKH ? FKH : g.k_h, KW = FKW ? FKW : g.k_w;
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
      const long out = (static_cast<long>(oh) * g.out_w + ow) * C + cb;
      storef(y + out, best);
      store_cells(cells + out, which);
    }
}

// One image, windows that tile: y and the cell of each maximum.
inline void forward_cells_image(float* y, uint8_t* cells, const float* x, const Geometry& g) {
  for (int cb = 0; cb < g.in_c; cb += 16) {
    if (g.k_h == 2 && g.k_w == 2) forward_cells_channels<2, 2>(y, cells, x, g, cb);
    else forward_cells_channels<0, 0>(y, cells, x, g, cb);
  }
}

// Channels [cb, cb + 16) of one image from the forward's maxima y and cells:
// dx gets dy at each window's recorded cell (where the max is > 0 when
// relu_mask), zero elsewhere. Returns the sum of what reached dx, per channel.
template <int FKH, int FKW>
inline f16 backward_cells_channels(float* dx, const float* dy, const float* y, const uint8_t* cells, const Geometry& g,
                                   bool relu_mask, int cb) {
  const int C = g.in_c, W = g.in_w;
  const int KH = FKH ? FKH : g.k_h, KW = FKW ? FKW : g.k_w;
  const f16 zero = f16{};
  f16 sum = zero;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C + cb;
      const long out = (static_cast<long>(oh) * g.out_w + ow) * C + cb;
      const i16 which = load_cells(cells + out);
      const f16 dv = loadf(dy + out);
      // A cell outside the window (only in a forged buffer) routes nothing.
      const i16 pass = (relu_mask ? loadf(y + out) > zero : i16{} - 1) & (which < KH * KW);
      sum += pass ? dv : zero;
      for (int kh = 0, cell = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw, ++cell) {
          const i16 hit = (which == cell) & pass;
          storef(dx + origin + (static_cast<long>(kh) * W + kw) * C, hit ? dv : zero);
        }
    }
  return sum;
}

// One image of backward_cells_channels, the rows and columns the floor
// leaves out set to 0; channel_sums (if not null) += each channel's sum of dx.
inline void backward_cells_image(float* dx, const float* dy, const float* y, const uint8_t* cells, const Geometry& g,
                                 bool relu_mask, float* channel_sums) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  const int covered_h = g.out_h * KH, covered_w = g.out_w * KW;
  for (int ih = covered_h; ih < g.in_h; ++ih) __builtin_memset(dx + static_cast<long>(ih) * W * C, 0, sizeof(float) * W * C);
  if (covered_w < W) {
    for (int ih = 0; ih < covered_h; ++ih) __builtin_memset(dx + (static_cast<long>(ih) * W + covered_w) * C, 0, sizeof(float) * (W - covered_w) * C);
  }
  for (int cb = 0; cb < C; cb += 16) {
    const f16 sum = KH == 2 && KW == 2 ? backward_cells_channels<2, 2>(dx, dy, y, cells, g, relu_mask, cb)
                                       : backward_cells_channels<0, 0>(dx, dy, y, cells, g, relu_mask, cb);
    if (channel_sums) storef(channel_sums + cb, loadf(channel_sums + cb) + sum);
  }
}

}  // namespace pooling
}  // namespace
}  // namespace convkit
