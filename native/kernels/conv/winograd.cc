#include "kernels/conv/winograd.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "kernels/conv/patches.h"
#include "kernels/gemm/gemm.h"

namespace convkit {

namespace {

std::atomic<int> g_algorithm{static_cast<int>(ConvAlgorithm::Auto)};

// Floats of tiles and products a product over several images may hold: the
// transformed inputs and the products stay in L2 (1 MB a core here) for the
// output transform that reads them back.
constexpr long kChunkFloats = 96 * 1024;

int tiles_of(int out) { return (out + 1) / 2; }

// The geometry whose padding makes the padded image exactly cover the
// tiles: 2 * tiles + R - 1 rows and columns, the rows and columns past the
// convolution's own padding zeros too.
Geometry tile_padding(const Geometry& g) {
  Geometry p = g;
  p.pad_bottom = 2 * tiles_of(g.out_h) + g.k_h - 1 - g.in_h - g.pad_top;
  p.pad_right = 2 * tiles_of(g.out_w) + g.k_w - 1 - g.in_w - g.pad_left;
  return p;
}

const WinogradTransforms& transforms(int R) { return R == 5 ? current_winograd().f5 : current_winograd().f3; }

}  // namespace

void set_conv_algorithm(ConvAlgorithm algorithm) { g_algorithm.store(static_cast<int>(algorithm), std::memory_order_relaxed); }
ConvAlgorithm conv_algorithm() { return static_cast<ConvAlgorithm>(g_algorithm.load(std::memory_order_relaxed)); }

const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  switch (algorithm) {
    case ConvAlgorithm::Fast: return "fast";
    case ConvAlgorithm::Direct: return "direct";
    case ConvAlgorithm::Winograd: return "winograd";
    default: return "auto";
  }
}

bool parse_conv_algorithm(const char* name, ConvAlgorithm* out) {
  for (ConvAlgorithm a : {ConvAlgorithm::Auto, ConvAlgorithm::Fast, ConvAlgorithm::Direct, ConvAlgorithm::Winograd}) {
    if (std::strcmp(name, conv_algorithm_name(a)) == 0) {
      *out = a;
      return true;
    }
  }
  return false;
}

bool winograd_applies(const Geometry& g) {
  const int R = g.k_h;
  if (g.k_w != R || (R != 3 && R != 5)) return false;
  auto pad_fits = [&](int pad) { return pad >= 0 && pad <= R - 1; };
  return g.stride_h == 1 && g.stride_w == 1 && pad_fits(g.pad_top) && pad_fits(g.pad_bottom) && pad_fits(g.pad_left) &&
         pad_fits(g.pad_right) && g.out_h > 0 && g.out_w > 0 && g.in_c > 0 && g.out_c > 0;
}

bool use_winograd(const Geometry& g, ConvPass pass) {
  if (!winograd_applies(g)) return false;
  const ConvAlgorithm algorithm = conv_algorithm();
  if (algorithm == ConvAlgorithm::Direct || algorithm == ConvAlgorithm::Winograd) return algorithm == ConvAlgorithm::Winograd;
  // The table, from the chain's training pass and inference measured both
  // ways (AVX-512, 2 threads; bench/README.md, "Winograd convolutions").
  // Img/s, batch 32 unless said:
  //   mnist-3layer inference b256: +6%; training with conv2's weight gradient too: +3%;
  //   mnist-gap: direct 10,900; forward and input gradient 12,200; with the
  //     weight gradients too, 14,100;
  //   mnist-2layer (5x5): direct 21,600; forward 22,800; forward and input gradient 23,300.
  // Per pass, 1 thread, us an image (direct / Winograd):
  //   3x3 conv2 14x14x16 -> 32: forward 9.1 / 7.6; input gradient: 16 output
  //     channels make half-wide product tiles, slower in the chain (direct);
  //   3x3 conv3 7x7x32 -> 64: forward 9.2 / 8.4; input gradient 8.8 / 9.1:
  //     16 tiles an image (7x7 rounded up to 8x8) do not pay for the transforms;
  //   5x5 conv2 14x14x16 -> 32: forward 23.6 / 17.9, input gradient 23.9 / 19.6
  //     (a 5x5 tap costs the direct kernel 2.8x the multiplies).
  // The weight gradient stays direct although faster where it has 49 tiles
  // or more (3x3 conv2: 10.8 / 8.9; 5x5 conv2: 26.1 / 18.0, mnist-2layer
  // training +9%): its transforms turn a weight gradient that is exactly
  // zero (a tap that only ever reads zeros) into rounding noise of its other
  // taps' size, and Adam's first step, g / (|g| + eps), moves such a weight
  // by up to its learning rate where the direct sum leaves it (the
  // self-test's Adam step: mnist-3layer and xray-binary with 3x3, mnist-2layer
  // with 5x5, 262 times its tolerance). CONVKIT_CONV=fast takes it where it
  // measured faster (49 tiles or more; conv3's 16 lost), winograd everywhere.
  // Keeping those zeros exact was tried: a per-image mask of the taps with a
  // nonzero product (dy != 0 where the tap reads x != 0), the update skipped
  // elsewhere. The self-test then passed under every ISA and thread count,
  // but the mask and the masked update cost what the transforms save
  // (mnist-2layer, mnist-3layer, mnist-gap: within 3% of direct, 2 threads).
  // A mask over the whole batch (cheap) kept every zero, yet the self-test
  // still failed: some gradients are tiny but not zero (-1.1e-11 against a
  // largest of 4.0) and the transforms' rounding (1.6e-9) swamps them. No
  // mask makes it exact; blocks followed by ReLU and a max-pool take the
  // pooled backward (pooled_backward.h) instead, 4x fewer multiplies and direct sums.
  // Fewer than 16 channels (a first layer) leave the transforms most of the work.
  const long tiles = static_cast<long>(tiles_of(g.out_h)) * tiles_of(g.out_w);
  const bool channels = g.in_c >= 16 && g.out_c >= 16;
  switch (pass) {
    case ConvPass::Forward: return channels;
    case ConvPass::WeightGradient: return algorithm == ConvAlgorithm::Fast && channels && tiles >= 49;  // see above
    // 16 channels on 256 tiles or more (ResNet's 32x32 first stage) pay for the transforms, measured on AVX2
    // (2 threads, batch 128): direct 29 GFLOP/s, Winograd 88; mnist's 14x14 (49 tiles) stays direct as above.
    case ConvPass::InputGradient: return channels && tiles >= 49 && (g.k_h == 5 || g.in_c >= 32 || tiles >= 256);
  }
  return false;
}

