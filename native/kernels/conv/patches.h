// im2col and its adjoint for one image, compiled once per ISA
// (patches_impl.h, included by each isa_*.cc) so that the copies and sums
// use that ISA's vectors instead of a libc call per kernel row.
#pragma once

#include "kernels/common/geometry.h"

namespace convkit {

struct PatchKernels {
  // cols[out_pixels, KH*KW*C] = the input patch of each output pixel (zeros for padding).
  void (*im2col)(float* cols, const float* x, const Geometry& g);
  // dx = each row of dcols added back onto the input cells it came from (dx overwritten).
  void (*col2im)(float* dx, const float* dcols, const Geometry& g);
  // The interior of xpad[H + pt + pb, padded_w, C] = x (one image); the border is left as it is.
  void (*pad_interior)(float* xpad, const float* x, const Geometry& g, int padded_w);
};

PatchKernels patch_kernels_generic();
PatchKernels patch_kernels_avx2();
PatchKernels patch_kernels_avx512();
// The current ISA's (selected with the direct convolution, in direct_conv.cc).
const PatchKernels& current_patch_kernels();

}  // namespace convkit
