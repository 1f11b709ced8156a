// The pooled backward's kernels (pooled_backward.h) as templates each ISA's
// translation unit compiles with its own flags (same internal-linkage rules
// as direct_conv_impl.h): 16 input channels at a time in a GCC vector, each
// tap's sum in a register. AVX-512 keeps every tap of the kernel in
// registers at once (25 for 5x5); the others one kernel row at a time.
#pragma once

#include "kernels/conv/pooled_backward.h"

namespace convkit {
namespace {
namespace pooled {

typedef float f16 __attribute__((vector_size(64), aligned(4)));

inline f16 loadf(const float* p) {
  f16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
inline void storef(float* p, f16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

// Kernel rows whose taps are summed in one sweep over the entries.
#if defined(__AVX512F__)
template <int R>
constexpr int kRowsAtOnce = R;
#else
template <int R>
constexpr int kRowsAtOnce = 1;
#endif

template <int R>
void filter(float* dw_t, const float* xpad, int padded_w, const PooledEntries& e, const Geometry& g) {
  constexpr int kRows = kRowsAtOnce<R>;
  const int C = g.in_c, O = g.out_c;
  const long row = static_cast<long>(padded_w) * C;
  for (int o = 0; o < O; ++o) {
    const int n = e.by_channel_count[o];
    if (n == 0) continue;  // its sums are zeros
    const int* pixel = e.by_channel_pixel + static_cast<long>(o) * e.windows;
    const float* value = e.by_channel_value + static_cast<long>(o) * e.windows;
    for (int cb = 0; cb < C; cb += 16) {
      for (int kh0 = 0; kh0 < R; kh0 += kRows) {
        f16 acc[kRows][R];
        for (int r = 0; r < kRows; ++r)
          for (int kw = 0; kw < R; ++kw) acc[r][kw] = f16{};
        for (int k = 0; k < n; ++k) {
          const f16 v = f16{} + value[k];
          const float* at = xpad + static_cast<long>(pixel[k]) * C + cb + kh0 * row;
#pragma GCC unroll 25
          for (int r = 0; r < kRows; ++r)
            for (int kw = 0; kw < R; ++kw) acc[r][kw] += v * loadf(at + r * row + kw * C);
        }
        for (int r = 0; r < kRows; ++r)
          for (int kw = 0; kw < R; ++kw) {
            float* to = dw_t + ((static_cast<long>(kh0 + r) * R + kw) * O + o) * C + cb;
            storef(to, loadf(to) + acc[r][kw]);
          }
      }
    }
  }
}

template <int R>
void data(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& e, const Geometry& g) {
  constexpr int kRows = kRowsAtOnce<R>;
  const int C = g.in_c, O = g.out_c;
  const long row = static_cast<long>(padded_w) * C;
  const long tap_stride = static_cast<long>(O) * C;
  const int slots = e.windows * e.cells;
  for (int s = 0; s < slots; ++s) {
    const int n = e.by_cell_count[s];
    if (n == 0) continue;
    const int* channel = e.by_cell_channel + static_cast<long>(s) * O;
    const float* value = e.by_cell_value + static_cast<long>(s) * O;
    for (int cb = 0; cb < C; cb += 16) {
      float* at = dx_pad + static_cast<long>(e.by_cell_pixel[s]) * C + cb;
      for (int kh0 = 0; kh0 < R; kh0 += kRows) {
        f16 acc[kRows][R];
        for (int r = 0; r < kRows; ++r)
          for (int kw = 0; kw < R; ++kw) acc[r][kw] = loadf(at + (kh0 + r) * row + kw * C);
        for (int i = 0; i < n; ++i) {
          const f16 v = f16{} + value[i];
          const float* w = w_t + static_cast<long>(channel[i]) * C + cb + kh0 * R * tap_stride;
#pragma GCC unroll 25
          for (int r = 0; r < kRows; ++r)
            for (int kw = 0; kw < R; ++kw) acc[r][kw] += v * loadf(w + (r * R + kw) * tap_stride);
        }
        for (int r = 0; r < kRows; ++r)
          for (int kw = 0; kw < R; ++kw) storef(at + (kh0 + r) * row + kw * C, acc[r][kw]);
      }
    }
  }
}

// The kernels by kernel size (pooled_backward_applies: 1 to 5).
inline void filter_any(float* dw_t, const float* xpad, int padded_w, const PooledEntries& e, const Geometry& g) {
  switch (g.k_h) {
    case 1: return filter<1>(dw_t, xpad, padded_w, e, g);
    case 2: return filter<2>(dw_t, xpad, padded_w, e, g);
    case 3: return filter<3>(dw_t, xpad, padded_w, e, g);
    case 4: return filter<4>(dw_t, xpad, padded_w, e, g);
    default: return filter<5>(dw_t, xpad, padded_w, e, g);
  }
}

inline void data_any(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& e, const Geometry& g) {
  switch (g.k_h) {
    case 1: return data<1>(dx_pad, padded_w, w_t, e, g);
    case 2: return data<2>(dx_pad, padded_w, w_t, e, g);
    case 3: return data<3>(dx_pad, padded_w, w_t, e, g);
    case 4: return data<4>(dx_pad, padded_w, w_t, e, g);
    default: return data<5>(dx_pad, padded_w, w_t, e, g);
  }
}

}  // namespace pooled
}  // namespace
}  // namespace convkit
