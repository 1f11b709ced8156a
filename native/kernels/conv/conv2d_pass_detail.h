// What the passes of a convolution share (conv2d_forward.cc,
// conv2d_filter_gradient.cc, conv2d_data_gradient.cc,
// conv2d_relu_pool_backward.cc): the chunk sizes, the current ISA's patch
// kernels and the predicates that choose a mode. Internal to those files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/conv/direct_conv.h"
#include "kernels/gemm/gemm.h"
#include "kernels/conv/patches.h"
#include "kernels/pool/pool.h"

#include "kernels/conv/conv2d_passes.h"

namespace convkit {
namespace pass_detail {

constexpr long kChunkRows = 512;
constexpr long kChunkFloats = 96 * 1024;  // 384 KB of im2col columns

// The current ISA's im2col and col2im (patches_impl.h).
inline void im2col(float* cols, const float* x, const Geometry& g) { current_patch_kernels().im2col(cols, x, g); }
inline void col2im(float* dx, const float* dcols, const Geometry& g) { current_patch_kernels().col2im(dx, dcols, g); }

// offsets[kh] = kh * row_floats: where each kernel row's K segment starts,
// for a product reading patches from a padded image whose rows are
// row_floats apart.
inline long* kernel_row_offsets(Scratch& scratch, int k_h, long row_floats) {
  long* offsets = scratch.longs(k_h);
  for (int kh = 0; kh < k_h; ++kh) offsets[kh] = kh * row_floats;
  return offsets;
}

// Where row groups do not apply (AVX2, generic; wider rows): whether the
// forward's implicit product over whole padded rows (no im2col) pays for
// the output rows it computes over the padding: stride 1, pooling windows
// that tile, and at least 80% of the micro-kernel's row tiles on real
// pixels (conv2 of mnist-3layer, 14x14: 86%; its 7x7 conv3: 68%, left to
// im2col).
inline bool implicit_gemm_pays(const Geometry& g, const Geometry& pg) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise() || !pool_windows_tile(pg)) return false;
  // One K block, so that the sums are those of the im2col product (kept outputs).
  if (!gemm_single_k_block(static_cast<int>(g.patch()))) return false;
  const long pw = g.in_w + g.pad_left + g.pad_right;
  const long rows = (g.out_h - 1) * pw + g.out_w;
  const long mr = current_gemm_kernel().mr;
  const long tiles = (rows + mr - 1) / mr;
  return 5 * g.out_pixels() >= 4 * tiles * mr;
}

// Whether the forward runs one register tile per output row, its patches
// read in place from the padded image (no im2col, no edge tiles): stride 1
// and an output row the ISA has a tile for (AVX-512: 4 to 14 pixels).
inline bool row_groups_apply(const Geometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() && gemm_row_groups_apply(g.out_w, g.out_c);
}

}  // namespace pass_detail
}  // namespace convkit
