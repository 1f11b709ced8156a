// The F(2x2, 3x3) and F(2x2, 5x5) transforms (winograd.h) as templates each ISA's
// translation unit compiles with its own flags (same internal-linkage rules
// as direct_conv_impl.h): 16 channels at a time in GCC vectors (one AVX-512
// register, two AVX2 ones), then one at a time for the rest. F(2x2, 3x3)
// adds and subtracts (and halves its filters); F(2x2, 5x5) scales by 2, 4
// and 5 (its filters by 1/4, 1/6 and 1/24).
#pragma once

#include <cstdint>

#include "kernels/common/vec16.h"
#include "kernels/conv/winograd.h"

namespace convkit {
namespace {
namespace winograd {

using vec16::f16;
using vec16::i16;

template <class V>
inline V load(const float* p);
template <>
inline f16 load<f16>(const float* p) {
  return vec16::loadf(p);
}
template <>
inline float load<float>(const float* p) {
  return *p;
}
inline void store(float* p, f16 v) { vec16::storef(p, v); }
inline void store(float* p, float v) { *p = v; }
// NaN passes through the ReLU, as in PyTorch (a comparison with NaN is false).
inline f16 relu_of(f16 v) { return v < f16{} ? f16{} : v; }
inline float relu_of(float v) { return v < 0.0f ? 0.0f : v; }

// Calls body(c, lanes) over channels [0, n): 16 at a time as f16, the rest as float.
template <class Body>
inline void over_channels(int n, Body body) {
  int c = 0;
  for (; c + 16 <= n; c += 16) body(c, f16{});
  for (; c < n; ++c) body(c, 0.0f);
}

// B^T of F(2, 3) on one column (or row) of a 4-point block.
template <class V>
inline void input_column(const V (&d)[4], V (&t)[4]) {
  t[0] = d[0] - d[2];
  t[1] = d[1] + d[2];
  t[2] = d[2] - d[1];
  t[3] = d[1] - d[3];
}

// B^T of F(2, 5) on a 6-point column (points 0, 1, -1, 2, -2 and infinity).
template <class V>
inline void input_column(const V (&d)[6], V (&t)[6]) {
  const V four = V{} + 4.0f, five = V{} + 5.0f, two = V{} + 2.0f;
  t[0] = four * d[0] - five * d[2] + d[4];
  t[1] = (d[3] + d[4]) - four * (d[1] + d[2]);
  t[2] = (d[4] - d[3]) + four * (d[1] - d[2]);
  t[3] = (d[4] - d[2]) + two * (d[3] - d[1]);
  t[4] = (d[4] - d[2]) - two * (d[3] - d[1]);
  t[5] = four * d[1] - five * d[3] + d[5];
}

// One (R+1) x (R+1) input block, pixels `col` floats apart and rows `row`:
// out[p * stride] = (B^T d B)[p].
template <class V, int R>
inline void input_tile(float* out, long stride, const float* d, long row, long col) {
  constexpr int A = R + 1;
  V t[A][A];  // t[i][j] = (B^T d)[i][j]
  for (int j = 0; j < A; ++j) {
    V column[A], transformed[A];
    for (int i = 0; i < A; ++i) column[i] = load<V>(d + i * row + j * col);
    input_column(column, transformed);
    for (int i = 0; i < A; ++i) t[i][j] = transformed[i];
  }
  for (int i = 0; i < A; ++i) {
    V transformed[A];
    input_column(t[i], transformed);
    for (int j = 0; j < A; ++j) store(out + (A * i + j) * stride, transformed[j]);
  }
}

template <int R>
void input(float* tiles, long point_stride, const float* xpad, long pitch, int tiles_h, int tiles_w, int C) {
  for (int th = 0; th < tiles_h; ++th) {
    for (int tw = 0; tw < tiles_w; ++tw) {
      const float* d = xpad + 2L * th * pitch + 2L * tw * C;
      float* out = tiles + (static_cast<long>(th) * tiles_w + tw) * C;
      over_channels(C, [&](int c, auto lanes) { input_tile<decltype(lanes), R>(out + c, point_stride, d + c, pitch, C); });
    }
  }
}

// A^T of F(2, 3) and of F(2, 5) on one column of products: 2 outputs.
template <class V>
inline void output_column(const V (&m)[4], V (&y)[2]) {
  y[0] = m[0] + m[1] + m[2];
  y[1] = m[1] - m[2] - m[3];
}
template <class V>
inline void output_column(const V (&m)[6], V (&y)[2]) {
  const V two = V{} + 2.0f;
  y[0] = m[0] + m[1] + m[2] + m[3] + m[4];
  y[1] = m[1] - m[2] + two * (m[3] - m[4]) + m[5];
}

// Calls body(th, tw, rows, cols) for each output tile, rows x cols of its
// 2x2 outputs inside out_h x out_w (the last row or column of tiles may hold one).
template <class Body>
inline void over_output_tiles(int out_h, int out_w, int tiles_w, Body body) {
  for (int th = 0; 2 * th < out_h; ++th) {
    const int rows = out_h - 2 * th < 2 ? 1 : 2;
    for (int tw = 0; tw < tiles_w; ++tw) body(th, tw, rows, out_w - 2 * tw < 2 ? 1 : 2);
  }
}

// One tile's 2x2 outputs from m[p * stride] = its products: A^T m A.
template <class V, int R>
inline void output_tile(float* y, long row, long col, int rows, int cols, const float* m, long stride, const float* bias,
                        bool relu) {
  constexpr int A = R + 1;
  V s[2][A];  // (A^T m)
  for (int j = 0; j < A; ++j) {
    V column[A], out[2];
    for (int i = 0; i < A; ++i) column[i] = load<V>(m + (A * i + j) * stride);
    output_column(column, out);
    s[0][j] = out[0];
    s[1][j] = out[1];
  }
  const V b = bias ? load<V>(bias) : V{};
  for (int i = 0; i < rows; ++i) {
    V r[2];
    output_column(s[i], r);
    for (int j = 0; j < cols; ++j) {
      V v = bias ? r[j] + b : r[j];
      if (relu) v = relu_of(v);
      store(y + i * row + j * col, v);
    }
  }
}

template <int R>
void output(float* y, const float* m, long point_stride, int out_h, int out_w, int tiles_w, int O, const float* bias,
            bool relu) {
  const long row = static_cast<long>(out_w) * O;
  over_output_tiles(out_h, out_w, tiles_w, [&](int th, int tw, int rows, int cols) {
    float* yt = y + 2L * th * row + 2L * tw * O;
    const float* mt = m + (static_cast<long>(th) * tiles_w + tw) * O;
    over_channels(O, [&](int o, auto lanes) {
      output_tile<decltype(lanes), R>(yt + o, row, O, rows, cols, mt + o, point_stride, bias ? bias + o : nullptr, relu);
    });
  });
}

// The first maximum of a 2x2 window (row-major cells, ties keep the earlier
// one), as pool_impl.h's WindowMax and pool.cc compare: pooled and its cell.
inline void store_max(float* pooled, uint8_t* cells, const f16 (&v)[4]) {
  f16 best = v[0];
  i16 which = i16{};
  for (int cell = 1; cell < 4; ++cell) {
    const i16 better = (v[cell] > best) | (v[cell] != v[cell]);  // NaN wins, as in PyTorch
    best = better ? v[cell] : best;
    which = better ? (i16{} + cell) : which;
  }
  store(pooled, best);
  if (cells) vec16::store_cells(cells, which);
}
inline void store_max(float* pooled, uint8_t* cells, const float (&v)[4]) {
  float best = v[0];
  int which = 0;
  for (int cell = 1; cell < 4; ++cell) {
    if (v[cell] > best || v[cell] != v[cell]) {
      best = v[cell];
      which = cell;
    }
  }
  *pooled = best;
  if (cells) *cells = static_cast<uint8_t>(which);
}

// One tile's 2x2 outputs (+ bias, then relu), max-pooled: the window is the tile.
template <class V, int R>
inline void output_pool_tile(float* pooled, uint8_t* cells, const float* m, long stride, const float* bias, bool relu) {
  constexpr int A = R + 1;
  V s[2][A];
  for (int j = 0; j < A; ++j) {
    V column[A], out[2];
    for (int i = 0; i < A; ++i) column[i] = load<V>(m + (A * i + j) * stride);
    output_column(column, out);
    s[0][j] = out[0];
    s[1][j] = out[1];
  }
  const V b = bias ? load<V>(bias) : V{};
  V v[4];
  for (int i = 0; i < 2; ++i) {
    V r[2];
    output_column(s[i], r);
    for (int j = 0; j < 2; ++j) {
      V x = bias ? r[j] + b : r[j];
      v[2 * i + j] = relu ? relu_of(x) : x;
    }
  }
  store_max(pooled, cells, v);
}

template <int R>
void output_pool(float* pooled, uint8_t* cells, const float* m, long point_stride, int pooled_h, int pooled_w, int tiles_w,
                 int O, const float* bias, bool relu) {
  for (int ph = 0; ph < pooled_h; ++ph) {
    for (int pw = 0; pw < pooled_w; ++pw) {
      const long at = (static_cast<long>(ph) * pooled_w + pw) * O;
      const float* mt = m + (static_cast<long>(ph) * tiles_w + pw) * O;
      over_channels(O, [&](int o, auto lanes) {
        output_pool_tile<decltype(lanes), R>(pooled + at + o, cells ? cells + at + o : nullptr, mt + o, point_stride,
                                             bias ? bias + o : nullptr, relu);
      });
    }
  }
}

// A of F(2, 3) and of F(2, 5) (output_column's transpose) on one column of 2 values.
template <class V>
inline void gradient_column(const V (&y)[2], V (&r)[4]) {
  r[0] = y[0];
  r[1] = y[0] + y[1];
  r[2] = y[0] - y[1];
  r[3] = -y[1];
}
template <class V>
inline void gradient_column(const V (&y)[2], V (&r)[6]) {
  const V two = V{} + 2.0f;
  r[0] = y[0];
  r[1] = y[0] + y[1];
  r[2] = y[0] - y[1];
  r[3] = y[0] + two * y[1];
  r[4] = y[0] - two * y[1];
  r[5] = y[1];
}

// One tile's dm[p * stride] = (A dy A^T)[p] from its 2x2 block of dy (rows x cols valid, zeros past).
template <class V, int R>
inline void gradient_tile(float* dm, long stride, const float* dy, long row, long col, int rows, int cols) {
  constexpr int A = R + 1;
  const V y[2][2] = {{load<V>(dy), cols > 1 ? load<V>(dy + col) : V{}},
                     {rows > 1 ? load<V>(dy + row) : V{}, rows > 1 && cols > 1 ? load<V>(dy + row + col) : V{}}};
  V r[A][2];  // A dy
  for (int j = 0; j < 2; ++j) {
    const V column[2] = {y[0][j], y[1][j]};
    V out[A];
    gradient_column(column, out);
    for (int i = 0; i < A; ++i) r[i][j] = out[i];
  }
  for (int i = 0; i < A; ++i) {
    V out[A];
    gradient_column(r[i], out);
    for (int j = 0; j < A; ++j) store(dm + (A * i + j) * stride, out[j]);
  }
}

template <int R>
void gradient(float* dm, long point_stride, int sliver, const float* dy, int out_h, int out_w, int tiles_h, int tiles_w,
              int O) {
  const long row = static_cast<long>(out_w) * O;
  const long tiles = static_cast<long>(tiles_h) * tiles_w;
  over_output_tiles(out_h, out_w, tiles_w, [&](int th, int tw, int rows, int cols) {
    const float* yt = dy + 2L * th * row + 2L * tw * O;
    float* out = dm + (static_cast<long>(th) * tiles_w + tw) * sliver;
    over_channels(O, [&](int o, auto lanes) {
      gradient_tile<decltype(lanes), R>(out + o / sliver * tiles * sliver + o % sliver, point_stride, yt + o, row, O, rows,
                                        cols);
    });
  });
}

// G of F(2, 3) and of F(2, 5) on one column of taps.
template <class V>
inline void filter_column(const V (&f)[3], V (&q)[4]) {
  const V half = V{} + 0.5f;
  q[0] = f[0];
  q[1] = half * (f[0] + f[1] + f[2]);
  q[2] = half * (f[0] - f[1] + f[2]);
  q[3] = f[2];
}
template <class V>
inline void filter_column(const V (&f)[5], V (&q)[6]) {
  const V two = V{} + 2.0f, four = V{} + 4.0f;
  const V even = f[0] + f[2] + f[4], odd = f[1] + f[3];
  const V even2 = f[0] + four * f[2] + (four * four) * f[4], odd2 = two * f[1] + (four * two) * f[3];
  q[0] = (V{} + 0.25f) * f[0];
  q[1] = (V{} - 1.0f / 6) * (even + odd);
  q[2] = (V{} - 1.0f / 6) * (even - odd);
  q[3] = (V{} + 1.0f / 24) * (even2 + odd2);
  q[4] = (V{} + 1.0f / 24) * (even2 - odd2);
  q[5] = f[4];
}

// One (c, o) block of filters, f[k * wstride] for tap k = R kh + kw (with
// flip, tap (R-1-kh, R-1-kw)): u[p * stride] = (G f G^T)[p].
template <class V, int R>
inline void filter_block(float* u, long stride, const float* f, long wstride, bool flip) {
  constexpr int A = R + 1;
  V q[A][R];  // G f
  for (int j = 0; j < R; ++j) {
    V column[R], out[A];
    for (int i = 0; i < R; ++i) column[i] = load<V>(f + (flip ? (R - 1 - i) * R + (R - 1 - j) : i * R + j) * wstride);
    filter_column(column, out);
    for (int i = 0; i < A; ++i) q[i][j] = out[i];
  }
  for (int i = 0; i < A; ++i) {
    V out[A];
    filter_column(q[i], out);
    for (int j = 0; j < A; ++j) store(u + (A * i + j) * stride, out[j]);
  }
}

template <int R>
void filter(float* u, const float* w, int C, int O, bool flip) {
  const long stride = static_cast<long>(C) * O;
  for (int c = 0; c < C; ++c) {
    over_channels(O, [&](int o, auto lanes) {
      filter_block<decltype(lanes), R>(u + static_cast<long>(c) * O + o, stride, w + static_cast<long>(c) * O + o, stride,
                                       flip);
    });
  }
}

// G^T of F(2, 3) and of F(2, 5) (filter_column's transpose) on one column of points.
template <class V>
inline void filter_adjoint_column(const V (&u)[4], V (&q)[3]) {
  const V half = V{} + 0.5f;
  const V sum = half * (u[1] + u[2]);
  q[0] = u[0] + sum;
  q[1] = half * (u[1] - u[2]);
  q[2] = sum + u[3];
}
template <class V>
inline void filter_adjoint_column(const V (&u)[6], V (&q)[5]) {
  const V sixth = V{} + 1.0f / 6, twelfth = V{} + 1.0f / 12, third = V{} + 1.0f / 3;
  const V even = u[1] + u[2], odd = u[2] - u[1], high = u[3] + u[4], low = u[3] - u[4];
  q[0] = (V{} + 0.25f) * u[0] - sixth * even + (V{} + 1.0f / 24) * high;
  q[1] = sixth * odd + twelfth * low;
  q[2] = sixth * (high - even);
  q[3] = sixth * odd + third * low;
  q[4] = (V{} + 2.0f / 3) * high - sixth * even + u[5];
}

// dw[kh][kw] = (G^T du G)[kh][kw] for one (c, o) block: du[p * stride], dw[(R kh + kw) * wstride].
template <class V, int R>
inline void filter_update_block(float* dw, long wstride, const float* du, long stride) {
  constexpr int A = R + 1;
  V q[R][A];  // G^T du
  for (int j = 0; j < A; ++j) {
    V column[A], out[R];
    for (int i = 0; i < A; ++i) column[i] = load<V>(du + (A * i + j) * stride);
    filter_adjoint_column(column, out);
    for (int i = 0; i < R; ++i) q[i][j] = out[i];
  }
  for (int i = 0; i < R; ++i) {
    V out[R];
    filter_adjoint_column(q[i], out);
    for (int j = 0; j < R; ++j) {
      store(dw + (R * i + j) * wstride, out[j]);
    }
  }
}

template <int R>
void filter_update(float* dw, const float* du, int C, int O) {
  const long stride = static_cast<long>(C) * O;
  for (int c = 0; c < C; ++c) {
    over_channels(O, [&](int o, auto lanes) {
      filter_update_block<decltype(lanes), R>(dw + static_cast<long>(c) * O + o, stride, du + static_cast<long>(c) * O + o,
                                              stride);
    });
  }
}

}  // namespace winograd
}  // namespace
}  // namespace convkit
