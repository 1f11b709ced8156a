#include "conv2d.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "dense.h"
#include "direct_conv.h"
#include "gemm.h"
#include "parallel.h"
#include "patches.h"
#include "pool.h"
#include "scratch.h"

namespace convkit {

namespace {

thread_local Scratch t_columns;
thread_local Scratch t_partials;
thread_local Scratch t_weights;
thread_local Scratch t_grad;
thread_local Scratch t_channel_sums;
thread_local Scratch t_db;
thread_local Scratch t_pad;
thread_local Scratch t_out;
thread_local Scratch t_offsets;
thread_local Scratch t_packed_dy;
thread_local Scratch t_flipped;
thread_local Scratch t_dy_pad;
thread_local Scratch t_dy_offsets;
thread_local Scratch t_dcols;

constexpr long kChunkRows = 512;
constexpr long kChunkFloats = 96 * 1024;  // 384 KB of im2col columns

// The current ISA's im2col and col2im (patches_impl.h).
void im2col(float* cols, const float* x, const Geometry& g) { current_patch_kernels().im2col(cols, x, g); }
void col2im(float* dx, const float* dcols, const Geometry& g) { current_patch_kernels().col2im(dx, dcols, g); }

// Images zero-padded, for the direct kernels and the implicit products:
// xpad[count][H + pt + pb, W + pl + pr, C] in a per-thread buffer whose zero
// border is written once per call; each image only copies its interior.
struct PaddedImages {
  float* data;
  int width;
  long image;  // floats per padded image
  PaddedImages(Scratch& scratch, const Geometry& g, long count = 1)
      : width(g.in_w + g.pad_left + g.pad_right),
        image(static_cast<long>(g.in_h + g.pad_top + g.pad_bottom) * width * g.in_c) {
    data = scratch.floats(count * image);
    std::memset(data, 0, sizeof(float) * count * image);
  }
  // Image x into slot i; its padded copy.
  const float* load(const float* x, const Geometry& g, long i = 0) {
    float* slot = data + i * image;
    current_patch_kernels().pad_interior(slot, x, g, width);
    return slot;
  }
};

}  // namespace

// Images per GEMM: enough rows that the B panel and the micro-kernel's
// edge tiles are amortised (conv3 of mnist-3layer has 49 pixels an image),
// few enough that the im2col block stays in L2.
static int images_per_chunk(const Geometry& g) {
  const long rows = std::max(1L, g.out_pixels());
  const long per_image = rows * std::max(1L, g.patch());
  long chunk = std::min(kChunkRows / rows, kChunkFloats / per_image);
  return static_cast<int>(std::max(1L, chunk));
}

namespace {

// offsets[kh] = kh * row_floats: where each kernel row's K segment starts,
// for a product reading patches from a padded image whose rows are
// row_floats apart.
long* kernel_row_offsets(Scratch& scratch, int k_h, long row_floats) {
  long* offsets = scratch.longs(k_h);
  for (int kh = 0; kh < k_h; ++kh) offsets[kh] = kh * row_floats;
  return offsets;
}

// A thread's share of the weight gradient, dw[K, O] += patches^T * dy over
// chunks of images. The direct kernel where it applies (few input
// channels). Otherwise, with stride 1, the patches are read where they lie
// in the padded images (no im2col): for kernel row kh, dw's KW*C rows of
// that row are a product whose A is the padded images shifted kh rows down,
// in one K segment per output row (the padding columns skipped). Otherwise
// im2col, into the columns buffer.
class FilterGradient {
 public:
  FilterGradient(const Geometry& g, int chunk)
      : g_(g),
        mode_(direct_conv_applies(g) ? Mode::Direct
              : g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() ? Mode::Implicit
                                                                         : Mode::Im2col),
        xpad_(t_pad, g, mode_ == Mode::Direct ? 1 : mode_ == Mode::Implicit ? chunk : 0) {
    const long M = g.out_pixels(), K = g.patch();
    if (mode_ == Mode::Implicit) {
      offsets_ = t_offsets.longs(static_cast<std::size_t>(chunk) * g.out_h);
      for (long s = 0; s < static_cast<long>(chunk) * g.out_h; ++s) {
        const long image = s / g.out_h, oh = s % g.out_h;
        offsets_[s] = image * xpad_.image + oh * xpad_.width * g.in_c;
      }
      packed_dy_ = t_packed_dy.floats(packed_b_size(static_cast<int>(chunk * M), g.out_c));
    } else if (mode_ == Mode::Im2col && !g.is_pointwise()) {
      cols_ = t_columns.floats(static_cast<std::size_t>(chunk) * M * K);
    }
  }

