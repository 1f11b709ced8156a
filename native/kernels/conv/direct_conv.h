// Direct convolution for layers with few input channels (an image network's
// first layer: C = 1 or 3). im2col + GEMM wastes most of its work there (a
// 9-long reduction, 16 outputs in a 32-wide tile); this computes each output
// pixel's 16-channel block with one vector FMA per tap, on an input image
// zero-padded in advance so the loops carry no bounds tests. Compiled once
// per ISA (direct_conv_impl.h is included by each isa_*.cc).
#pragma once

#include <cstdint>

#include "kernels/gemm/gemm.h"
#include "kernels/common/geometry.h"

namespace convkit {

// Output channels per block: one AVX-512 register, two AVX2 registers.
constexpr int kDirectBlock = 16;

// Whether the direct kernels handle this geometry.
inline bool direct_conv_applies(const Geometry& g) {
  return g.out_c % kDirectBlock == 0 && static_cast<long>(g.k_h) * g.k_w * g.in_c <= 64;
}

// One image: y[OH, OW, O] = conv(xpad, w) + b (then max(y, 0) when relu), xpad being [H + pt + pb, W + pl + pr, C].
using DirectConvForward = void (*)(float* y, const float* xpad, const float* w, const float* b, const Geometry& g, int padded_w, bool relu);
// One image: dw[KH, KW, C, O] += the filter gradient from dy[OH, OW, O] and xpad.
using DirectConvFilter = void (*)(float* dw, const float* dy, const float* xpad, const Geometry& g, int padded_w);

// One image: pooled = 2 x 2 max-pool (stride 2) of max(conv(xpad, w) + b, 0),
// and when cells is not null the cell of each maximum, the convolution's
// output kept in registers only (direct_conv_pool_applies).
using DirectConvForwardPool = void (*)(float* pooled, uint8_t* cells, const float* xpad, const float* w, const float* b,
                                       const Geometry& g, int padded_w, const Geometry& pg);

// One image of a stride-1 correlation with N = 16 * CV output channels and
// many input channels: y[H, W, N] = sum over (kh, kw, c) of
// in[(h + kh) * pitch + (w + kw) * C + c] * wt[((kh * KW + kw) * C + c) * N + :],
// in being zero-padded in advance. Returns false, doing nothing, where the
// ISA has no kernel for W, KW and CV (AVX-512: W of 7 or 14 and KW of 3 or
// 5 with 16 channels, W = 7 and KW = 3 with 32); with H = 0 it only answers.
// Each input value is broadcast once for all KW taps that use it: with 16
// or 32 outputs a product's tile needs a broadcast per one or two FMAs.
using DirectConvCorrelateRows = bool (*)(float* y, const float* in, long pitch, const float* wt, int H, int W, int KH, int KW,
                                         int C, int CV);

struct DirectConvKernels {
  DirectConvForward forward;
  DirectConvFilter filter;
  DirectConvForwardPool forward_pool;
  DirectConvCorrelateRows correlate_rows;
};

// Whether forward_pool handles conv g followed by pool pg: a fixed-shape
// kernel (3x3 or 5x5 over 1 channel, 3x3 over 3) and 2 x 2 windows with stride 2.
inline bool direct_conv_pool_applies(const Geometry& g, const Geometry& pg) {
  const bool shape = (g.k_h == 3 && g.k_w == 3 && (g.in_c == 1 || g.in_c == 3)) || (g.k_h == 5 && g.k_w == 5 && g.in_c == 1);
  return direct_conv_applies(g) && shape && pg.k_h == 2 && pg.k_w == 2 && pg.stride_h == 2 && pg.stride_w == 2 &&
         pg.pad_top == 0 && pg.pad_bottom == 0 && pg.pad_left == 0 && pg.pad_right == 0 && pg.in_h == g.out_h &&
         pg.in_w == g.out_w && pg.in_c == g.out_c;
}

DirectConvKernels direct_conv_generic();
DirectConvKernels direct_conv_avx2();
DirectConvKernels direct_conv_avx512();

const DirectConvKernels& current_direct_conv();

}  // namespace convkit
