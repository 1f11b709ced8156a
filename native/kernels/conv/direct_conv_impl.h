// The direct convolution kernels as templates with fixed block sizes, so
// that each ISA's translation unit turns the inner loops into its own
// vector instructions. Everything here has internal linkage (an unnamed
// namespace): each isa_*.cc gets its own copy, and the linker can never
// substitute one ISA's code for another's. No standard headers are included,
// for the same reason.
#pragma once

#include "kernels/conv/direct_conv.h"

namespace convkit {
namespace {
namespace direct {

constexpr int OB = kDirectBlock;

// 16 floats as one value: GCC and Clang lower it to one zmm register under
// AVX-512, two ymm under AVX2 and four xmm otherwise, so the same source
// gives each ISA its natural code.
typedef float v16 __attribute__((vector_size(OB * sizeof(float)), aligned(4)));
typedef int32_t i16 __attribute__((vector_size(OB * sizeof(int32_t)), aligned(4)));

inline v16 load(const float* p) {
  v16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

inline void store(float* p, v16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

// Every lane x. Not v16{} + x: that is 0.0f + x per lane, which GCC must
// compute with a scalar add before broadcasting (0.0f + -0.0f is +0.0f);
// x - 0.0f is x for every x, so this is a bare broadcast, folded into the load.
inline v16 splat(float x) { return x - v16{}; }

// PX output pixels of one row, channels [ob, ob + OB).
template <int PX>
inline void forward_block(float* y, const float* xpad, const float* w, const float* b, const Geometry& g, int padded_w,
                          int oh, int ow0, int ob, bool relu) {
  const int C = g.in_c, O = g.out_c;
  const long step = static_cast<long>(g.stride_w) * C;
  v16 acc[PX];
  const v16 bias = b ? load(b + ob) : v16{};
  for (int j = 0; j < PX; ++j) acc[j] = bias;
  for (int kh = 0; kh < g.k_h; ++kh) {
    const float* row = xpad + (static_cast<long>(oh * g.stride_h + kh) * padded_w + static_cast<long>(ow0) * g.stride_w) * C;
    for (int kw = 0; kw < g.k_w; ++kw) {
      for (int c = 0; c < C; ++c) {
        const v16 wv = load(w + (static_cast<long>(kh * g.k_w + kw) * C + c) * O + ob);
        const float* xs = row + static_cast<long>(kw) * C + c;
        for (int j = 0; j < PX; ++j) acc[j] += splat(xs[j * step]) * wv;
      }
    }
  }
  if (relu) {
    const v16 zero = v16{};
    for (int j = 0; j < PX; ++j) acc[j] = acc[j] < zero ? zero : acc[j];  // NaN passes
  }
  for (int j = 0; j < PX; ++j) store(y + (static_cast<long>(oh) * g.out_w + ow0 + j) * O + ob, acc[j]);
}

// Output pixels per block of the fixed-shape kernels: the accumulators and
// the weight vector must fit the vector registers (32 zmm; 16 ymm hold 8
// two-register v16 values at most).
#if defined(__AVX512F__)
constexpr int kFixedPX = 14;
#else
constexpr int kFixedPX = 4;
#endif

// acc[j] += the taps of output pixel (oh, ow0 + j), channels [ob, ob + OB),
// with the kernel's shape known at compile time so that the tap loops
// unroll completely (an image network's first layer: 3x3 or 5x5 over 1 or 3 channels).
template <int KH, int KW, int C, int PX>
inline void accumulate_fixed(v16 (&acc)[PX], const float* xpad, const float* w, const Geometry& g, int padded_w, int oh,
                             int ow0, int ob) {
  const int O = g.out_c;
  const long step = static_cast<long>(g.stride_w) * C;
#pragma GCC unroll 5
  for (int kh = 0; kh < KH; ++kh) {
    const float* row = xpad + (static_cast<long>(oh * g.stride_h + kh) * padded_w + static_cast<long>(ow0) * g.stride_w) * C;
#pragma GCC unroll 15
    for (int t = 0; t < KW * C; ++t) {
      const v16 wv = load(w + (static_cast<long>(kh) * KW * C + t) * O + ob);
#pragma GCC unroll 14
      for (int j = 0; j < PX; ++j) acc[j] += splat(row[t + j * step]) * wv;
    }
  }
}

// forward_block with the kernel's shape known at compile time.
template <int KH, int KW, int C, int PX>
inline void forward_block_fixed(float* y, const float* xpad, const float* w, const float* b, const Geometry& g,
                                int padded_w, int oh, int ow0, int ob, bool relu) {
  const int O = g.out_c;
  v16 acc[PX];
  const v16 bias = b ? load(b + ob) : v16{};
  for (int j = 0; j < PX; ++j) acc[j] = bias;
  accumulate_fixed<KH, KW, C, PX>(acc, xpad, w, g, padded_w, oh, ow0, ob);
  if (relu) {
    const v16 zero = v16{};
    for (int j = 0; j < PX; ++j) acc[j] = acc[j] < zero ? zero : acc[j];  // NaN passes
  }
  for (int j = 0; j < PX; ++j) store(y + (static_cast<long>(oh) * g.out_w + ow0 + j) * O + ob, acc[j]);
}

template <int KH, int KW, int C>
inline void forward_fixed(float* y, const float* xpad, const float* w, const float* b, const Geometry& g, int padded_w, bool relu) {
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ob = 0; ob < g.out_c; ob += OB) {
      int ow = 0;
      for (; ow + kFixedPX <= g.out_w; ow += kFixedPX) forward_block_fixed<KH, KW, C, kFixedPX>(y, xpad, w, b, g, padded_w, oh, ow, ob, relu);
      for (; ow + 4 <= g.out_w; ow += 4) forward_block_fixed<KH, KW, C, 4>(y, xpad, w, b, g, padded_w, oh, ow, ob, relu);
      for (; ow < g.out_w; ++ow) forward_block_fixed<KH, KW, C, 1>(y, xpad, w, b, g, padded_w, oh, ow, ob, relu);
    }
}

#if defined(__AVX512F__)
// accumulate_fixed for one input channel, stride 1, and the two output rows
// oh and oh + 1 at once: each input value is broadcast once and multiplied
// into every output pixel and row it reaches (up to 2 x KW FMAs), with the
// two kernel rows' weights in registers (2 x KW vectors), instead of one
// broadcast per FMA.
template <int KH, int KW, int PX>
inline void accumulate_row_pair(v16 (&acc)[2][PX], const float* xpad, const float* w, const Geometry& g, int padded_w,
                                int oh, int ow0, int ob) {
  const int O = g.out_c;
#pragma GCC unroll 6
  for (int i = 0; i <= KH; ++i) {  // input row oh + i: kernel row i of output row oh, i - 1 of oh + 1
    const float* row = xpad + static_cast<long>(oh + i) * padded_w + ow0;
    v16 w0[KW], w1[KW];
    for (int kw = 0; kw < KW; ++kw) {
      if (i < KH) w0[kw] = load(w + (static_cast<long>(i) * KW + kw) * O + ob);
      if (i > 0) w1[kw] = load(w + (static_cast<long>(i - 1) * KW + kw) * O + ob);
    }
#pragma GCC unroll 32
    for (int q = 0; q < PX + KW - 1; ++q) {
      const v16 a = splat(row[q]);
#pragma GCC unroll 5
      for (int kw = 0; kw < KW; ++kw) {
        const int j = q - kw;
        if (j < 0 || j >= PX) continue;
        if (i < KH) acc[0][j] += a * w0[kw];
        if (i > 0) acc[1][j] += a * w1[kw];
      }
    }
  }
}
#endif

// Pooled columns per block of forward_pool_block: two conv rows of 2 * PP
// pixels are 4 * PP accumulators.
#if defined(__AVX512F__)
constexpr int kPoolPP = 4;
#else
constexpr int kPoolPP = 1;
#endif

// PP pooled outputs of pooled row ph, channels [ob, ob + OB): the 2 x 2
// windows of the ReLU'd convolution computed in registers and pooled there,
// so the convolution's output never reaches memory. The first maximum in
// row-major order wins, as in pool_impl.h; cells (if not null) records it.
template <int KH, int KW, int C, int PP>
inline void forward_pool_block(float* pooled, uint8_t* cells, const float* xpad, const float* w, const float* b,
                               const Geometry& g, int padded_w, int pooled_w, int ph, int pw0, int ob) {
  const int O = g.out_c;
  v16 acc[2][2 * PP];
  const v16 bias = b ? load(b + ob) : v16{};
  for (int r = 0; r < 2; ++r)
    for (int j = 0; j < 2 * PP; ++j) acc[r][j] = bias;
#if defined(__AVX512F__)
  if (C == 1 && g.stride_h == 1 && g.stride_w == 1) {
    accumulate_row_pair<KH, KW, 2 * PP>(acc, xpad, w, g, padded_w, 2 * ph, 2 * pw0, ob);
  } else
#endif
  {
    for (int r = 0; r < 2; ++r) accumulate_fixed<KH, KW, C, 2 * PP>(acc[r], xpad, w, g, padded_w, 2 * ph + r, 2 * pw0, ob);
  }
  const v16 zero = v16{};
  for (int p = 0; p < PP; ++p) {
    // ReLU and max let NaN through, as PyTorch's do.
    const v16 v00 = acc[0][2 * p] < zero ? zero : acc[0][2 * p];
    const v16 v01 = acc[0][2 * p + 1] < zero ? zero : acc[0][2 * p + 1];
    const v16 v10 = acc[1][2 * p] < zero ? zero : acc[1][2 * p];
    const v16 v11 = acc[1][2 * p + 1] < zero ? zero : acc[1][2 * p + 1];
    v16 best = v00;
    i16 which = i16{};
    i16 better = (v01 > best) | (v01 != v01);  // strict: ties keep the earlier cell
    best = better ? v01 : best;
    which = better ? i16{} + 1 : which;
    better = (v10 > best) | (v10 != v10);
    best = better ? v10 : best;
    which = better ? i16{} + 2 : which;
    better = (v11 > best) | (v11 != v11);
    best = better ? v11 : best;
    which = better ? i16{} + 3 : which;
    const long out = (static_cast<long>(ph) * pooled_w + pw0 + p) * O + ob;
    store(pooled + out, best);
    if (cells) {
      uint8_t bytes[OB];
      for (int i = 0; i < OB; ++i) bytes[i] = static_cast<uint8_t>(which[i]);
      __builtin_memcpy(cells + out, bytes, OB);
    }
  }
}

template <int KH, int KW, int C>
inline void forward_pool_fixed(float* pooled, uint8_t* cells, const float* xpad, const float* w, const float* b, const Geometry& g,
                               int padded_w, const Geometry& pg) {
  for (int ph = 0; ph < pg.out_h; ++ph)
    for (int ob = 0; ob < g.out_c; ob += OB) {
      int pw = 0;
      for (; pw + kPoolPP <= pg.out_w; pw += kPoolPP) forward_pool_block<KH, KW, C, kPoolPP>(pooled, cells, xpad, w, b, g, padded_w, pg.out_w, ph, pw, ob);
      for (; pw + 2 <= pg.out_w; pw += 2) forward_pool_block<KH, KW, C, 2>(pooled, cells, xpad, w, b, g, padded_w, pg.out_w, ph, pw, ob);
      for (; pw < pg.out_w; ++pw) forward_pool_block<KH, KW, C, 1>(pooled, cells, xpad, w, b, g, padded_w, pg.out_w, ph, pw, ob);
    }
}

// One image of conv -> ReLU -> 2 x 2 max-pool (direct_conv_pool_applies).
inline void forward_pool(float* pooled, uint8_t* cells, const float* xpad, const float* w, const float* b, const Geometry& g,
                         int padded_w, const Geometry& pg) {
  if (g.k_h == 3 && g.k_w == 3 && g.in_c == 1) return forward_pool_fixed<3, 3, 1>(pooled, cells, xpad, w, b, g, padded_w, pg);
  if (g.k_h == 5 && g.k_w == 5 && g.in_c == 1) return forward_pool_fixed<5, 5, 1>(pooled, cells, xpad, w, b, g, padded_w, pg);
  return forward_pool_fixed<3, 3, 3>(pooled, cells, xpad, w, b, g, padded_w, pg);
}

inline void forward(float* y, const float* xpad, const float* w, const float* b, const Geometry& g, int padded_w, bool relu) {
  if (g.k_h == 3 && g.k_w == 3 && g.in_c == 1) return forward_fixed<3, 3, 1>(y, xpad, w, b, g, padded_w, relu);
  if (g.k_h == 5 && g.k_w == 5 && g.in_c == 1) return forward_fixed<5, 5, 1>(y, xpad, w, b, g, padded_w, relu);
  if (g.k_h == 3 && g.k_w == 3 && g.in_c == 3) return forward_fixed<3, 3, 3>(y, xpad, w, b, g, padded_w, relu);
  constexpr int PX = 8;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ob = 0; ob < g.out_c; ob += OB) {
      int ow = 0;
      for (; ow + PX <= g.out_w; ow += PX) forward_block<PX>(y, xpad, w, b, g, padded_w, oh, ow, ob, relu);
      for (; ow < g.out_w; ++ow) forward_block<1>(y, xpad, w, b, g, padded_w, oh, ow, ob, relu);
    }
}

// dw[t, ob:ob+OB] += sum over pixels of xpad[pixel's tap t] * dy[pixel, ob:ob+OB].
// T bounds the tap count at compile time: the exact count (9, 25, 27) lets the
// accumulators live in registers; 64 serves any count up to it from memory.
template <int T>
inline void filter_taps(float* dw, const float* dy, const float* xpad, const Geometry& g, int padded_w, int ob) {
  const int C = g.in_c, O = g.out_c;
  const int taps = T == 64 ? g.k_h * g.k_w * C : T;
  v16 acc[T];
  long tap_offset[T];
  for (int t = 0; t < taps; ++t) acc[t] = v16{};
  for (int kh = 0, t = 0; kh < g.k_h; ++kh)
    for (int kw = 0; kw < g.k_w; ++kw)
      for (int c = 0; c < C; ++c, ++t) tap_offset[t] = (static_cast<long>(kh) * padded_w + kw) * C + c;
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const v16 d = load(dy + (static_cast<long>(oh) * g.out_w + ow) * O + ob);
      const float* base = xpad + (static_cast<long>(oh * g.stride_h) * padded_w + ow * g.stride_w) * C;
      for (int t = 0; t < taps; ++t) acc[t] += splat(base[tap_offset[t]]) * d;
    }
  for (int t = 0; t < taps; ++t) {
    float* out = dw + static_cast<long>(t) * O + ob;
    store(out, load(out) + acc[t]);
  }
}

// filter_taps with the kernel's shape known at compile time: the taps'
// offsets are constants from KH row pointers (no offset table to load), and
// the loops unroll completely.
template <int KH, int KW, int C>
inline void filter_fixed(float* dw, const float* dy, const float* xpad, const Geometry& g, int padded_w, int ob) {
  constexpr int T = KH * KW * C;
  const int O = g.out_c;
  const long step = static_cast<long>(g.stride_w) * C;
  v16 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = v16{};
  for (int oh = 0; oh < g.out_h; ++oh) {
    const float* rows[KH];
    for (int kh = 0; kh < KH; ++kh) rows[kh] = xpad + static_cast<long>(oh * g.stride_h + kh) * padded_w * C;
    const float* d = dy + static_cast<long>(oh) * g.out_w * O + ob;
    for (int ow = 0; ow < g.out_w; ++ow) {
      const v16 dv = load(d + static_cast<long>(ow) * O);
      const long at = ow * step;
#pragma GCC unroll 5
      for (int kh = 0; kh < KH; ++kh)
#pragma GCC unroll 15
        for (int t = 0; t < KW * C; ++t) acc[kh * KW * C + t] += splat(rows[kh][at + t]) * dv;
    }
  }
  for (int t = 0; t < T; ++t) {
    float* out = dw + static_cast<long>(t) * O + ob;
    store(out, load(out) + acc[t]);
  }
}

inline void filter(float* dw, const float* dy, const float* xpad, const Geometry& g, int padded_w) {
  const int T = g.k_h * g.k_w * g.in_c;
  for (int ob = 0; ob < g.out_c; ob += OB) {
    if (g.k_h == 3 && g.k_w == 3 && g.in_c == 1) {
      filter_fixed<3, 3, 1>(dw, dy, xpad, g, padded_w, ob);
      continue;
    }
    if (g.k_h == 5 && g.k_w == 5 && g.in_c == 1) {
      filter_fixed<5, 5, 1>(dw, dy, xpad, g, padded_w, ob);
      continue;
    }
    if (g.k_h == 3 && g.k_w == 3 && g.in_c == 3) {
      filter_fixed<3, 3, 3>(dw, dy, xpad, g, padded_w, ob);
      continue;
    }
    switch (T) {
      case 9: filter_taps<9>(dw, dy, xpad, g, padded_w, ob); break;     // e.g. 1x9, 3x1 over 3 channels
      case 25: filter_taps<25>(dw, dy, xpad, g, padded_w, ob); break;
      case 27: filter_taps<27>(dw, dy, xpad, g, padded_w, ob); break;
      default: filter_taps<64>(dw, dy, xpad, g, padded_w, ob); break;   // up to 64 (direct_conv_applies)
    }
  }
}

#if defined(__AVX512F__)
// One output row of correlate_rows: W pixels x 16 * CV channels in
// registers, each input value of the KH rows broadcast once and multiplied
// into the KW pixels it reaches.
template <int W, int KW, int CV>
inline void correlate_row(float* y, const float* in, long pitch, const float* wt, int KH, int C) {
  constexpr int N = OB * CV;
  v16 acc[W][CV];
  for (int j = 0; j < W; ++j)
    for (int v = 0; v < CV; ++v) acc[j][v] = v16{};
  for (int kh = 0; kh < KH; ++kh) {
    const float* row = in + kh * pitch;
    const float* wk = wt + static_cast<long>(kh) * KW * C * N;
    for (int c = 0; c < C; ++c) {
      v16 wv[KW][CV];
      for (int kw = 0; kw < KW; ++kw)
        for (int v = 0; v < CV; ++v) wv[kw][v] = load(wk + (static_cast<long>(kw) * C + c) * N + v * OB);
#pragma GCC unroll 32
      for (int q = 0; q < W + KW - 1; ++q) {
        const v16 a = splat(row[static_cast<long>(q) * C + c]);
#pragma GCC unroll 5
        for (int kw = 0; kw < KW; ++kw) {
          const int j = q - kw;
          if (j < 0 || j >= W) continue;
          for (int v = 0; v < CV; ++v) acc[j][v] += a * wv[kw][v];
        }
      }
    }
  }
  for (int j = 0; j < W; ++j)
    for (int v = 0; v < CV; ++v) store(y + j * N + v * OB, acc[j][v]);
}

template <int W, int KW, int CV>
inline void correlate_rows_fixed(float* y, const float* in, long pitch, const float* wt, int H, int KH, int C) {
  for (int h = 0; h < H; ++h) correlate_row<W, KW, CV>(y + static_cast<long>(h) * W * OB * CV, in + h * pitch, pitch, wt, KH, C);
}

inline bool correlate_rows(float* y, const float* in, long pitch, const float* wt, int H, int W, int KH, int KW, int C, int CV) {
  if (CV == 1 && W == 14 && KW == 3) return correlate_rows_fixed<14, 3, 1>(y, in, pitch, wt, H, KH, C), true;
  if (CV == 1 && W == 14 && KW == 5) return correlate_rows_fixed<14, 5, 1>(y, in, pitch, wt, H, KH, C), true;
  if (CV == 1 && W == 7 && KW == 3) return correlate_rows_fixed<7, 3, 1>(y, in, pitch, wt, H, KH, C), true;
  if (CV == 1 && W == 7 && KW == 5) return correlate_rows_fixed<7, 5, 1>(y, in, pitch, wt, H, KH, C), true;
  if (CV == 2 && W == 7 && KW == 3) return correlate_rows_fixed<7, 3, 2>(y, in, pitch, wt, H, KH, C), true;
  return false;
}
#else
// 16 accumulators of 16 floats need the 32 AVX-512 registers.
inline bool correlate_rows(float*, const float*, long, const float*, int, int, int, int, int, int) { return false; }
#endif

}  // namespace direct
}  // namespace
}  // namespace convkit