  // dw += the gradient of images [0, count) of dy and x (pointers to the first).
  void add(float* dw, const float* dy, const float* x, long count) {
    const Geometry& g = g_;
    const int O = g.out_c, K = static_cast<int>(g.patch());
    const int rows = static_cast<int>(count * g.out_pixels());
    if (mode_ == Mode::Direct) {
      const DirectConvFilter filter = current_direct_conv().filter;
      for (long i = 0; i < count; ++i) filter(dw, dy + i * g.out_image(), xpad_.load(x + i * g.in_image(), g), g, xpad_.width);
      return;
    }
    if (mode_ == Mode::Im2col) {
      if (cols_) {
        for (long i = 0; i < count; ++i) im2col(cols_ + i * g.out_pixels() * K, x + i * g.in_image(), g);
      }
      sgemm(true, false, K, O, rows, cols_ ? cols_ : x, K, dy, O, dw, O, true);
      return;
    }
    for (long i = 0; i < count; ++i) xpad_.load(x + i * g.in_image(), g, i);
    const int segments = static_cast<int>(count * g.out_h);
    // With exactly one packed sliver of columns (O == nr), packing dy would
    // copy it unchanged: its K blocks are runs of whole rows either way. The
    // micro-kernels load B aligned, so only an aligned dy is used in place.
    const bool in_place = O == current_gemm_kernel().nr && reinterpret_cast<std::uintptr_t>(dy) % 64 == 0;
    if (!in_place) pack_b_segments(false, rows, segments, O, dy, O, packed_dy_);
    const float* b = in_place ? dy : packed_dy_;
    const int row_len = g.k_w * g.in_c;
    for (int kh = 0; kh < g.k_h; ++kh) {
      sgemm_segments(true, row_len, O, rows, segments, offsets_, xpad_.data + static_cast<long>(kh) * xpad_.width * g.in_c,
                     g.in_c, b, dw + static_cast<long>(kh) * row_len * O, O, true, nullptr, false);
    }
  }

 private:
  enum class Mode { Direct, Implicit, Im2col };
  const Geometry& g_;
  Mode mode_;
  PaddedImages xpad_;  // one image (Direct), chunk images (Implicit), none (Im2col)
  long* offsets_ = nullptr;
  float* packed_dy_ = nullptr;
  float* cols_ = nullptr;
};

// The geometry of the input gradient as a stride-1 convolution: dy (out_h x
// out_w x O) padded by KH - 1 - pad on each side, which then holds
// in_h + KH - 1 rows of in_w + KW - 1 pixels.
Geometry padded_gradient(const Geometry& g) {
  Geometry back = g;
  back.in_h = g.out_h;
  back.in_w = g.out_w;
  back.in_c = g.out_c;
  back.pad_top = g.k_h - 1 - g.pad_top;
  back.pad_bottom = g.k_h - 1 - g.pad_bottom;
  back.pad_left = g.k_w - 1 - g.pad_left;
  back.pad_right = g.k_w - 1 - g.pad_right;
  return back;
}

// A thread's input gradient, dx = dy convolved back through w, chunk by
// chunk. With stride 1 it is itself a stride-1 convolution: dy zero-padded
// (padded_gradient), correlated with w flipped in both directions and
// transposed (O in, C out), written straight into dx: by the direct
// correlate_rows kernel where it has the shape (16 or 32 input channels),
// else one register tile per input row (sgemm_row_groups). Otherwise
// dcols = dy * w^T, added back onto dx by col2im.
class DataGradient {
 public:
  DataGradient(const Geometry& g, const float* w, int chunk)
      : g_(g), back_(padded_gradient(g)), mode_(choose(g, back_)), dy_pad_(t_dy_pad, back_, mode_ == Mode::Im2col ? 0 : 1) {
    const int K = static_cast<int>(g.patch()), O = g.out_c, C = g.in_c;
    if (mode_ == Mode::Im2col) {
      packed_ = t_weights.floats(packed_b_size(O, K));  // per thread, as in conv2d_forward
      pack_b(true, O, K, w, O, packed_);
      if (!g.is_pointwise()) cols_ = t_dcols.floats(static_cast<std::size_t>(chunk) * g.out_pixels() * K);
      return;
    }
    // flipped[kh][kw][o][c] = w[KH-1-kh][KW-1-kw][c][o]: the B of a product
    // whose K runs over (kh, kw, o).
    const int KO = g.k_h * g.k_w * O;
    float* flipped = t_flipped.floats(static_cast<std::size_t>(KO) * C);
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
      packed_ = t_weights.floats(packed_b_size(KO, C));
      pack_b_segments(false, KO, g.k_h, C, flipped, C, packed_);
      // not t_offsets: a FilterGradient may hold that one
      offsets_ = kernel_row_offsets(t_dy_offsets, g.k_h, static_cast<long>(dy_pad_.width) * O);
    }
  }

