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

void PooledEntries::prepare(Scratch& ints, Scratch& floats, const Geometry& g, const Geometry& pg, int padded_w) {
  const int O = g.out_c;
  windows = pg.out_h * pg.out_w;
  cells = pg.k_h * pg.k_w;
  int* at = reinterpret_cast<int*>(ints.floats(static_cast<std::size_t>(O) * (windows + 1) + windows * cells));
  by_channel_count = at;
  by_channel_pixel = at + O;
  cell_pixel = by_channel_pixel + static_cast<long>(O) * windows;
  by_channel_value = floats.floats(static_cast<std::size_t>(O) * windows);
  for (int w = 0; w < windows; ++w) {
    const int py = w / pg.out_w, px = w % pg.out_w;
    for (int k = 0; k < cells; ++k) {
      const int oy = py * pg.stride_h + k / pg.k_w, ox = px * pg.stride_w + k % pg.k_w;
      cell_pixel[w * cells + k] = oy * padded_w + ox;
    }
  }
}

void PooledEntries::gather(const float* d_pooled, const float* pooled, const uint8_t* cells_of, const Geometry& g,
                           float* channel_sums) {
  current_pooled_backward().gather(*this, d_pooled, pooled, cells_of, g, channel_sums);
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
