// AVX2+FMA 6x16 micro-kernel: 12 ymm accumulators, two B vectors, one
// broadcast of A per row; tiles 8 columns wide or less use one B vector.
// Compiled with -mavx2 -mfma only in this file.
#include <immintrin.h>

#include "kernels/gemm/gemm.h"

namespace convkit {

namespace {

constexpr int MR = 6;
constexpr int NR = 16;

// kRows: A(i, p) = a[i * lda + p], else a[p * lda + i]. kFull: all MR rows
// are valid; otherwise rows past t.rows repeat the last valid one (so that
// nothing outside A is read) and are not stored. NV: B vectors of 8 used.
template <bool kRows, bool kFull, int NV>
void tile_6x16(const GemmTile& t) {
  __m256 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  const long lda = t.lda;
  const long row_step = kRows ? lda : 1;
  long offset[MR];
  for (int i = 0; i < MR; ++i) offset[i] = (kFull || i < t.rows ? i : t.rows - 1) * row_step;
  const float* b = t.b;
  for (int s = 0; s < t.segments; ++s) {
    const float* a = t.a + t.segment_offsets[s];
    for (int p = 0; p < t.k; ++p) {
      __m256 bv[NV];
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(kFull ? a + i * row_step : a + offset[i]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
      }
      a += kRows ? 1 : lda;
      b += NR;
    }
  }
  if (kFull && t.cols == 8 * NV) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 bias[NV];
    for (int v = 0; v < NV; ++v) bias[v] = t.bias ? _mm256_loadu_ps(t.bias + 8 * v) : zero;
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float* ci = t.c + i * t.ldc;
      for (int v = 0; v < NV; ++v) {
        __m256 r = acc[i][v];
        if (t.accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(ci + 8 * v));
        if (t.bias) r = _mm256_add_ps(r, bias[v]);
        if (t.relu) r = _mm256_max_ps(zero, r);  // NaN (the second operand) passes, as in PyTorch
        _mm256_storeu_ps(ci + 8 * v, r);
      }
    }
    return;
  }
  alignas(32) float whole[MR * NR];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm256_store_ps(whole + i * NR + 8 * v, acc[i][v]);
  gemm_store_partial(t, whole, NR);
}

template <bool kRows>
void run_6x16(const GemmTile& t) {
  const bool narrow = t.cols <= 8;
  if (t.rows == MR) {
    if (narrow) tile_6x16<kRows, true, 1>(t);
    else tile_6x16<kRows, true, 2>(t);
  } else {
    if (narrow) tile_6x16<kRows, false, 1>(t);
    else tile_6x16<kRows, false, 2>(t);
  }
}

}  // namespace

GemmKernel gemm_kernel_avx2() { return {MR, NR, run_6x16<true>, run_6x16<false>, no_row_groups, "avx2_6x16"}; }

}  // namespace convkit

// The direct convolution, pooling and im2col kernels, compiled with this file's flags.
#define CONVKIT_ISA avx2
#define CONVKIT_ISA_ENUM Isa::Avx2
#include "kernels/isa/isa_tables.h"