  // dx of images [0, count) (overwritten) from their dy.
  void compute(float* dx, const float* dy, long count) {
    const Geometry& g = g_;
    const int K = static_cast<int>(g.patch()), O = g.out_c, C = g.in_c;
    const long M = g.out_pixels();
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

 private:
  enum class Mode { Correlate, RowGroups, Im2col };

  static Mode choose(const Geometry& g, const Geometry& back) {
    const bool as_conv = g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() && back.pad_top >= 0 && back.pad_bottom >= 0 &&
                         back.pad_left >= 0 && back.pad_right >= 0;
    if (!as_conv) return Mode::Im2col;
    // correlate_rows with no rows only says whether it has the shape.
    if (g.in_c % kDirectBlock == 0 &&
        current_direct_conv().correlate_rows(nullptr, nullptr, 0, nullptr, 0, g.in_w, g.k_h, g.k_w, g.out_c, g.in_c / kDirectBlock)) {
      return Mode::Correlate;
    }
    return gemm_row_groups_apply(g.in_w, g.in_c) ? Mode::RowGroups : Mode::Im2col;
  }

  const Geometry& g_;
  Geometry back_;
  Mode mode_;
  PaddedImages dy_pad_;  // one padded dy (Correlate, RowGroups)
  float* flipped_ = nullptr;
  float* packed_ = nullptr;
  float* cols_ = nullptr;
  long* offsets_ = nullptr;
};

}  // namespace

// Where row groups do not apply (AVX2, generic; wider rows): whether
// conv2d_forward's implicit product over whole padded rows (no im2col) pays
// for the output rows it computes over the padding: stride 1, pooling
// windows that tile, and at least 80% of the micro-kernel's row tiles on
// real pixels (conv2 of mnist-3layer, 14x14: 86%; its 7x7 conv3: 68%, left
// to im2col).
static bool implicit_gemm_pays(const Geometry& g, const Geometry& pg) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise() || !pool_windows_tile(pg)) return false;
  // One K block, so that the sums are those of the im2col product (kept outputs).
  if (!gemm_single_k_block(static_cast<int>(g.patch()))) return false;
  const long pw = g.in_w + g.pad_left + g.pad_right;
  const long rows = (g.out_h - 1) * pw + g.out_w;
  const long mr = current_gemm_kernel().mr;
  const long tiles = (rows + mr - 1) / mr;
  return 5 * g.out_pixels() >= 4 * tiles * mr;
}

// Whether conv2d_forward runs one register tile per output row, its patches
// read in place from the padded image (no im2col, no edge tiles): stride 1
// and an output row the ISA has a tile for (AVX-512: 4 to 14 pixels).
static bool row_groups_apply(const Geometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && !g.is_pointwise() && gemm_row_groups_apply(g.out_w, g.out_c);
}

