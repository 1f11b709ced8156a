// The sliding-window geometry that lib/ops/geometry.ts computes; kernels infer nothing.
#pragma once

namespace convkit {

// NHWC input [batch, in_h, in_w, in_c]; output [batch, out_h, out_w, out_c].
// Field order matches GEOMETRY_FIELDS in lib/ops/geometry.ts.
struct Geometry {
  int batch, in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int k_h, k_w;
  int stride_h, stride_w;
  int pad_top, pad_bottom, pad_left, pad_right;

  long in_image() const { return static_cast<long>(in_h) * in_w * in_c; }
  long out_image() const { return static_cast<long>(out_h) * out_w * out_c; }
  long out_pixels() const { return static_cast<long>(out_h) * out_w; }
  // Rows of the im2col matrix are output pixels, columns (kh, kw, c).
  long patch() const { return static_cast<long>(k_h) * k_w * in_c; }
  bool is_pointwise() const {
    return k_h == 1 && k_w == 1 && stride_h == 1 && stride_w == 1 &&
           pad_top == 0 && pad_bottom == 0 && pad_left == 0 && pad_right == 0;
  }
};

// A stride-1 convolution's input gradient as a convolution of dy: dy
// (out_h x out_w x O) padded by K - 1 - pad on each side, correlated with the
// filter turned by 180 degrees (O channels in, C out), gives in_h x in_w x C.
// Padding past K - 1 comes out negative: no such convolution.
inline Geometry input_gradient_geometry(const Geometry& g) {
  Geometry b = g;
  b.in_h = g.out_h;
  b.in_w = g.out_w;
  b.in_c = g.out_c;
  b.out_h = g.in_h;
  b.out_w = g.in_w;
  b.out_c = g.in_c;
  b.pad_top = g.k_h - 1 - g.pad_top;
  b.pad_bottom = g.k_h - 1 - g.pad_bottom;
  b.pad_left = g.k_w - 1 - g.pad_left;
  b.pad_right = g.k_w - 1 - g.pad_right;
  return b;
}

}  // namespace convkit
