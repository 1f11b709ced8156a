// The F(2x2, 3x3) transforms (winograd.h) as templates each ISA's
// translation unit compiles with its own flags (same internal-linkage rules
// as direct_conv_impl.h): 16 channels at a time in GCC vectors (one AVX-512
// register, two AVX2 ones), then one at a time for the rest. Adds and
// subtracts only, except the filter gradient's halves.
#pragma once

#include "kernels/conv/winograd.h"

namespace convkit {
namespace {
namespace winograd {

typedef float f16 __attribute__((vector_size(64), aligned(4)));

template <class V>
inline V load(const float* p);
template <>
inline f16 load<f16>(const float* p) {
  f16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
template <>
inline float load<float>(const float* p) {
  return *p;
}
inline void store(float* p, f16 v) { __builtin_memcpy(p, &v, sizeof(v)); }
inline void store(float* p, float v) { *p = v; }
inline f16 relu_of(f16 v) { return v > f16{} ? v : f16{}; }
inline float relu_of(float v) { return v > 0.0f ? v : 0.0f; }

// Calls body(c, lanes) over channels [0, n): 16 at a time as f16, the rest as float.
template <class Body>
inline void over_channels(int n, Body body) {
  int c = 0;
  for (; c + 16 <= n; c += 16) body(c, f16{});
  for (; c < n; ++c) body(c, 0.0f);
}

// One 4x4 input block, pixels `col` floats apart and rows `row`: out[p * stride] = (B^T d B)[p].
template <class V>
inline void input_tile(float* out, long stride, const float* d, long row, long col) {
  V t[4][4];
  for (int j = 0; j < 4; ++j) {
    const V d0 = load<V>(d + j * col), d1 = load<V>(d + row + j * col), d2 = load<V>(d + 2 * row + j * col),
            d3 = load<V>(d + 3 * row + j * col);
    t[0][j] = d0 - d2;
    t[1][j] = d1 + d2;
    t[2][j] = d2 - d1;
    t[3][j] = d1 - d3;
  }
  for (int i = 0; i < 4; ++i) {
    float* o = out + 4 * i * stride;
    store(o, t[i][0] - t[i][2]);
    store(o + stride, t[i][1] + t[i][2]);
    store(o + 2 * stride, t[i][2] - t[i][1]);
    store(o + 3 * stride, t[i][1] - t[i][3]);
  }
}

void input(float* tiles, long point_stride, const float* xpad, long pitch, int tiles_h, int tiles_w, int C) {
  for (int th = 0; th < tiles_h; ++th) {
    for (int tw = 0; tw < tiles_w; ++tw) {
      const float* d = xpad + 2L * th * pitch + 2L * tw * C;
      float* out = tiles + (static_cast<long>(th) * tiles_w + tw) * C;
      over_channels(C, [&](int c, auto lanes) { input_tile<decltype(lanes)>(out + c, point_stride, d + c, pitch, C); });
    }
  }
}

// One tile's 2x2 outputs from m[p * stride] = its products: A^T m A.
template <class V>
inline void output_tile(float* y, long row, long col, int rows, int cols, const float* m, long stride, const float* bias,
                        bool relu) {
  V s[2][4];
  for (int j = 0; j < 4; ++j) {
    const V m0 = load<V>(m + j * stride), m1 = load<V>(m + (4 + j) * stride), m2 = load<V>(m + (8 + j) * stride),
            m3 = load<V>(m + (12 + j) * stride);
    s[0][j] = m0 + m1 + m2;
    s[1][j] = m1 - m2 - m3;
  }
  const V b = bias ? load<V>(bias) : V{};
  for (int i = 0; i < rows; ++i) {
    V r[2] = {s[i][0] + s[i][1] + s[i][2], s[i][1] - s[i][2] - s[i][3]};
    for (int j = 0; j < cols; ++j) {
      V v = bias ? r[j] + b : r[j];
      if (relu) v = relu_of(v);
      store(y + i * row + j * col, v);
    }
  }
}

void output(float* y, const float* m, long point_stride, int out_h, int out_w, int tiles_w, int O, const float* bias,
            bool relu) {
  const long row = static_cast<long>(out_w) * O;
  const int tiles_h = (out_h + 1) / 2;
  for (int th = 0; th < tiles_h; ++th) {
    const int rows = out_h - 2 * th < 2 ? 1 : 2;
    for (int tw = 0; tw < tiles_w; ++tw) {
      const int cols = out_w - 2 * tw < 2 ? 1 : 2;
      float* yt = y + 2L * th * row + 2L * tw * O;
      const float* mt = m + (static_cast<long>(th) * tiles_w + tw) * O;
      over_channels(O, [&](int o, auto lanes) {
        output_tile<decltype(lanes)>(yt + o, row, O, rows, cols, mt + o, point_stride, bias ? bias + o : nullptr, relu);
      });
    }
  }
}

// One tile's dm[p * stride] = (A dy A^T)[p] from its 2x2 block of dy (rows x cols valid, zeros past).
template <class V>
inline void gradient_tile(float* dm, long stride, const float* dy, long row, long col, int rows, int cols) {
  const V y00 = load<V>(dy);
  const V y01 = cols > 1 ? load<V>(dy + col) : V{};
  const V y10 = rows > 1 ? load<V>(dy + row) : V{};
  const V y11 = rows > 1 && cols > 1 ? load<V>(dy + row + col) : V{};
  // r = A dy (4 x 2), then dm = r A^T (4 x 4).
  const V r[4][2] = {{y00, y01}, {y00 + y10, y01 + y11}, {y00 - y10, y01 - y11}, {-y10, -y11}};
  for (int i = 0; i < 4; ++i) {
    float* o = dm + 4 * i * stride;
    store(o, r[i][0]);
    store(o + stride, r[i][0] + r[i][1]);
    store(o + 2 * stride, r[i][0] - r[i][1]);
    store(o + 3 * stride, -r[i][1]);
  }
}

void gradient(float* dm, long point_stride, int sliver, const float* dy, int out_h, int out_w, int tiles_h, int tiles_w,
              int O) {
  const long row = static_cast<long>(out_w) * O;
  const long tiles = static_cast<long>(tiles_h) * tiles_w;
  for (int th = 0; th < tiles_h; ++th) {
    const int rows = out_h - 2 * th < 2 ? 1 : 2;
    for (int tw = 0; tw < tiles_w; ++tw) {
      const int cols = out_w - 2 * tw < 2 ? 1 : 2;
      const float* yt = dy + 2L * th * row + 2L * tw * O;
      float* out = dm + (static_cast<long>(th) * tiles_w + tw) * sliver;
      over_channels(O, [&](int o, auto lanes) {
        gradient_tile<decltype(lanes)>(out + o / sliver * tiles * sliver + o % sliver, point_stride, yt + o, row, O, rows, cols);
      });
    }
  }
}

// One (c, o) block of filters, f[k * wstride] for tap k = 3 kh + kw: u[p * stride] = (G f G^T)[p].
template <class V>
inline void filter_block(float* u, long stride, const float* f, long wstride) {
  const V half = V{} + 0.5f;
  V q[4][3];  // G f (4 x 3)
  for (int j = 0; j < 3; ++j) {
    const V f0 = load<V>(f + j * wstride), f1 = load<V>(f + (3 + j) * wstride), f2 = load<V>(f + (6 + j) * wstride);
    q[0][j] = f0;
    q[1][j] = half * (f0 + f1 + f2);
    q[2][j] = half * (f0 - f1 + f2);
    q[3][j] = f2;
  }
  for (int i = 0; i < 4; ++i) {
    float* o = u + 4 * i * stride;
    store(o, q[i][0]);
    store(o + stride, half * (q[i][0] + q[i][1] + q[i][2]));
    store(o + 2 * stride, half * (q[i][0] - q[i][1] + q[i][2]));
    store(o + 3 * stride, q[i][2]);
  }
}

void filter(float* u, const float* w, int C, int O) {
  const long stride = static_cast<long>(C) * O;
  for (int c = 0; c < C; ++c) {
    over_channels(O, [&](int o, auto lanes) {
      filter_block<decltype(lanes)>(u + static_cast<long>(c) * O + o, stride, w + static_cast<long>(c) * O + o, stride);
    });
  }
}

// dw[kh][kw] += (G^T du G)[kh][kw] for one (c, o) block: du[p * stride], dw[k * wstride].
template <class V>
inline void filter_update_block(float* dw, long wstride, const float* du, long stride) {
  const V half = V{} + 0.5f;
  V q[3][4];  // G^T du (3 x 4)
  for (int j = 0; j < 4; ++j) {
    const V u0 = load<V>(du + j * stride), u1 = load<V>(du + (4 + j) * stride), u2 = load<V>(du + (8 + j) * stride),
            u3 = load<V>(du + (12 + j) * stride);
    const V sum = half * (u1 + u2);
    q[0][j] = u0 + sum;
    q[1][j] = half * (u1 - u2);
    q[2][j] = sum + u3;
  }
  for (int i = 0; i < 3; ++i) {
    const V sum = half * (q[i][1] + q[i][2]);
    const V r[3] = {q[i][0] + sum, half * (q[i][1] - q[i][2]), sum + q[i][3]};
    for (int j = 0; j < 3; ++j) {
      float* at = dw + (3 * i + j) * wstride;
      store(at, load<V>(at) + r[j]);
    }
  }
}

void filter_update(float* dw, const float* du, int C, int O) {
  const long stride = static_cast<long>(C) * O;
  for (int c = 0; c < C; ++c) {
    over_channels(O, [&](int o, auto lanes) {
      filter_update_block<decltype(lanes)>(dw + static_cast<long>(c) * O + o, stride, du + static_cast<long>(c) * O + o, stride);
    });
  }
}

}  // namespace winograd
}  // namespace
}  // namespace convkit
