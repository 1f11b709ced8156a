// Convolution of NHWC images with HWIO weights, by im2col + SGEMM: in NHWC
// the im2col matrix of an image is [out_pixels, kh*kw*C] and the weights are
// already the [kh*kw*C, O] matrix, so every product is a row-major GEMM.
// Threads split the batch.
#pragma once

#include "geometry.h"

namespace convkit {

// y[N, OH, OW, O] = conv(x[N, H, W, C], w[KH, KW, C, O]) + b[O] (b may be null),
// then max(y, 0) when relu: the ReLU applied while the output is in cache.
void conv2d_forward(float* y, const float* x, const float* w, const float* b, const Geometry& g, bool relu);

// dx[N, H, W, C] = conv2d's gradient with respect to x, given dy[N, OH, OW, O]
void conv2d_backward_data(float* dx, const float* dy, const float* w, const Geometry& g);

// dw[KH, KW, C, O], db[O] (db may be null) given dy and the forward's x
void conv2d_backward_filter(float* dw, float* db, const float* dy, const float* x, const Geometry& g);

}  // namespace convkit
