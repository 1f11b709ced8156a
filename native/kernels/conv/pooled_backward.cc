#include "kernels/conv/pooled_backward.h"

#include <cstring>

#include "kernels/isa/kernel_table.h"
#include "kernels/pool/pool.h"

namespace convkit {

bool pooled_backward_applies(const Geometry& g, const Geometry& pg) {
  const bool conv = g.stride_h == 1 && g.stride_w == 1 && g.k_h == g.k_w && g.k_h >= 1 && g.k_h <= 5 && g.in_c > 0 &&
                    g.in_c % 16 == 0 && g.out_c > 0 && !g.is_pointwise();
  const bool pool = pool_windows_tile(pg) && pg.k_h * pg.k_w <= 4 && pg.in_h == g.out_h && pg.in_w == g.out_w &&
                    pg.in_c == g.out_c && pg.out_c == g.out_c && pg.out_h > 0 && pg.out_w > 0;
  return conv && pool;
}

void PooledEntries::prepare(Scratch& ints, Scratch& floats, const Geometry& g, const Geometry& pg, int padded_w,
                            bool by_cell) {
  const int O = g.out_c;
  windows = pg.out_h * pg.out_w;
  cells = pg.k_h * pg.k_w;
  by_cell_ = by_cell;
  const long slots = static_cast<long>(windows) * cells;
  // Ints: channel counts, channel pixels, cell pixels, then (by_cell) cell counts and channels.
  const long int_count = O + static_cast<long>(O) * windows + slots + (by_cell ? slots + slots * O : 0);
  int* at = reinterpret_cast<int*>(ints.floats(static_cast<std::size_t>(int_count)));
  by_channel_count = at;
  by_channel_pixel = at + O;
  by_cell_pixel = by_channel_pixel + static_cast<long>(O) * windows;
  by_cell_count = by_cell ? by_cell_pixel + slots : nullptr;
  by_cell_channel = by_cell ? by_cell_count + slots : nullptr;
  float* values = floats.floats(static_cast<std::size_t>(O) * windows + (by_cell ? slots * O : 0));
  by_channel_value = values;
  by_cell_value = by_cell ? values + static_cast<long>(O) * windows : nullptr;
  for (int w = 0; w < windows; ++w) {
    const int py = w / pg.out_w, px = w % pg.out_w;
    for (int k = 0; k < cells; ++k) {
      const int oy = py * pg.stride_h + k / pg.k_w, ox = px * pg.stride_w + k % pg.k_w;
      by_cell_pixel[w * cells + k] = oy * padded_w + ox;
    }
  }
}

void PooledEntries::gather(const float* d_pooled, const float* pooled, const uint8_t* cell_of, const Geometry& g,
                           const Geometry& pg, float* channel_sums) {
  const int O = g.out_c;
  std::memset(by_channel_count, 0, sizeof(int) * O);
  if (by_cell_) std::memset(by_cell_count, 0, sizeof(int) * windows * cells);
  for (int w = 0; w < windows; ++w) {
    const long row = static_cast<long>(w) * O;
    for (int o = 0; o < O; ++o) {
      const int cell = cell_of[row + o];
      // The ReLU passed where the window's maximum is > 0; a cell outside
      // the window (only in a forged buffer) routes nothing.
      if (cell >= cells || !(pooled[row + o] > 0.0f)) continue;
      const float v = d_pooled[row + o];
      channel_sums[o] += v;
      if (v == 0.0f) continue;  // adds only zero products
      const int slot = w * cells + cell;
      const int k = by_channel_count[o]++;
      by_channel_pixel[static_cast<long>(o) * windows + k] = by_cell_pixel[slot];
      by_channel_value[static_cast<long>(o) * windows + k] = v;
      if (by_cell_) {
        const int j = by_cell_count[slot]++;
        by_cell_channel[static_cast<long>(slot) * O + j] = o;
        by_cell_value[static_cast<long>(slot) * O + j] = v;
      }
    }
  }
}

const PooledBackwardKernels& current_pooled_backward() { return kernels().pooled_backward; }

void transpose_filter(float* w_t, const float* w, const Geometry& g) {
  const int C = g.in_c, O = g.out_c, taps = g.k_h * g.k_w;
  for (int t = 0; t < taps; ++t) {
    const float* from = w + static_cast<long>(t) * C * O;
    float* to = w_t + static_cast<long>(t) * O * C;
    for (int c = 0; c < C; ++c)
      for (int o = 0; o < O; ++o) to[static_cast<long>(o) * C + c] = from[static_cast<long>(c) * O + o];
  }
}

void sum_transposed_partials(float* dw, const float* parts, int count, long n, const Geometry& g, long j0, long j1) {
  const long C = g.in_c, O = g.out_c;
  for (long j = j0; j < j1; ++j) {
    const long tap = j / (O * C), o = (j / C) % O, c = j % C;
    float sum = parts[j];
    for (int p = 1; p < count; ++p) sum += parts[p * n + j];
    dw[(tap * C + c) * O + o] = sum;
  }
}

}  // namespace convkit
