// One thread's part of a Conv2D layer, prepared once and then run on any
// images: the weights packed (or flipped and transposed) for this thread,
// the padded buffers' zero borders written, the offset tables made.
// conv2d.cc's functions prepare one per thread per call; conv_chain
// prepares one per layer per thread per pass and runs it on images as they
// are handed out, so that handing out one image at a time costs no setup.
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/common/geometry.h"
#include "kernels/common/scratch.h"
#include "kernels/conv/pooled_backward.h"
#include "kernels/conv/winograd.h"

namespace convkit {

// The buffers of each part, kept apart so that one thread can hold every
// layer's forward and backward at once.
struct ForwardScratch {
  Scratch weights, offsets, pad, out, columns;
  WinogradScratch winograd;
};
struct FilterScratch {
  Scratch pad, offsets, packed_dy, columns;
  WinogradScratch winograd;
};
struct DataScratch {
  Scratch weights, flipped, dy_pad, offsets, columns;
  WinogradScratch winograd;
};
struct PooledScratch {
  Scratch entry_ints, entry_values, xpad, dx_pad, w_t;
};
struct ConvScratch {
  ForwardScratch forward;
  FilterScratch filter;
  DataScratch data;
  PooledScratch pooled;
  Scratch grad, channel_sums;
};

// Images per GEMM where a product runs over several images: enough rows
// that the B panel and the micro-kernel's edge tiles are amortised (conv3
// of mnist-3layer has 49 pixels an image), few enough that the im2col block
// stays in L2.
int images_per_chunk(const Geometry& g);

// Images zero-padded, for the direct kernels and the implicit products:
// slots of [H + pt + pb, W + pl + pr, C] in a per-thread buffer whose zero
// border is written once, when prepared; each image only copies its interior.
struct PaddedImages {
  float* data = nullptr;
  int width = 0;
  long image = 0;  // floats per padded image
  void prepare(Scratch& scratch, const Geometry& g, long count);
  // Image x into slot i; its padded copy.
  const float* load(const float* x, const Geometry& g, long i = 0);
};

// conv2d_forward (conv2d.h) on one thread: y[n], or only pooled[n] and
// cells[n] when y is null, for images n of x.
class ConvForwardPass {
 public:
  ConvForwardPass(ForwardScratch& scratch, float* y, const float* x, const float* w, const float* b, const Geometry& g,
                  bool relu, float* pooled, const Geometry* pg, uint8_t* cells);
  void images(long n0, long n1);

 private:
  enum class Mode { WinogradPool, Winograd, DirectPool, Direct, RowGroups, ImplicitRows, Im2col };
  void pool(const float* out, long n, long count);

  Geometry g_;
  float* y_;
  const float* x_;
  const float* w_;
  const float* b_;
  bool relu_;
  float* pooled_;
  const Geometry* pg_;
  uint8_t* cells_;
  Mode mode_;
  PaddedImages xpad_;
  float* packed_w_ = nullptr;
  const long* offsets_ = nullptr;
  float* own_ = nullptr;   // the convolution's output when y is null
  float* cols_ = nullptr;  // Im2col
  int chunk_ = 1;          // Im2col: images per product
  Geometry grid_{};        // ImplicitRows: the pool over rows at the padded pitch
  std::optional<WinogradConv> winograd_;
};

// dw[K, O] += the weight gradient of images: the direct kernel where it
// applies (few input channels); with stride 1, the patches read where they
// lie in the padded images (no im2col); otherwise im2col into the columns
// buffer. With image_sums, each image's sums are added to dw on their own
// (a K block of the product, or a direct kernel call, per image; several
// when one image's rows exceed a K block), so the result does not depend on
// how images are grouped into calls; without, the products' K blocks span
// images (faster: conv3's weight gradient has 49 rows an image).
class FilterGradient {
 public:
  FilterGradient(FilterScratch& scratch, const Geometry& g, int chunk, bool image_sums);
  // dw += the gradient of images [0, count) of dy and x (pointers to the first), count <= chunk.
  void add(float* dw, const float* dy, const float* x, long count);
  // Whether add, with image_sums, adds each weight's gradient of one image
  // to dw in a single addition of a sum begun from zero: then a gradient accumulated image by
  // image equals adding, image by image, each image's gradient made alone
  // into zeros.
  static bool one_sum_per_image(const Geometry& g);

