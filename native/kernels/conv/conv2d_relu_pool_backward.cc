// The fused Conv2D -> ReLU -> max-pool backward of one layer: the pooled entries, or the dense gradients through the mask.
#include "kernels/conv/conv2d_pass_detail.h"

namespace convkit {

using namespace pass_detail;

ReluPoolBackwardPass::ReluPoolBackwardPass(ConvScratch& scratch, float* dx, const float* d_pooled, const float* x,
                                           const float* w, const float* pooled, const uint8_t* cells, const Geometry& g,
                                           const Geometry& pg, bool by_entries)
    : g_(g),
      pg_(pg),
      dx_(dx),
      d_pooled_(d_pooled),
      x_(x),
      pooled_(pooled),
      cells_(cells),
      chunk_(images_per_chunk(g)),
      dconv_(nullptr),
      image_sum_(scratch.channel_sums.floats(static_cast<std::size_t>(g.out_c))),
      by_entries_(by_entries) {
  if (by_entries_) {
    xpad_.prepare(scratch.pooled.xpad, g, 1);
    entries_.prepare(scratch.pooled.entry_ints, scratch.pooled.entry_values, g, pg, xpad_.width);
    if (dx) {
      dx_pad_.prepare(scratch.pooled.dx_pad, g, 1);
      w_t_ = scratch.pooled.w_t.floats(static_cast<std::size_t>(g.patch()) * g.out_c);
      transpose_filter(w_t_, w, g);
    }
    return;
  }
  dconv_ = scratch.grad.floats(static_cast<std::size_t>(chunk_) * g.out_image());
  filter_.emplace(scratch.filter, g, chunk_, true);
  if (dx) data_.emplace(scratch.data, g, w, chunk_);
}

bool ReluPoolBackwardPass::entries_apply(const Geometry& g, const Geometry& pg) {
  const ConvAlgorithm algorithm = conv_algorithm();
  return (algorithm == ConvAlgorithm::Auto || algorithm == ConvAlgorithm::Fast) && pooled_backward_applies(g, pg);
}

bool ReluPoolBackwardPass::one_sum_per_image(const Geometry& g, bool by_entries) {
  return by_entries || FilterGradient::one_sum_per_image(g);
}

void ReluPoolBackwardPass::pooled_images(long n0, long n1, float* dw_t_part, double* db_part) {
  const Geometry& g = g_;
  const int O = g.out_c;
  const PooledBackwardKernels& kernels = current_pooled_backward();
  const long row = static_cast<long>(g.in_w) * g.in_c;
  for (long n = n0; n < n1; ++n) {
    const long at = n * pg_.out_image();
    for (int o = 0; o < O; ++o) image_sum_[o] = 0.0f;
    entries_.gather(d_pooled_ + at, pooled_ + at, cells_ + at, g, image_sum_);
    for (int o = 0; o < O; ++o) db_part[o] += image_sum_[o];
    kernels.filter(dw_t_part, xpad_.load(x_ + n * g.in_image(), g), xpad_.width, entries_, g);
    if (!dx_) continue;
    std::memset(dx_pad_.data, 0, sizeof(float) * dx_pad_.image);
    kernels.data(dx_pad_.data, dx_pad_.width, w_t_, entries_, g);
    float* dx = dx_ + n * g.in_image();
    for (int y = 0; y < g.in_h; ++y) {
      const float* from = dx_pad_.data + (static_cast<long>(y + g.pad_top) * dx_pad_.width + g.pad_left) * g.in_c;
      std::memcpy(dx + y * row, from, sizeof(float) * row);
    }
  }
}

// Each image's gradients are one sum added to the partials (the bias's a
// float sum per image; the weights' one K block per image:
// FilterGradient::one_sum_per_image), so the result does not depend on how
// the images are grouped into calls, and conv_chain may hand any image to
// any thread and still add the same sums in the same order.
void ReluPoolBackwardPass::images(long n0, long n1, float* dw_part, double* db_part) {
  if (by_entries_) {
    pooled_images(n0, n1, dw_part, db_part);
    return;
  }
  const Geometry& g = g_;
  const int O = g.out_c;
  for (long n = n0; n < n1; n += chunk_) {
    const long count = std::min<long>(chunk_, n1 - n);
    for (long i = 0; i < count; ++i) {
      // The bias gradient comes out of the pool backward.
      for (int o = 0; o < O; ++o) image_sum_[o] = 0.0f;
      const long at = (n + i) * pg_.out_image();
      max_pool2d_backward_cells_image(dconv_ + i * g.out_image(), d_pooled_ + at, pooled_ + at, cells_ + at, pg_, true,
                                      image_sum_);
      for (int o = 0; o < O; ++o) db_part[o] += image_sum_[o];
    }
    filter_->add(dw_part, dconv_, x_ + n * g.in_image(), count);
    if (dx_) data_->compute(dx_ + n * g.in_image(), dconv_, count);
  }
}

}  // namespace convkit
