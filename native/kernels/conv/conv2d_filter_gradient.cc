// The weight (and bias) gradient of a convolution layer: the mode chosen once, the partial sums per image.
#include "kernels/conv/conv2d_pass_detail.h"

namespace convkit {

using namespace pass_detail;

FilterGradient::Mode FilterGradient::mode_for(const Geometry& g) {
  if (use_winograd(g, ConvPass::WeightGradient)) return Mode::Winograd;
  if (direct_conv_applies(g)) return Mode::Direct;
  return g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() ? Mode::Implicit : Mode::Im2col;
}

FilterGradient::FilterGradient(FilterScratch& scratch, const Geometry& g, int chunk, bool image_sums)
    : g_(g), mode_(mode_for(g)), image_sums_(image_sums) {
  const long M = g.out_pixels(), K = g.patch();
  if (mode_ == Mode::Winograd) {
    winograd_.emplace(scratch.winograd, g);
  } else if (mode_ == Mode::Direct) {
    xpad_.prepare(scratch.pad, g, 1);
  } else if (mode_ == Mode::Implicit) {
    xpad_.prepare(scratch.pad, g, chunk);
    offsets_ = scratch.offsets.longs(static_cast<std::size_t>(chunk) * g.out_h);
    for (long s = 0; s < static_cast<long>(chunk) * g.out_h; ++s) {
      const long image = s / g.out_h, oh = s % g.out_h;
      offsets_[s] = image * xpad_.image + oh * xpad_.width * g.in_c;
    }
    packed_dy_ = scratch.packed_dy.floats(packed_b_size(static_cast<int>(chunk * M), g.out_c));
  } else if (!g.is_pointwise()) {
    cols_ = scratch.columns.floats(static_cast<std::size_t>(chunk) * M * K);
  }
}

bool FilterGradient::one_sum_per_image(const Geometry& g) {
  // The direct kernel sums each image in registers and adds it once; the
  // products do when one image's rows (out_h segments, or out_pixels
  // steps) are one K block.
  const Mode mode = mode_for(g);
  if (mode == Mode::Direct || mode == Mode::Winograd) return true;
  if (mode == Mode::Implicit) return gemm_single_k_block_segments(static_cast<int>(g.out_pixels()), g.out_h);
  return gemm_single_k_block(static_cast<int>(g.out_pixels()));
}

void FilterGradient::add(float* dw, const float* dy, const float* x, long count) {
  const Geometry& g = g_;
  const int O = g.out_c, K = static_cast<int>(g.patch());
  const int rows = static_cast<int>(count * g.out_pixels());
  if (mode_ == Mode::Winograd) {
    winograd_->add(dw, dy, x, count);
    return;
  }
  if (mode_ == Mode::Direct) {
    const DirectConvFilter filter = current_direct_conv().filter;
    for (long i = 0; i < count; ++i) filter(dw, dy + i * g.out_image(), xpad_.load(x + i * g.in_image(), g), g, xpad_.width);
    return;
  }
  const long M = g.out_pixels();
  if (mode_ == Mode::Im2col) {
    if (cols_) {
      for (long i = 0; i < count; ++i) im2col(cols_ + i * M * K, x + i * g.in_image(), g);
    }
    const float* patches = cols_ ? cols_ : x;
    if (!image_sums_) {
      sgemm(true, false, K, O, rows, patches, K, dy, O, dw, O, true);
      return;
    }
    for (long i = 0; i < count; ++i) {
      sgemm(true, false, K, O, static_cast<int>(M), patches + i * M * K, K, dy + i * g.out_image(), O, dw, O, true);
    }
    return;
  }
  // Implicit: for kernel row kh, dw's KW*C rows of that row are a product
  // whose A is the padded images shifted kh rows down, in one K segment per
  // output row (the padding columns skipped).
  for (long i = 0; i < count; ++i) xpad_.load(x + i * g.in_image(), g, i);
  const int segments = static_cast<int>(count * g.out_h);
  // With exactly one packed sliver of columns (O == nr), packing dy would
  // copy it unchanged: its K blocks are runs of whole rows either way. The
  // micro-kernels load B aligned, so only an aligned dy is used in place.
  const bool in_place = O == current_gemm_kernel().nr && reinterpret_cast<std::uintptr_t>(dy) % 64 == 0;
  const int block_segments = image_sums_ ? g.out_h : 0;
  if (!in_place) pack_b_segments(false, rows, segments, O, dy, O, packed_dy_, block_segments);
  const float* b = in_place ? dy : packed_dy_;
  const int row_len = g.k_w * g.in_c;
  for (int kh = 0; kh < g.k_h; ++kh) {
    sgemm_segments(true, row_len, O, rows, segments, offsets_, xpad_.data + static_cast<long>(kh) * xpad_.width * g.in_c,
                   g.in_c, b, dw + static_cast<long>(kh) * row_len * O, O, true, nullptr, false, block_segments);
  }
}

}  // namespace convkit
