// The forward pass of a convolution layer (with its pooled and ReLU epilogues) and the padded-image helper every pass uses.
#include "kernels/conv/conv2d_pass_detail.h"

namespace convkit {

using namespace pass_detail;

int images_per_chunk(const Geometry& g) {
  const long rows = std::max(1L, g.out_pixels());
  const long per_image = rows * std::max(1L, g.patch());
  long chunk = std::min(kChunkRows / rows, kChunkFloats / per_image);
  return static_cast<int>(std::max(1L, chunk));
}

void PaddedImages::prepare(Scratch& scratch, const Geometry& g, long count) {
  width = g.in_w + g.pad_left + g.pad_right;
  image = static_cast<long>(g.in_h + g.pad_top + g.pad_bottom) * width * g.in_c;
  data = scratch.floats(count * image);
  std::memset(data, 0, sizeof(float) * count * image);
}

const float* PaddedImages::load(const float* x, const Geometry& g, long i) {
  float* slot = data + i * image;
  current_patch_kernels().pad_interior(slot, x, g, width);
  return slot;
}

ConvForwardPass::ConvForwardPass(ForwardScratch& scratch, float* y, const float* x, const float* w, const float* b,
                                 const Geometry& g, bool relu, float* pooled, const Geometry* pg, uint8_t* cells)
    : g_(g), y_(y), x_(x), w_(w), b_(b), relu_(relu), pooled_(pooled), pg_(pg), cells_(cells) {
  const int K = static_cast<int>(g.patch()), O = g.out_c;
  const bool keep = y != nullptr;
  // The weights are the B matrix of every image's product: each thread
  // packs its own copy, so that no thread reads what another wrote (a cache
  // line from the other core costs more than packing it again).
  if (use_winograd(g, ConvPass::Forward)) {
    if (pooled && !keep && winograd_pools(g, *pg)) {
      // Each pooling window is an output tile: pooled as it is transformed back.
      mode_ = Mode::WinogradPool;
      winograd_.emplace(scratch.winograd, g, w, false, pg);
    } else {
      mode_ = Mode::Winograd;
      winograd_.emplace(scratch.winograd, g, w, false);
      if (!keep) own_ = scratch.out.floats(static_cast<std::size_t>(images_per_chunk(g)) * g.out_image());
    }
  } else if (pooled && !keep && relu && direct_conv_pool_applies(g, *pg)) {
    // The first layer's output is the largest of a network (28x28x16 floats
    // an image): pooled in registers, it never goes through memory.
    mode_ = Mode::DirectPool;
    xpad_.prepare(scratch.pad, g, 1);
  } else if (direct_conv_applies(g)) {
    mode_ = Mode::Direct;
    xpad_.prepare(scratch.pad, g, 1);
    if (!keep) own_ = scratch.out.floats(g.out_image());
  } else if (row_groups_apply(g)) {
    mode_ = Mode::RowGroups;
    packed_w_ = scratch.weights.floats(packed_b_size(K, O));
    pack_b_segments(false, K, g.k_h, O, w, O, packed_w_);
    xpad_.prepare(scratch.pad, g, 1);
    offsets_ = kernel_row_offsets(scratch.offsets, g.k_h, static_cast<long>(xpad_.width) * g.in_c);
    if (!keep) own_ = scratch.out.floats(g.out_image());
  } else if (pooled && !keep && implicit_gemm_pays(g, *pg)) {
    // No im2col: each output pixel's patch is KH runs of KW*C floats in the
    // padded image, so the product reads them there (one K segment per
    // kernel row). Rows run over the padded width, the pw - OW extra columns
    // of each row are computed and never pooled.
    mode_ = Mode::ImplicitRows;
    packed_w_ = scratch.weights.floats(packed_b_size(K, O));
    pack_b_segments(false, K, g.k_h, O, w, O, packed_w_);
    xpad_.prepare(scratch.pad, g, 1);
    offsets_ = kernel_row_offsets(scratch.offsets, g.k_h, static_cast<long>(xpad_.width) * g.in_c);
    own_ = scratch.out.floats(static_cast<std::size_t>(g.out_h) * xpad_.width * O);
    grid_ = *pg;
    grid_.in_w = xpad_.width;
  } else {
    mode_ = Mode::Im2col;
    chunk_ = images_per_chunk(g);
    packed_w_ = scratch.weights.floats(packed_b_size(K, O));
    pack_b(false, K, O, w, O, packed_w_);
    if (!g.is_pointwise()) cols_ = scratch.columns.floats(static_cast<std::size_t>(chunk_) * g.out_pixels() * K);
    if (!keep) own_ = scratch.out.floats(static_cast<std::size_t>(chunk_) * g.out_image());
  }
}

// Images [n, n + count) just computed into out, pooled.
void ConvForwardPass::pool(const float* out, long n, long count) {
  if (!pooled_) return;
  const Geometry& pg = *pg_;
  for (long i = 0; i < count; ++i) {
    const long at = (n + i) * pg.out_image();
    if (cells_) max_pool2d_forward_cells_image(pooled_ + at, cells_ + at, out + i * g_.out_image(), pg);
    else max_pool2d_forward_image(pooled_ + at, out + i * g_.out_image(), pg);
  }
}

void ConvForwardPass::images(long n0, long n1) {
  const Geometry& g = g_;
  const int M = static_cast<int>(g.out_pixels()), K = static_cast<int>(g.patch()), O = g.out_c;
  auto out_of = [&](long n) { return y_ ? y_ + n * g.out_image() : own_; };
  switch (mode_) {
    case Mode::WinogradPool:
      winograd_->run_pooled(pooled_ + n0 * pg_->out_image(), cells_ ? cells_ + n0 * pg_->out_image() : nullptr, *pg_,
                            x_ + n0 * g.in_image(), n1 - n0, b_, relu_);
      return;
    case Mode::Winograd: {
      const long chunk = images_per_chunk(g);
      for (long n = n0; n < n1; n += chunk) {
        const long count = std::min(chunk, n1 - n);
        float* out = out_of(n);
        winograd_->run(out, x_ + n * g.in_image(), count, b_, relu_);
        pool(out, n, count);
      }
      return;
    }
    case Mode::DirectPool: {
      const DirectConvForwardPool direct_pool = current_direct_conv().forward_pool;
      for (long n = n0; n < n1; ++n) {
        const long at = n * pg_->out_image();
        direct_pool(pooled_ + at, cells_ ? cells_ + at : nullptr, xpad_.load(x_ + n * g.in_image(), g), w_, b_, g,
                    xpad_.width, *pg_);
      }
      return;
    }
    case Mode::Direct: {
      const DirectConvForward direct = current_direct_conv().forward;
      for (long n = n0; n < n1; ++n) {
        float* out = out_of(n);
        direct(out, xpad_.load(x_ + n * g.in_image(), g), w_, b_, g, xpad_.width, relu_);
        pool(out, n, 1);
      }
      return;
    }
    case Mode::RowGroups: {
      const long pitch = static_cast<long>(xpad_.width) * g.in_c;
      for (long n = n0; n < n1; ++n) {
        float* out = out_of(n);
        sgemm_row_groups(g.out_h, g.out_w, pitch, O, K, g.k_h, offsets_, xpad_.load(x_ + n * g.in_image(), g), g.in_c,
                         packed_w_, out, O, b_, relu_);
        pool(out, n, 1);
      }
      return;
    }
    case Mode::ImplicitRows: {
      const int rows = (g.out_h - 1) * xpad_.width + g.out_w;
      for (long n = n0; n < n1; ++n) {
        const float* xp = xpad_.load(x_ + n * g.in_image(), g);
        sgemm_segments(false, rows, O, K, g.k_h, offsets_, xp, g.in_c, packed_w_, own_, O, false, b_, relu_);
        const long at = n * pg_->out_image();
        if (cells_) max_pool2d_forward_cells_image(pooled_ + at, cells_ + at, own_, grid_);
        else max_pool2d_forward_image(pooled_ + at, own_, grid_);
      }
      return;
    }
    case Mode::Im2col:
      for (long n = n0; n < n1; n += chunk_) {
        const long count = std::min<long>(chunk_, n1 - n);
        float* out = out_of(n);
        if (cols_) {
          for (long i = 0; i < count; ++i) im2col(cols_ + i * M * K, x_ + (n + i) * g.in_image(), g);
        }
        sgemm_packed(false, static_cast<int>(count * M), O, K, cols_ ? cols_ : x_ + n * g.in_image(), K, packed_w_, out,
                     O, false, b_, relu_);
        pool(out, n, count);
      }
      return;
  }
}

}  // namespace convkit
