// Longer than 400 lines: the three passes of a convolution (forward, weight gradient, input gradient) share the mode predicates and padded-image helpers above them; each mode is a few lines of dispatch.
#include "kernels/conv/conv2d_passes.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/conv/direct_conv.h"
#include "kernels/gemm/gemm.h"
#include "kernels/conv/patches.h"
#include "kernels/pool/pool.h"

namespace convkit {

namespace {

constexpr long kChunkRows = 512;
constexpr long kChunkFloats = 96 * 1024;  // 384 KB of im2col columns

// The current ISA's im2col and col2im (patches_impl.h).
void im2col(float* cols, const float* x, const Geometry& g) { current_patch_kernels().im2col(cols, x, g); }
void col2im(float* dx, const float* dcols, const Geometry& g) { current_patch_kernels().col2im(dx, dcols, g); }

// offsets[kh] = kh * row_floats: where each kernel row's K segment starts,
// for a product reading patches from a padded image whose rows are
// row_floats apart.
long* kernel_row_offsets(Scratch& scratch, int k_h, long row_floats) {
  long* offsets = scratch.longs(k_h);
  for (int kh = 0; kh < k_h; ++kh) offsets[kh] = kh * row_floats;
  return offsets;
}

// Where row groups do not apply (AVX2, generic; wider rows): whether the
// forward's implicit product over whole padded rows (no im2col) pays for
// the output rows it computes over the padding: stride 1, pooling windows
// that tile, and at least 80% of the micro-kernel's row tiles on real
// pixels (conv2 of mnist-3layer, 14x14: 86%; its 7x7 conv3: 68%, left to
// im2col).
bool implicit_gemm_pays(const Geometry& g, const Geometry& pg) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise() || !pool_windows_tile(pg)) return false;
  // One K block, so that the sums are those of the im2col product (kept outputs).
  if (!gemm_single_k_block(static_cast<int>(g.patch()))) return false;
  const long pw = g.in_w + g.pad_left + g.pad_right;
  const long rows = (g.out_h - 1) * pw + g.out_w;
  const long mr = current_gemm_kernel().mr;
  const long tiles = (rows + mr - 1) / mr;
  return 5 * g.out_pixels() >= 4 * tiles * mr;
}

// Whether the forward runs one register tile per output row, its patches
// read in place from the padded image (no im2col, no edge tiles): stride 1
// and an output row the ISA has a tile for (AVX-512: 4 to 14 pixels).
bool row_groups_apply(const Geometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() && gemm_row_groups_apply(g.out_w, g.out_c);
}

}  // namespace

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
