// Convolution of NHWC images with HWIO weights, by im2col + SGEMM: in NHWC
// the im2col matrix of an image is [out_pixels, kh*kw*C] and the weights are
// already the [kh*kw*C, O] matrix, so every product is a row-major GEMM.
// Threads split the batch; each runs its share with the per-thread parts
// of conv2d_passes.h.
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"

namespace convkit {

// y[N, OH, OW, O] = conv(x[N, H, W, C], w[KH, KW, C, O]) + b[O] (b may be null),
// then max(y, 0) when relu: the ReLU applied while the output is in cache.
// When pooled is not null, also max-pools each chunk of images (pg: windows
// over the convolution's output) right after computing it, while it is in
// cache; y may then be null (inference: the convolution's output goes to a
// per-thread buffer and only the pooled result to memory).
// With cells (pg's windows must tile), the pool also records which cell of
// each window won (max_pool2d_forward_cells_image), all the backward needs.
void conv2d_forward(float* y, const float* x, const float* w, const float* b, const Geometry& g, bool relu,
                    float* pooled = nullptr, const Geometry* pg = nullptr, uint8_t* cells = nullptr);

// dx[N, H, W, C] = conv2d's gradient with respect to x, given dy[N, OH, OW, O]
void conv2d_backward_data(float* dx, const float* dy, const float* w, const Geometry& g);

// dw[KH, KW, C, O], db[O] (db may be null) given dy and the forward's x
void conv2d_backward_filter(float* dw, float* db, const float* dy, const float* x, const Geometry& g);

// The backward of Conv2D → ReLU → MaxPool2D (windows tiling the conv output,
// pg) in one pass per image: the pool's gradient with the ReLU mask is made
// into a per-thread buffer and consumed by the weight and input gradients
// while it is still in cache. pooled and cells are what the
// forward wrote (the pooled maxima and their cells); dx and db may be null.
void conv2d_relu_pool_backward(float* dx, float* dw, float* db, const float* d_pooled, const float* x, const float* w,
                               const float* pooled, const uint8_t* cells, const Geometry& g, const Geometry& pg);

}  // namespace convkit