WinogradConv::WinogradConv(WinogradScratch& scratch, const Geometry& layer, const float* w, bool flip,
                           const Geometry* pooled_by)
    : g_(flip ? input_gradient_geometry(layer) : layer),
      padded_(tile_padding(g_)),
      points_(winograd_points(layer.k_h)),
      // Each pooling window is a tile (winograd_pools): the pool's windows are the tiles needed.
      tiles_h_(pooled_by ? pooled_by->out_h : tiles_of(g_.out_h)),
      tiles_w_(pooled_by ? pooled_by->out_w : tiles_of(g_.out_w)) {
  const int C = g_.in_c, O = g_.out_c;
  const long tiles = static_cast<long>(tiles_h_) * tiles_w_;
  const long per_image = tiles * points_ * (C + O);
  chunk_ = static_cast<int>(std::max(1L, kChunkFloats / per_image));
  // The transformed filters, one packed B per point (each thread its own, as
  // the direct kernels' weights): u[p][layer C][layer O]. With flip (the
  // filter turned by 180 degrees), point p's B is its transpose: K runs over the layer's O.
  float* u = scratch.products.floats(static_cast<std::size_t>(points_) * C * O);
  transforms(layer.k_h).filter(u, w, layer.in_c, layer.out_c, flip);
  packed_stride_ = packed_b_size(C, O);
  packed_u_ = scratch.weights.floats(static_cast<std::size_t>(points_ * packed_stride_));
  for (int p = 0; p < points_; ++p) {
    pack_b(flip, C, O, u + static_cast<long>(p) * C * O, flip ? C : O, packed_u_ + p * packed_stride_);
  }
  pad_w_ = padded_.in_w + padded_.pad_left + padded_.pad_right;
  const long pad_image = static_cast<long>(padded_.in_h + padded_.pad_top + padded_.pad_bottom) * pad_w_ * C;
  xpad_ = scratch.pad.floats(static_cast<std::size_t>(pad_image));
  std::memset(xpad_, 0, sizeof(float) * pad_image);
  tiles_ = scratch.tiles.floats(static_cast<std::size_t>(chunk_) * tiles * points_ * C);
  products_ = scratch.products.floats(static_cast<std::size_t>(chunk_) * tiles * points_ * O);
}

bool winograd_pools(const Geometry& g, const Geometry& pg) {
  return pg.k_h == 2 && pg.k_w == 2 && pg.stride_h == 2 && pg.stride_w == 2 && pg.pad_top == 0 && pg.pad_bottom == 0 &&
         pg.pad_left == 0 && pg.pad_right == 0 && pg.in_h == g.out_h && pg.in_w == g.out_w && pg.in_c == g.out_c &&
         pg.out_h == g.out_h / 2 && pg.out_w == g.out_w / 2 && pg.out_c == g.out_c;
}

