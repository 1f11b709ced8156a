// Max and average pooling over NHWC windows (overlapping and padded windows
// allowed; padding is never selected by max and never counted by average).
// Threads split the batch.
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"

namespace convkit {

void max_pool2d_forward(float* y, const float* x, const Geometry& g);
// One image of the max-pool forward.
void max_pool2d_forward_image(float* y_image, const float* x_image, const Geometry& g);
// Routes dy to the first maximum of each window in row-major order; with
// relu_mask, not where that maximum is <= 0 (the backward of the ReLU that
// produced x, fused in).
void max_pool2d_backward(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask);

// The largest window whose cells a byte per output can name (cells[i] <
// kMaxTiledPoolWindow). lib/backend/geometry.ts has the same number, and the
// addon reports it (info().limits) so that a mismatch is refused at load.
constexpr int kMaxTiledPoolWindow = 64;

// Whether the windows tile the input (stride = kernel, no padding, at most
// kMaxTiledPoolWindow cells), the case the fused convolution backward handles.
bool pool_windows_tile(const Geometry& g);

// One image of the tiled max-pool backward: dx_image written in full (each
// cell once); best and which are scratch of g.in_c entries.
void max_pool2d_backward_tiled_image(float* dx_image, const float* dy_image, const float* x_image, const Geometry& g,
                                     bool relu_mask, float* best, int32_t* which);

// Max pooling over windows that tile (pool_windows_tile), remembering which
// cell of each window won: one byte per output instead of keeping the whole
// input for the backward. cells[i] is the row-major index of y[i]'s cell
// within its window (the first maximum).
void max_pool2d_forward_cells_image(float* y_image, uint8_t* cells_image, const float* x_image, const Geometry& g);
// dx_image (written in full) gets dy at each recorded cell, where y > 0 when
// relu_mask. When channel_sums is not null, each channel's sum of dx_image
// is added to it (the bias gradient of the convolution before the pool, for free).
void max_pool2d_backward_cells_image(float* dx_image, const float* dy_image, const float* y_image, const uint8_t* cells_image,
                                     const Geometry& g, bool relu_mask, float* channel_sums);

// The 16-channel tiled kernels of one ISA (pool_impl.h, compiled in each isa_*.cc).
struct PoolKernels {
  void (*forward_image)(float* y, const float* x, const Geometry& g);
  void (*backward_image)(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask);
  void (*forward_cells_image)(float* y, uint8_t* cells, const float* x, const Geometry& g);
  void (*backward_cells_image)(float* dx, const float* dy, const float* y, const uint8_t* cells, const Geometry& g,
                               bool relu_mask, float* channel_sums);
};
PoolKernels pool_kernels_generic();
PoolKernels pool_kernels_avx2();
PoolKernels pool_kernels_avx512();
// The current ISA's (selected with the direct convolution, in direct_conv.cc).
const PoolKernels& current_pool_kernels();

void avg_pool2d_forward(float* y, const float* x, const Geometry& g);
void avg_pool2d_backward(float* dx, const float* dy, const Geometry& g);

}  // namespace convkit