 private:
  enum class Mode { Winograd, Direct, Implicit, Im2col };
  static Mode mode_for(const Geometry& g);
  Geometry g_;
  Mode mode_;
  bool image_sums_;
  PaddedImages xpad_;  // one image (Direct), chunk images (Implicit), none (Im2col)
  long* offsets_ = nullptr;
  float* packed_dy_ = nullptr;
  float* cols_ = nullptr;
  std::optional<WinogradFilter> winograd_;
};

// dx = dy convolved back through w (overwritten), chunk by chunk.
class DataGradient {
 public:
  DataGradient(DataScratch& scratch, const Geometry& g, const float* w, int chunk);
  // dx of images [0, count) (pointers to the first) from their dy, count <= chunk.
  void compute(float* dx, const float* dy, long count);

 private:
  enum class Mode { Winograd, Correlate, RowGroups, Im2col };
  static Mode choose(const Geometry& g, const Geometry& back);

  Geometry g_;
  Geometry back_;
  Mode mode_;
  PaddedImages dy_pad_;  // one padded dy (Correlate, RowGroups)
  float* flipped_ = nullptr;
  float* packed_ = nullptr;
  float* cols_ = nullptr;
  long* offsets_ = nullptr;
  std::optional<WinogradConv> winograd_;
};

// conv2d_relu_pool_backward (conv2d.h) on one thread: dx[n] (when dx is
// not null) and each image's weight and bias gradients added into the given
// partial sums, image after image. Where pooled_backward_applies, from the
// pooled gradient's entries (pooled_backward.h), the weight gradient's
// partial sums transposed; otherwise from the convolution's output
// gradient, made dense.
class ReluPoolBackwardPass {
 public:
  // by_entries: whether to run from the pooled gradient's entries
  // (entries_apply, decided once per pass by the caller, who sums the partials accordingly).
  ReluPoolBackwardPass(ConvScratch& scratch, float* dx, const float* d_pooled, const float* x, const float* w,
                       const float* pooled, const uint8_t* cells, const Geometry& g, const Geometry& pg, bool by_entries);
  // Images [n0, n1): their weight gradients added into dw_part
  // ([KH, KW, C, O] by FilterGradient::add, or transposed [KH, KW, O, C]
  // by entries: the partials are then summed by sum_transposed_partials),
  // their bias gradients, a float sum per image, into db_part[O].
  void images(long n0, long n1, float* dw_part, double* db_part);
  // Whether conv g and pool pg run from the entries: pooled_backward_applies,
  // under the auto and fast algorithms (winograd.h); direct and winograd
  // force the dense product (a debugging switch, and the tests' way to cover it).
  static bool entries_apply(const Geometry& g, const Geometry& pg);
  // Whether images adds each image's weight gradient as one sum begun from
  // zero (FilterGradient::one_sum_per_image): then the result does not
  // depend on how images are grouped into calls.
  static bool one_sum_per_image(const Geometry& g, bool by_entries);

 private:
  void pooled_images(long n0, long n1, float* dw_t_part, double* db_part);

  Geometry g_;
  Geometry pg_;
  float* dx_;
  const float* d_pooled_;
  const float* x_;
  const float* pooled_;
  const uint8_t* cells_;
  int chunk_;  // images per product
  float* dconv_;
  float* image_sum_;
  bool by_entries_;
  std::optional<FilterGradient> filter_;
  std::optional<DataGradient> data_;
  // The pooled backward's: the entries, the padded input, the padded input
  // gradient, the filter transposed.
  PooledEntries entries_;
  PaddedImages xpad_;
  PaddedImages dx_pad_;
  float* w_t_ = nullptr;
};

}  // namespace convkit