void conv2d_forward_images(long n0, long n1, float* y, const float* x, const float* w, const float* b, const Geometry& g,
                           bool relu, float* pooled, const Geometry* pg, uint8_t* cells) {
  // Images [n, n + count) just computed into out, pooled.
  auto pool = [&](const float* out, long n, long count) {
    if (!pooled) return;
    for (long i = 0; i < count; ++i) {
      const long at = (n + i) * pg->out_image();
      if (cells) max_pool2d_forward_cells_image(pooled + at, cells + at, out + i * g.out_image(), *pg);
      else max_pool2d_forward_image(pooled + at, out + i * g.out_image(), *pg);
    }
  };
  const bool keep = y != nullptr;
  const int M = static_cast<int>(g.out_pixels());
  const int K = static_cast<int>(g.patch());
  const int O = g.out_c;
  if (pooled && !keep && relu && direct_conv_pool_applies(g, *pg)) {
    // The first layer's output is the largest of a network (28x28x16 floats
    // an image): pooled in registers, it never goes through memory.
    const DirectConvForwardPool direct_pool = current_direct_conv().forward_pool;
    PaddedImages xpad(t_columns, g);
    for (long n = n0; n < n1; ++n) {
      const long at = n * pg->out_image();
      direct_pool(pooled + at, cells ? cells + at : nullptr, xpad.load(x + n * g.in_image(), g), w, b, g, xpad.width, *pg);
    }
    return;
  }
  if (direct_conv_applies(g)) {
    const DirectConvForward direct = current_direct_conv().forward;
    PaddedImages xpad(t_columns, g);
    float* own = keep ? nullptr : t_out.floats(g.out_image());
    for (long n = n0; n < n1; ++n) {
      float* out = keep ? y + n * g.out_image() : own;
      direct(out, xpad.load(x + n * g.in_image(), g), w, b, g, xpad.width, relu);
      pool(out, n, 1);
    }
    return;
  }
  if (row_groups_apply(g)) {
    const long pw = g.in_w + g.pad_left + g.pad_right;
    float* packed_w = t_weights.floats(packed_b_size(K, O));  // per thread, see below
    pack_b_segments(false, K, g.k_h, O, w, O, packed_w);
    const long* offsets = kernel_row_offsets(t_offsets, g.k_h, pw * g.in_c);
    PaddedImages xpad(t_pad, g);
    float* own = keep ? nullptr : t_out.floats(g.out_image());
    for (long n = n0; n < n1; ++n) {
      float* out = keep ? y + n * g.out_image() : own;
      sgemm_row_groups(g.out_h, g.out_w, pw * g.in_c, O, K, g.k_h, offsets, xpad.load(x + n * g.in_image(), g), g.in_c,
                       packed_w, out, O, b, relu);
      pool(out, n, 1);
    }
    return;
  }
  if (pooled && !keep && implicit_gemm_pays(g, *pg)) {
    // No im2col: each output pixel's patch is KH runs of KW*C floats in the
    // padded image, so the product reads them there (one K segment per
    // kernel row). Rows run over the padded width, the pw - OW extra columns
    // of each row are computed and never pooled.
    const int pw = g.in_w + g.pad_left + g.pad_right;
    const int C = g.in_c;
    const int rows = (g.out_h - 1) * pw + g.out_w;
    Geometry grid = *pg;  // the pool, reading the output rows at the padded pitch
    grid.in_w = pw;
    float* packed_w = t_weights.floats(packed_b_size(K, O));
    pack_b_segments(false, K, g.k_h, O, w, O, packed_w);
    const long* offsets = kernel_row_offsets(t_offsets, g.k_h, static_cast<long>(pw) * C);
    float* out = t_out.floats(static_cast<std::size_t>(g.out_h) * pw * O);
    PaddedImages xpad(t_pad, g);
    for (long n = n0; n < n1; ++n) {
      const float* xp = xpad.load(x + n * g.in_image(), g);
      sgemm_segments(false, rows, O, K, g.k_h, offsets, xp, C, packed_w, out, O, false, b, relu);
      const long at = n * pg->out_image();
      if (cells) max_pool2d_forward_cells_image(pooled + at, cells + at, out, grid);
      else max_pool2d_forward_image(pooled + at, out, grid);
    }
    return;
  }
  const int chunk = images_per_chunk(g);
  // The weights are the B matrix of every image's product: each thread
  // packs its own copy once, so that no thread reads what another wrote
  // (a cache line from the other core costs more than packing it again).
  float* packed_w = t_weights.floats(packed_b_size(K, O));
  pack_b(false, K, O, w, O, packed_w);
  float* cols = g.is_pointwise() ? nullptr : t_columns.floats(static_cast<std::size_t>(chunk) * M * K);
  float* own = keep ? nullptr : t_out.floats(static_cast<std::size_t>(chunk) * g.out_image());
  for (long n = n0; n < n1; n += chunk) {
    const long count = std::min<long>(chunk, n1 - n);
    const long rows = count * M;
    float* out = keep ? y + n * g.out_image() : own;
    if (cols) {
      for (long i = 0; i < count; ++i) im2col(cols + i * M * K, x + (n + i) * g.in_image(), g);
    }
    sgemm_packed(false, static_cast<int>(rows), O, K, cols ? cols : x + n * g.in_image(), K, packed_w, out, O, false, b, relu);
    pool(out, n, count);
  }
}

void conv2d_forward(float* y, const float* x, const float* w, const float* b, const Geometry& g, bool relu,
                    float* pooled, const Geometry* pg, uint8_t* cells) {
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * g.out_c;
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int) {
    conv2d_forward_images(n0, n1, y, x, w, b, g, relu, pooled, pg, cells);
  });
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const Geometry& g) {
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * g.out_c;
  const int chunk = images_per_chunk(g);
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int) {
    DataGradient data_gradient(g, w, chunk);
    for (long n = n0; n < n1; n += chunk) {
      data_gradient.compute(dx + n * g.in_image(), dy + n * g.out_image(), std::min<long>(chunk, n1 - n));
    }
  });
}