template <class Output>
void WinogradConv::each_chunk(const float* x, long count, Output output) {
  const Geometry& g = g_;
  const int C = g.in_c, O = g.out_c;
  const long tiles = static_cast<long>(tiles_h_) * tiles_w_;
  const WinogradTransforms& k = transforms(g.k_h);
  for (long n = 0; n < count; n += chunk_) {
    const long images = std::min<long>(chunk_, count - n);
    // One product per point: rows are the tiles of every image in the chunk.
    const long rows = images * tiles;
    for (long i = 0; i < images; ++i) {
      current_patch_kernels().pad_interior(xpad_, x + (n + i) * g.in_image(), padded_, pad_w_);
      k.input(tiles_ + i * tiles * C, rows * C, xpad_, static_cast<long>(pad_w_) * C, tiles_h_, tiles_w_, C);
    }
    for (int p = 0; p < points_; ++p) {
      sgemm_packed(false, static_cast<int>(rows), O, C, tiles_ + p * rows * C, C, packed_u_ + p * packed_stride_,
                   products_ + p * rows * O, O, false);
    }
    for (long i = 0; i < images; ++i) output(k, n + i, products_ + i * tiles * O, rows * O);
  }
}

void WinogradConv::run(float* y, const float* x, long count, const float* b, bool relu) {
  const Geometry& g = g_;
  each_chunk(x, count, [&](const WinogradTransforms& k, long n, const float* m, long point_stride) {
    k.output(y + n * g.out_image(), m, point_stride, g.out_h, g.out_w, tiles_w_, g.out_c, b, relu);
  });
}

void WinogradConv::run_pooled(float* pooled, uint8_t* cells, const Geometry& pg, const float* x, long count,
                              const float* b, bool relu) {
  each_chunk(x, count, [&](const WinogradTransforms& k, long n, const float* m, long point_stride) {
    const long at = n * pg.out_image();
    k.output_pool(pooled + at, cells ? cells + at : nullptr, m, point_stride, pg.out_h, pg.out_w, tiles_w_, g_.out_c, b,
                  relu);
  });
}

WinogradFilter::WinogradFilter(WinogradScratch& scratch, const Geometry& g)
    : g_(g), padded_(tile_padding(g)), points_(winograd_points(g.k_h)), tiles_h_(tiles_of(g.out_h)),
      tiles_w_(tiles_of(g.out_w)) {
  const int C = g.in_c, O = g.out_c;
  const long tiles = static_cast<long>(tiles_h_) * tiles_w_;
  pad_w_ = padded_.in_w + padded_.pad_left + padded_.pad_right;
  const long pad_image = static_cast<long>(padded_.in_h + padded_.pad_top + padded_.pad_bottom) * pad_w_ * C;
  xpad_ = scratch.pad.floats(static_cast<std::size_t>(pad_image));
  std::memset(xpad_, 0, sizeof(float) * pad_image);
  tiles_ = scratch.tiles.floats(static_cast<std::size_t>(tiles) * points_ * C);
  gradients_ = scratch.gradients.floats(static_cast<std::size_t>(tiles) * points_ * O);
  packed_ = scratch.packed.floats(static_cast<std::size_t>(packed_b_size(static_cast<int>(tiles), O)));
  du_ = scratch.products.floats(static_cast<std::size_t>(points_) * C * O);
  image_dw_ = scratch.image_dw.floats(static_cast<std::size_t>(g.patch()) * O);
}

void WinogradFilter::add(float* dw, const float* dy, const float* x, long count) {
  const Geometry& g = g_;
  const int C = g.in_c, O = g.out_c;
  const int tiles = tiles_h_ * tiles_w_;
  const WinogradTransforms& k = transforms(g.k_h);
  // dM written as the products' packed B where the layout allows (no copy).
  const int sliver = packed_b_sliver(tiles, O);
  const long point = static_cast<long>(tiles) * O;
  for (long i = 0; i < count; ++i) {
    current_patch_kernels().pad_interior(xpad_, x + i * g.in_image(), padded_, pad_w_);
    k.input(tiles_, static_cast<long>(tiles) * C, xpad_, static_cast<long>(pad_w_) * C, tiles_h_, tiles_w_, C);
    k.gradient(gradients_, point, sliver ? sliver : O, dy + i * g.out_image(), g.out_h, g.out_w, tiles_h_, tiles_w_, O);
    // du[p] = V[p]^T dM[p]: C x O, summed over the image's tiles.
    for (int p = 0; p < points_; ++p) {
      const float* b = gradients_ + p * point;
      if (!sliver) {
        pack_b(false, tiles, O, b, O, packed_);
        b = packed_;
      }
      const float* a = tiles_ + static_cast<long>(p) * tiles * C;
      float* du = du_ + static_cast<long>(p) * C * O;
      sgemm_packed(true, C, O, tiles, a, C, b, du, O, false);
    }
    // One addition per weight per image, apart from the transform (filter_update).
    k.filter_update(image_dw_, du_, C, O);
    const long weights = g.patch() * O;
    for (long j = 0; j < weights; ++j) dw[j] += image_dw_[j];
  }
}

}  // namespace convkit
