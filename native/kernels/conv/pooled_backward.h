// The backward of a stride-1 convolution followed by ReLU and a max-pool
// whose windows tile the output (stride = window): the convolution's output
// gradient is zero except at each window's winning cell, so the weight and
// input gradients are sums over the pooled gradient's entries, one per
// window and output channel, instead of over every output pixel. With 2x2
// windows that is a quarter of the dense products' multiplies, and the sums
// are direct ones (each a sum of the same nonzero products as the dense
// product's, in another order): no transform, no rounding beyond a direct
// sum's, a weight that reads only zeros keeps an exactly zero gradient.
//
// An image's entries are listed once (PooledEntries::gather), by output
// channel in window order; both kernels walk them 16 input channels at a
// time (one AVX-512 register), the weight gradient with each tap's sum in a
// register, the input gradient with each tap's weights. The weight
// gradient comes out transposed, [KH, KW, O, C], so that those sums store
// whole vectors; a team's partial sums are put back in place as they are
// added (sum_transposed_partials).
#pragma once

#include <cstdint>

#include "kernels/common/geometry.h"
#include "kernels/common/scratch.h"

namespace convkit {

// Whether conv g followed by pool pg takes this backward: stride 1, a
// kernel of at most 5x5, input channels a multiple of 16, and pool windows
// that tile g's whole output (pool_windows_tile) with at most 4 cells.
bool pooled_backward_applies(const Geometry& g, const Geometry& pg);

// One image's nonzero convolution-output gradients: d_pooled at each
// window's recorded cell, where the pooled value is > 0 (the ReLU passed).
struct PooledEntries {
  // By output channel o, in window order: by_channel_count[o] entries,
  // entry k at [o * windows + k]: the convolution-output pixel, as the
  // pixel oy * padded_w + ox of the padded input (where its taps' patch
  // starts), and its gradient.
  int* by_channel_count = nullptr;
  int* by_channel_pixel = nullptr;
  float* by_channel_value = nullptr;
  // cell_pixel[w * cells + k]: the padded pixel, as above, of window w's cell k.
  int* cell_pixel = nullptr;
  int windows = 0, cells = 0;

  // padded_w: the width of the layer's input padded by its padding.
  void prepare(Scratch& ints, Scratch& floats, const Geometry& g, const Geometry& pg, int padded_w);
  // Lists one image's entries (d_pooled, pooled and cells point at its
  // pooled outputs) and adds each channel's sum of them, in window order,
  // to channel_sums (the bias gradient, as max_pool2d_backward_cells_image sums it).
  void gather(const float* d_pooled, const float* pooled, const uint8_t* cells, const Geometry& g, float* channel_sums);
};

struct PooledBackwardKernels {
  // PooledEntries::gather, vectorised.
  void (*gather)(PooledEntries& entries, const float* d_pooled, const float* pooled, const uint8_t* cells,
                 const Geometry& g, float* channel_sums);
  // One image's weight gradient, transposed: dw_t[(tap * O + o) * C + c] +=
  // the sum over o's entries of value * xpad at the entry's pixel shifted
  // by tap (= kh * KW + kw); xpad is the layer's input zero-padded by its
  // own padding, rows padded_w pixels wide. Each (tap, o) is summed from
  // zero and added once.
  void (*filter)(float* dw_t, const float* xpad, int padded_w, const PooledEntries& entries, const Geometry& g);
  // One image's input gradient into dx_pad (zeroed by the caller), the
  // layer's input padded as xpad: dx_pad at each entry's pixel shifted by
  // tap += value * w_t[(tap * O + o) * C + c], w_t the filter transposed.
  void (*data)(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& entries, const Geometry& g);
};

PooledBackwardKernels pooled_backward_generic();
PooledBackwardKernels pooled_backward_avx2();
PooledBackwardKernels pooled_backward_avx512();
const PooledBackwardKernels& current_pooled_backward();

// w_t[(tap * O + o) * C + c] = w[(tap * C + c) * O + o]: a filter [KH, KW, C, O] as the kernels read it.
void transpose_filter(float* w_t, const float* w, const Geometry& g);

// The sum in part order of `parts` transposed weight gradients (dw_t
// layout, n floats apart), at their flat indices [j0, j1), written to dw
// where those weights lie: a team's partial sums, added as sum_partials adds
// them (a range of the parts, like sum_partials', so that a team can split the work).
void sum_transposed_partials(float* dw, const float* parts, int count, long n, const Geometry& g, long j0, long j1);

}  // namespace convkit
