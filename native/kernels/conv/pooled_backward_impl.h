// The pooled backward's kernels (pooled_backward.h) as templates each ISA's
// translation unit compiles with its own flags (same internal-linkage rules
// as direct_conv_impl.h): 16 input channels at a time in a GCC vector, each
// tap's sum in a register. AVX-512 keeps every tap of the kernel in
// registers at once (25 for 5x5); the others one kernel row at a time.
// Both walk each output channel's entries: the weight gradient with its
// taps' sums in registers, the input gradient with its taps' weights.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "kernels/common/vec16.h"
#include "kernels/conv/pooled_backward.h"

namespace convkit {
namespace {
namespace pooled {

using namespace vec16;

// Bit i set where lane i of the mask (all ones or zero) is set.
inline uint32_t lane_bits(i16 mask) {
#if defined(__AVX512F__)
  __m512i m;
  __builtin_memcpy(&m, &mask, sizeof(m));
  return _mm512_cmpneq_epi32_mask(m, _mm512_setzero_si512());
#elif defined(__AVX2__)
  __m256 half[2];
  __builtin_memcpy(half, &mask, sizeof(half));
  return static_cast<uint32_t>(_mm256_movemask_ps(half[0])) | static_cast<uint32_t>(_mm256_movemask_ps(half[1])) << 8;
#else
  uint32_t bits = 0;
  for (int i = 0; i < 16; ++i) bits |= static_cast<uint32_t>(mask[i] != 0) << i;
  return bits;
#endif
}

// PooledEntries::gather, 16 channels at a time: the sums as vectors (each
// lane's in window order, as the scalar sum), the entries lane by lane.
inline void gather(PooledEntries& e, const float* d_pooled, const float* pooled, const uint8_t* cell_of, const Geometry& g,
                   float* channel_sums) {
  const int O = g.out_c;
  std::memset(e.by_channel_count, 0, sizeof(int) * O);
  auto add = [&](int o, int cell, float v, const int* cell_pixel) {
    const int k = e.by_channel_count[o]++;
    e.by_channel_pixel[static_cast<long>(o) * e.windows + k] = cell_pixel[cell];
    e.by_channel_value[static_cast<long>(o) * e.windows + k] = v;
  };
  for (int w = 0; w < e.windows; ++w) {
    const long row = static_cast<long>(w) * O;
    const int* cell_pixel = e.cell_pixel + w * e.cells;
    int o = 0;
    for (; o + 16 <= O; o += 16) {
      const i16 cell = load_cells(cell_of + row + o);
      const f16 v = loadf(d_pooled + row + o);
      // The ReLU passed where the window's maximum is > 0; a cell outside
      // the window (only in a forged buffer) routes nothing.
      const i16 pass = (cell < e.cells) & (loadf(pooled + row + o) > f16{});
      storef(channel_sums + o, loadf(channel_sums + o) + (pass ? v : f16{}));
      for (uint32_t bits = lane_bits(pass & (v != f16{})); bits != 0; bits &= bits - 1) {
        const int lane = __builtin_ctz(bits);
        add(o + lane, cell[lane], v[lane], cell_pixel);
      }
    }
    for (; o < O; ++o) {
      const int cell = cell_of[row + o];
      if (cell >= e.cells || !(pooled[row + o] > 0.0f)) continue;
      const float v = d_pooled[row + o];
      channel_sums[o] += v;
      if (v != 0.0f) add(o, cell, v, cell_pixel);  // a zero adds only zero products
    }
  }
}

// Kernel rows whose taps are kept in registers at once.
#if defined(__AVX512F__)
template <int R>
constexpr int kRowsAtOnce = R;
#else
template <int R>
constexpr int kRowsAtOnce = 1;
#endif

// The input's pixel stride in floats: CS when the kernel is compiled for
// it (16 or 32 channels: the taps' offsets become constants), else C.
template <int CS>
inline long pixel_stride(int C) {
  return CS > 0 ? CS : C;
}

template <int R, int CS>
void filter(float* dw_t, const float* xpad, int padded_w, const PooledEntries& e, const Geometry& g) {
  constexpr int kRows = kRowsAtOnce<R>;
  const int C = g.in_c, O = g.out_c;
  const long stride = pixel_stride<CS>(C), row = padded_w * stride;
  for (int o = 0; o < O; ++o) {
    const int n = e.by_channel_count[o];
    if (n == 0) continue;  // its sums are zeros
    const int* pixel = e.by_channel_pixel + static_cast<long>(o) * e.windows;
    const float* value = e.by_channel_value + static_cast<long>(o) * e.windows;
    for (int cb = 0; cb < C; cb += 16) {
      for (int kh0 = 0; kh0 < R; kh0 += kRows) {
        f16 acc[kRows][R];
#pragma GCC unroll 25
        for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 5
          for (int kw = 0; kw < R; ++kw) acc[r][kw] = f16{};
        for (int k = 0; k < n; ++k) {
          const f16 v = f16{} + value[k];
          const float* at = xpad + pixel[k] * stride + cb + kh0 * row;
#pragma GCC unroll 25
          for (int r = 0; r < kRows; ++r) {
            const float* in = at + r * row;
#pragma GCC unroll 5
            for (int kw = 0; kw < R; ++kw) acc[r][kw] += v * loadf(in + kw * stride);
          }
        }
#pragma GCC unroll 25
        for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 5
          for (int kw = 0; kw < R; ++kw) {
            float* to = dw_t + ((static_cast<long>(kh0 + r) * R + kw) * O + o) * C + cb;
            storef(to, loadf(to) + acc[r][kw]);
          }
      }
    }
  }
}

// Output channel by output channel: its taps' weights in registers, each
// entry's products added where its taps land in dx_pad. (The loops over
// channels, blocks and sweeps repeat filter's: through a shared helper
// taking a lambda, mnist-2layer's training measured 11% slower.)
template <int R, int CS>
void data(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& e, const Geometry& g) {
  constexpr int kRows = kRowsAtOnce<R>;
  const int C = g.in_c, O = g.out_c;
  const long stride = pixel_stride<CS>(C), row = padded_w * stride;
  const long tap_stride = static_cast<long>(O) * C;
  for (int o = 0; o < O; ++o) {
    const int n = e.by_channel_count[o];
    if (n == 0) continue;
    const int* pixel = e.by_channel_pixel + static_cast<long>(o) * e.windows;
    const float* value = e.by_channel_value + static_cast<long>(o) * e.windows;
    for (int cb = 0; cb < C; cb += 16) {
      for (int kh0 = 0; kh0 < R; kh0 += kRows) {
        f16 weights[kRows][R];
#pragma GCC unroll 25
        for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 5
          for (int kw = 0; kw < R; ++kw) weights[r][kw] = loadf(w_t + ((kh0 + r) * R + kw) * tap_stride + o * C + cb);
        for (int k = 0; k < n; ++k) {
          const f16 v = f16{} + value[k];
          float* at = dx_pad + pixel[k] * stride + cb + kh0 * row;
#pragma GCC unroll 25
          for (int r = 0; r < kRows; ++r) {
            float* out = at + r * row;
#pragma GCC unroll 5
            for (int kw = 0; kw < R; ++kw) storef(out + kw * stride, loadf(out + kw * stride) + v * weights[r][kw]);
          }
        }
      }
    }
  }
}

// The kernels by kernel size (pooled_backward_applies: 1 to 5) and pixel stride.
template <int CS>
inline void filter_r(float* dw_t, const float* xpad, int padded_w, const PooledEntries& e, const Geometry& g) {
  switch (g.k_h) {
    case 1: return filter<1, CS>(dw_t, xpad, padded_w, e, g);
    case 2: return filter<2, CS>(dw_t, xpad, padded_w, e, g);
    case 3: return filter<3, CS>(dw_t, xpad, padded_w, e, g);
    case 4: return filter<4, CS>(dw_t, xpad, padded_w, e, g);
    default: return filter<5, CS>(dw_t, xpad, padded_w, e, g);
  }
}

inline void filter_any(float* dw_t, const float* xpad, int padded_w, const PooledEntries& e, const Geometry& g) {
  if (g.in_c == 16) return filter_r<16>(dw_t, xpad, padded_w, e, g);
  if (g.in_c == 32) return filter_r<32>(dw_t, xpad, padded_w, e, g);
  filter_r<0>(dw_t, xpad, padded_w, e, g);
}

template <int CS>
inline void data_r(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& e, const Geometry& g) {
  switch (g.k_h) {
    case 1: return data<1, CS>(dx_pad, padded_w, w_t, e, g);
    case 2: return data<2, CS>(dx_pad, padded_w, w_t, e, g);
    case 3: return data<3, CS>(dx_pad, padded_w, w_t, e, g);
    case 4: return data<4, CS>(dx_pad, padded_w, w_t, e, g);
    default: return data<5, CS>(dx_pad, padded_w, w_t, e, g);
  }
}

inline void data_any(float* dx_pad, int padded_w, const float* w_t, const PooledEntries& e, const Geometry& g) {
  if (g.in_c == 16) return data_r<16>(dx_pad, padded_w, w_t, e, g);
  if (g.in_c == 32) return data_r<32>(dx_pad, padded_w, w_t, e, g);
  data_r<0>(dx_pad, padded_w, w_t, e, g);
}

}  // namespace pooled
}  // namespace
}  // namespace convkit
