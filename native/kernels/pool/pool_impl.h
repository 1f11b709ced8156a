// Max pooling over windows that tile the input, 16 channels at a time, as
// templates each ISA's translation unit compiles with its own flags (like
// direct_conv_impl.h; same internal-linkage rules). For channel counts that
// are multiples of 16; pool.cc keeps the general kernels.
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"
#include "kernels/common/vec16.h"

namespace convkit {
namespace {
namespace pooling {

using namespace vec16;

// The first maximum of a window over channels [cb, cb + 16) and its cell
// (row-major index within the window; ties keep the earlier cell). origin
// points at the window's first cell; FKH x FKW fix the window at compile
// time (0: kh x kw, at run time).
template <int FKH, int FKW>
struct WindowMax {
  f16 best;
  i16 which;
  WindowMax(const float* origin, long row_pitch, long C, int kh, int kw) {
    const int KH = FKH ? FKH : kh, KW = FKW ? FKW : kw;
    best = loadf(origin);
    which = i16{};
    for (int r = 0, cell = 0; r < KH; ++r)
      for (int c = 0; c < KW; ++c, ++cell) {
        if (cell == 0) continue;
        const f16 v = loadf(origin + r * row_pitch + c * C);
        const i16 better = (v > best) | (v != v);  // NaN wins, as in PyTorch's max pool
        best = better ? v : best;
        which = better ? (i16{} + cell) : which;
      }
  }
};

// Writes dv to the window's cell `which` where pass, 0 to its other cells.
template <int FKH, int FKW>
inline void route(float* origin, long row_pitch, long C, int kh, int kw, i16 which, i16 pass, f16 dv) {
  const int KH = FKH ? FKH : kh, KW = FKW ? FKW : kw;
  for (int r = 0, cell = 0; r < KH; ++r)
    for (int c = 0; c < KW; ++c, ++cell) storef(origin + r * row_pitch + c * C, (which == cell) & pass ? dv : f16{});
}

// dx of one image: the rows and columns that the floor of the output size
// leaves out of every window get 0 (windows that tile write the rest).
inline void zero_uncovered(float* dx, const Geometry& g) {
  const int C = g.in_c, W = g.in_w;
  const int covered_h = g.out_h * g.k_h, covered_w = g.out_w * g.k_w;
  for (int ih = covered_h; ih < g.in_h; ++ih) __builtin_memset(dx + static_cast<long>(ih) * W * C, 0, sizeof(float) * W * C);
  if (covered_w < W) {
    for (int ih = 0; ih < covered_h; ++ih) __builtin_memset(dx + (static_cast<long>(ih) * W + covered_w) * C, 0, sizeof(float) * (W - covered_w) * C);
  }
}

template <int N>
struct Fixed {
  static constexpr int value = N;
};

// Calls body(Fixed<FKH>, Fixed<FKW>) with the window fixed at 2 x 2 when it
// is (the common case, unrolled), at run time (0, 0) otherwise.
template <typename Body>
inline void with_window(const Geometry& g, Body body) {
  if (g.k_h == 2 && g.k_w == 2) body(Fixed<2>{}, Fixed<2>{});
  else body(Fixed<0>{}, Fixed<0>{});
}

// One image, windows that tile: y[oh, ow, :] = max of its window, and when
// cells is not null the cell of each maximum.
inline void forward_image_cells(float* y, uint8_t* cells, const float* x, const Geometry& g) {
  const long C = g.in_c, pitch = static_cast<long>(g.in_w) * C;
  with_window(g, [&](auto fkh, auto fkw) {
    constexpr int FKH = decltype(fkh)::value, FKW = decltype(fkw)::value;
    for (int oh = 0; oh < g.out_h; ++oh)
      for (int ow = 0; ow < g.out_w; ++ow) {
        const float* origin = x + (static_cast<long>(oh * g.k_h) * g.in_w + ow * g.k_w) * C;
        const long out = (static_cast<long>(oh) * g.out_w + ow) * C;
        for (int cb = 0; cb < C; cb += 16) {
          const WindowMax<FKH, FKW> m(origin + cb, pitch, C, g.k_h, g.k_w);
          storef(y + out + cb, m.best);
          if (cells) store_cells(cells + out + cb, m.which);
        }
      }
  });
}

inline void forward_image(float* y, const float* x, const Geometry& g) { forward_image_cells(y, nullptr, x, g); }

inline void forward_cells_image(float* y, uint8_t* cells, const float* x, const Geometry& g) {
  forward_image_cells(y, cells, x, g);
}

// One image, windows that tile: dx gets each dy at its window's first
// maximum, recomputed from x (masked by max > 0 when relu_mask); every dx
// cell is written once.
inline void backward_image(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask) {
  const long C = g.in_c, pitch = static_cast<long>(g.in_w) * C;
  zero_uncovered(dx, g);
  with_window(g, [&](auto fkh, auto fkw) {
    constexpr int FKH = decltype(fkh)::value, FKW = decltype(fkw)::value;
    for (int oh = 0; oh < g.out_h; ++oh)
      for (int ow = 0; ow < g.out_w; ++ow) {
        const long origin = (static_cast<long>(oh * g.k_h) * g.in_w + ow * g.k_w) * C;
        const long out = (static_cast<long>(oh) * g.out_w + ow) * C;
        for (int cb = 0; cb < C; cb += 16) {
          const WindowMax<FKH, FKW> m(x + origin + cb, pitch, C, g.k_h, g.k_w);
          const i16 pass = relu_mask ? m.best > f16{} : i16{} - 1;
          route<FKH, FKW>(dx + origin + cb, pitch, C, g.k_h, g.k_w, m.which, pass, loadf(dy + out + cb));
        }
      }
  });
}

// One image from the forward's maxima y and cells: dx gets dy at each
// window's recorded cell (where the max is > 0 when relu_mask), zero
// elsewhere and where the floor leaves cells out; channel_sums (if not
// null) += each channel's sum of dx. Channel blocks are outermost so that
// the sum stays in a register while the image (tens of KB) stays in L1.
inline void backward_cells_image(float* dx, const float* dy, const float* y, const uint8_t* cells, const Geometry& g,
                                 bool relu_mask, float* channel_sums) {
  const long C = g.in_c, pitch = static_cast<long>(g.in_w) * C;
  zero_uncovered(dx, g);
  with_window(g, [&](auto fkh, auto fkw) {
    constexpr int FKH = decltype(fkh)::value, FKW = decltype(fkw)::value;
    for (int cb = 0; cb < C; cb += 16) {
      f16 sum = f16{};
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const long origin = (static_cast<long>(oh * g.k_h) * g.in_w + ow * g.k_w) * C + cb;
          const long out = (static_cast<long>(oh) * g.out_w + ow) * C + cb;
          const i16 which = load_cells(cells + out);
          const f16 dv = loadf(dy + out);
          // A cell outside the window (only in a forged buffer) routes nothing.
          const i16 pass = (relu_mask ? loadf(y + out) > f16{} : i16{} - 1) & (which < g.k_h * g.k_w);
          sum += pass ? dv : f16{};
          route<FKH, FKW>(dx + origin, pitch, C, g.k_h, g.k_w, which, pass, dv);
        }
      if (channel_sums) storef(channel_sums + cb, loadf(channel_sums + cb) + sum);
    }
  });
}

}  // namespace pooling
}  // namespace
}  // namespace convkit
