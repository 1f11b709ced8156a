// Direct convolution for layers with few input channels (an image network's
// first layer: C = 1 or 3). im2col + GEMM wastes most of its work there (a
// 9-long reduction, 16 outputs in a 32-wide tile); this computes each output
// pixel's 16-channel block with one vector FMA per tap, on an input image
// zero-padded in advance so the loops carry no bounds tests. Compiled once
// per ISA (direct_conv_impl.h is included by each isa_*.cc).
#pragma once

#include "gemm.h"
#include "geometry.h"

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

struct DirectConvKernels {
  DirectConvForward forward;
  DirectConvFilter filter;
};

DirectConvKernels direct_conv_generic();
DirectConvKernels direct_conv_avx2();
DirectConvKernels direct_conv_avx512();

void select_direct_conv(GemmIsa isa);
const DirectConvKernels& current_direct_conv();

}  // namespace convkit
