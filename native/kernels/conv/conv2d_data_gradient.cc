// The input gradient of a convolution layer: a stride-1 correlation with the flipped weights, or dy * w^T added back by col2im.
#include "kernels/conv/conv2d_pass_detail.h"

namespace convkit {

using namespace pass_detail;

// With stride 1 the input gradient is itself a stride-1 convolution: dy
// zero-padded (input_gradient_geometry), correlated with w flipped in both
// directions and transposed (O in, C out), written straight into dx: by the
// direct correlate_rows kernel where it has the shape (16 or 32 input
// channels), else one register tile per input row (sgemm_row_groups).
// Otherwise dcols = dy * w^T, added back onto dx by col2im.
DataGradient::DataGradient(DataScratch& scratch, const Geometry& g, const float* w, int chunk)
    : g_(g), back_(input_gradient_geometry(g)), mode_(choose(g, back_)) {
  const int K = static_cast<int>(g.patch()), O = g.out_c, C = g.in_c;
  if (mode_ == Mode::Winograd) {
    winograd_.emplace(scratch.winograd, g, w, true);
    return;
  }
  if (mode_ == Mode::Im2col) {
    packed_ = scratch.weights.floats(packed_b_size(O, K));  // per thread, as in the forward
    pack_b(true, O, K, w, O, packed_);
    if (!g.is_pointwise()) cols_ = scratch.columns.floats(static_cast<std::size_t>(chunk) * g.out_pixels() * K);
    return;
  }
  dy_pad_.prepare(scratch.dy_pad, back_, 1);
  // flipped[kh][kw][o][c] = w[KH-1-kh][KW-1-kw][c][o]: the B of a product
  // whose K runs over (kh, kw, o).
  const int KO = g.k_h * g.k_w * O;
  float* flipped = scratch.flipped.floats(static_cast<std::size_t>(KO) * C);
  for (int kh = 0; kh < g.k_h; ++kh)
    for (int kw = 0; kw < g.k_w; ++kw) {
      const float* src = w + (static_cast<long>(g.k_h - 1 - kh) * g.k_w + (g.k_w - 1 - kw)) * C * O;
      float* dst = flipped + (static_cast<long>(kh) * g.k_w + kw) * O * C;
      for (int c = 0; c < C; ++c)
        for (int o = 0; o < O; ++o) dst[static_cast<long>(o) * C + c] = src[static_cast<long>(c) * O + o];
    }
  if (mode_ == Mode::Correlate) {
    flipped_ = flipped;
  } else {
    packed_ = scratch.weights.floats(packed_b_size(KO, C));
    pack_b_segments(false, KO, g.k_h, C, flipped, C, packed_);
    offsets_ = kernel_row_offsets(scratch.offsets, g.k_h, static_cast<long>(dy_pad_.width) * O);
  }
}

DataGradient::Mode DataGradient::choose(const Geometry& g, const Geometry& back) {
  const bool as_conv = g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() && back.pad_top >= 0 && back.pad_bottom >= 0 &&
                       back.pad_left >= 0 && back.pad_right >= 0;
  if (!as_conv) return Mode::Im2col;
  if (use_winograd(g, ConvPass::InputGradient)) return Mode::Winograd;
  // correlate_rows with no rows only says whether it has the shape.
  if (g.in_c % kDirectBlock == 0 &&
      current_direct_conv().correlate_rows(nullptr, nullptr, 0, nullptr, 0, g.in_w, g.k_h, g.k_w, g.out_c, g.in_c / kDirectBlock)) {
    return Mode::Correlate;
  }
  return gemm_row_groups_apply(g.in_w, g.in_c) ? Mode::RowGroups : Mode::Im2col;
}

void DataGradient::compute(float* dx, const float* dy, long count) {
  const Geometry& g = g_;
  const int K = static_cast<int>(g.patch()), O = g.out_c, C = g.in_c;
  const long M = g.out_pixels();
  if (mode_ == Mode::Winograd) {
    winograd_->run(dx, dy, count, nullptr, false);
    return;
  }
  if (mode_ == Mode::Im2col) {
    sgemm_packed(false, static_cast<int>(count * M), K, O, dy, O, packed_, cols_ ? cols_ : dx, K, false);
    if (cols_) {
      for (long i = 0; i < count; ++i) col2im(dx + i * g.in_image(), cols_ + i * M * K, g);
    }
    return;
  }
  const long pitch = static_cast<long>(dy_pad_.width) * O;
  for (long i = 0; i < count; ++i) {
    const float* padded = dy_pad_.load(dy + i * g.out_image(), back_);
    float* out = dx + i * g.in_image();
    if (mode_ == Mode::Correlate) {
      current_direct_conv().correlate_rows(out, padded, pitch, flipped_, g.in_h, g.in_w, g.k_h, g.k_w, O, C / kDirectBlock);
    } else {
      sgemm_row_groups(g.in_h, g.in_w, pitch, C, g.k_h * g.k_w * O, g.k_h, offsets_, padded, O, packed_, out, C, nullptr, false);
    }
  }
}

}  // namespace convkit
