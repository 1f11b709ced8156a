// Winograd convolution F(2x2, 3x3) and F(2x2, 5x5) for 3x3 and 5x5 stride-1
// layers (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2015). Each 2x2 block of outputs comes from an (R+1) x (R+1)
// block of input: the input tile and the filter are taken to a "transformed"
// domain where the convolution is an elementwise product, summed over
// channels as (R+1)^2 GEMMs (one per point of the tile) of [tiles x C] by
// [C x O]. A 2x2 output then costs 16 multiplies per (c, o) instead of 36
// (3x3: 2.25x fewer), or 36 instead of 100 (5x5: 2.8x), paid for with the
// transforms and some rounding (bench/README.md states how much).
//
// The same forward computes a layer's input gradient (the transposed
// convolution of stride 1 is a convolution with the filter flipped), and the
// weight gradient is its adjoint: dU = sum over tiles of V^T dM, then
// dw += G^T dU G. Every image is one sum begun from zero, so the chain's
// bit-identical reductions hold (FilterGradient::one_sum_per_image).
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"
#include "kernels/common/scratch.h"

namespace convkit {

// Points of a transformed tile of an R x R kernel.
constexpr int winograd_points(int R) { return (R + 1) * (R + 1); }

// Which algorithm a 3x3 or 5x5 stride-1 convolution uses. Auto: the
// measured table (use_winograd); Fast: the table with the weight gradients
// too, where they measured faster (exactly-zero weight gradients then come
// out as rounding noise: winograd.cc says why Auto leaves them direct);
// Direct: never Winograd (for debugging, like sharp's VIPS_NOVECTOR:
// CONVKIT_CONV=direct); Winograd: wherever it applies (tests use it to cover
// every shape). Process-wide, like the ISA.
enum class ConvAlgorithm { Auto, Fast, Direct, Winograd };
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();
const char* conv_algorithm_name(ConvAlgorithm algorithm);
bool parse_conv_algorithm(const char* name, ConvAlgorithm* out);

// The pass of a layer a choice is for.
enum class ConvPass { Forward, InputGradient, WeightGradient };

// Whether Winograd computes g at all: a square 3x3 or 5x5 kernel, stride
// 1, padding of at most R - 1 (the input gradient's own padding is R - 1 -
// pad), at least one output.
bool winograd_applies(const Geometry& g);

// Whether this pass of g runs as Winograd: winograd_applies and the
// algorithm switch, and under Auto and Fast the table in winograd.cc.
bool use_winograd(const Geometry& g, ConvPass pass);

// The transforms, vectorised over channels, compiled once per ISA
// (winograd_impl.h). Tile t = th * tiles_w + tw covers outputs
// [2th, 2th + 2) x [2tw, 2tw + 2) and reads the (R+1) x (R+1) input block
// at padded (2th, 2tw). Each of its P = (R+1)^2 points is a matrix of its
// own, [tiles][channels], point_stride floats from the next point's: a
// point's product reads and writes contiguous rows.
struct WinogradTransforms {
  // u[p][C][O] = (G f G^T)[p] of each filter f = w[., ., c, o] of w[R, R, C, O]
  // (with flip, of f turned by 180 degrees: a layer's input gradient).
  void (*filter)(float* u, const float* w, int C, int O, bool flip);
  // tiles[p * point_stride + t * C + c] = (B^T d B)[p] of each tile's input
  // block d of xpad, whose rows are `pitch` floats apart and pixels C.
  void (*input)(float* tiles, long point_stride, const float* xpad, long pitch, int tiles_h, int tiles_w, int C);
  // y[OH, OW, O] = (A^T m A) (+ bias) (then max(., 0) when relu) of each
  // tile's m[p * point_stride + t * O + o]; outputs past OH, OW are dropped.
  void (*output)(float* y, const float* m, long point_stride, int out_h, int out_w, int tiles_w, int O, const float* bias,
                 bool relu);
  // output, max-pooled in 2x2 windows of stride 2 (each a tile) without
  // going through memory: pooled[PH, PW, O] and, when cells is not null,
  // the cell of each maximum (as max_pool2d_forward_cells_image writes them).
  void (*output_pool)(float* pooled, uint8_t* cells, const float* m, long point_stride, int pooled_h, int pooled_w,
                      int tiles_w, int O, const float* bias, bool relu);
  // The weight gradient's: dm[p * point_stride + (o / sliver) * tiles * sliver
  // + t * sliver + o % sliver] = (A dy A^T)[p] of each tile's 2x2 block of
  // dy[OH, OW, O] (zeros past its edges), the adjoint of output. sliver = O
  // gives rows of [tiles][O]; a packed_b_sliver (a multiple of 16 dividing
  // O), a GEMM's packed B.
  void (*gradient)(float* dm, long point_stride, int sliver, const float* dy, int out_h, int out_w, int tiles_h,
                   int tiles_w, int O);
  // dw[R, R, C, O] = G^T du G, du[p][C][O] (the adjoint of filter);
  // overwritten: added into a sum, the compiler would fuse the sum's add with
  // the transform's last multiply (F(2x2, 5x5) scales by 1/6) and the result
  // would depend on what the sum held (WinogradFilter::add adds it apart).
  void (*filter_update)(float* dw, const float* du, int C, int O);
};

struct WinogradKernels {
  WinogradTransforms f3;  // F(2x2, 3x3)
  WinogradTransforms f5;  // F(2x2, 5x5)
};

WinogradKernels winograd_kernels_generic();
WinogradKernels winograd_kernels_avx2();
WinogradKernels winograd_kernels_avx512();
const WinogradKernels& current_winograd();

struct WinogradScratch {
  Scratch weights, pad, tiles, products, gradients, packed, image_dw;
};

// A 3x3 or 5x5 stride-1 convolution on one thread, as Winograd: y = conv(x, w) (+ b)
// (then relu), image after image. With flip, w is a layer's [3, 3, C, O]
// filter and this is that layer's input gradient (layer: its geometry),
// dx = dy convolved with w flipped and transposed.
// Whether a 2x2, stride-2 max-pool pg over g's output is pooled in
// WinogradConv::run_pooled: each window is one output tile.
bool winograd_pools(const Geometry& g, const Geometry& pg);

class WinogradConv {
 public:
  // pooled_by: the pool (winograd_pools) run_pooled will apply, or null
  // for run. Only the tiles its windows read are computed: where the pool's
  // floor leaves the output's last row and column out (7x7 pooled to 3x3),
  // 9 tiles of 16.
  WinogradConv(WinogradScratch& scratch, const Geometry& g, const float* w, bool flip, const Geometry* pooled_by = nullptr);
  // y of images [0, count) of x (pointers to the first); b may be null.
  void run(float* y, const float* x, long count, const float* b, bool relu);
  // The same max-pooled by the pool given when constructed (winograd_pools):
  // pooled and cells (may be null) of those images, the convolution's output never written.
  void run_pooled(float* pooled, uint8_t* cells, const Geometry& pg, const float* x, long count, const float* b, bool relu);