void conv2d_backward_filter(float* dw, float* db, const float* dy, const float* x, const Geometry& g) {
  const int M = static_cast<int>(g.out_pixels());
  const int K = static_cast<int>(g.patch());
  const int O = g.out_c;
  const long weights = static_cast<long>(K) * O;
  const long flops = 2L * g.batch * M * K * O;
  const int team = parallel_team(g.batch, flops);
  // Each thread sums its images into its own slice; the slices are then
  // added in thread order, so the result depends only on the thread count.
  float* partials = team > 1 ? t_partials.floats(static_cast<std::size_t>(team) * weights) : dw;
  if (g.batch == 0) std::memset(dw, 0, sizeof(float) * weights);  // no thread runs
  const int chunk = images_per_chunk(g);
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int t) {
    float* mine = partials + static_cast<long>(t) * weights;
    std::memset(mine, 0, sizeof(float) * weights);  // by the thread that adds to it, as in conv2d_relu_pool_backward
    FilterGradient filter(g, chunk);
    for (long n = n0; n < n1; n += chunk) {
      filter.add(mine, dy + n * g.out_image(), x + n * g.in_image(), std::min<long>(chunk, n1 - n));
    }
  });
  if (team > 1) sum_partials(dw, partials, team, weights);
  if (db) column_sums(db, dy, static_cast<long>(g.batch) * M, O);
}

void conv2d_relu_pool_backward_images(long n0, long n1, float* dw_part, double* db_part, float* dx, const float* d_pooled,
                                      const float* x, const float* w, const float* pooled, const uint8_t* cells,
                                      const Geometry& g, const Geometry& pg) {
  const int O = g.out_c;
  const int chunk = images_per_chunk(g);
  float* dconv = t_grad.floats(static_cast<std::size_t>(chunk) * g.out_image());
  float* chunk_sum = t_channel_sums.floats(static_cast<std::size_t>(O));
  FilterGradient filter_gradient(g, chunk);
  std::optional<DataGradient> data_gradient;
  if (dx) data_gradient.emplace(g, w, chunk);
  for (long n = n0; n < n1; n += chunk) {
    const long count = std::min<long>(chunk, n1 - n);
    // The bias gradient comes out of the pool backward: a float sum over
    // this chunk's images, then into the thread's double total.
    for (int o = 0; o < O; ++o) chunk_sum[o] = 0.0f;
    for (long i = 0; i < count; ++i) {
      const long at = (n + i) * pg.out_image();
      max_pool2d_backward_cells_image(dconv + i * g.out_image(), d_pooled + at, pooled + at, cells + at, pg, true, chunk_sum);
    }
    for (int o = 0; o < O; ++o) db_part[o] += chunk_sum[o];
    filter_gradient.add(dw_part, dconv, x + n * g.in_image(), count);
    if (dx) data_gradient->compute(dx + n * g.in_image(), dconv, count);
  }
}

void conv2d_relu_pool_backward(float* dx, float* dw, float* db, const float* d_pooled, const float* x, const float* w,
                               const float* pooled, const uint8_t* cells, const Geometry& g, const Geometry& pg) {
  const long weights = g.patch() * g.out_c;
  const int O = g.out_c;
  const long flops = 2L * g.batch * g.out_pixels() * g.patch() * O * (dx ? 2 : 1);
  const int team = parallel_team(g.batch, flops);
  // Per-thread partial sums of dw and db, added in thread order afterwards.
  float* partials = t_partials.floats(static_cast<std::size_t>(team) * weights);
  float* db_partials = t_db.floats(static_cast<std::size_t>(team) * O * 2);  // doubles, as floats x2
  if (g.batch == 0) {  // no thread runs: the sums below read zeros
    std::memset(partials, 0, sizeof(float) * team * weights);
    std::memset(db_partials, 0, sizeof(float) * team * O * 2);
  }
  parallel_chunks(g.batch, flops, [&](long n0, long n1, int t) {
    float* mine = partials + static_cast<long>(t) * weights;
    double* db_mine = reinterpret_cast<double*>(db_partials) + static_cast<long>(t) * O;
    std::memset(mine, 0, sizeof(float) * weights);  // by the thread that adds to it: the lines stay in its cache
    std::fill(db_mine, db_mine + O, 0.0);
    conv2d_relu_pool_backward_images(n0, n1, mine, db_mine, dx, d_pooled, x, w, pooled, cells, g, pg);
  });
  sum_partials(dw, partials, team, weights);
  if (db) sum_partials(db, reinterpret_cast<const double*>(db_partials), team, O);
}

}  // namespace convkit