 private:
  Geometry g_;       // the convolution computed (for flip, dy to dx)
  Geometry padded_;  // g_ padded to cover whole tiles
  int points_;
  int tiles_h_, tiles_w_;
  int chunk_;  // images per product
  float* packed_u_;
  long packed_stride_;
  float* xpad_;
  int pad_w_;
  float* tiles_;
  float* products_;
  // Images of x a chunk at a time into the tiles and the products, then
  // output(transforms, image, its products, point stride) for each.
  template <class Output>
  void each_chunk(const float* x, long count, Output output);
};

// A 3x3 or 5x5 stride-1 layer's weight gradient on one thread, as Winograd.
class WinogradFilter {
 public:
  WinogradFilter(WinogradScratch& scratch, const Geometry& g);
  // dw += the weight gradient of images [0, count) of dy and x. Each image's
  // is one sum from zero, added to dw once: image_sums or not, the result
  // does not depend on how images are grouped into calls.
  void add(float* dw, const float* dy, const float* x, long count);

 private:
  Geometry g_;
  Geometry padded_;  // g padded to cover whole tiles
  int points_;
  int tiles_h_, tiles_w_;
  float* xpad_;
  int pad_w_;
  float* tiles_;
  float* gradients_;
  float* packed_;
  float* du_;
  float* image_dw_;  // one image's weight gradient, added to dw apart
};

}  // namespace convkit
