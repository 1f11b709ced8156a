// AVX-512 12x32 micro-kernel: 24 zmm accumulators, two B vectors, A
// broadcast from memory into each FMA; tiles 16 columns wide or less use one
// B vector, and partial tiles are written with masked stores. Compiled with
// -mavx512f only in this file.
#include <immintrin.h>

// GCC 12 warns that _mm512_max_ps reads an undefined pass-through vector; it is never used.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/gemm/gemm.h"

namespace convkit {

namespace {

constexpr int MR = 12;
constexpr int NR = 32;

// The epilogue: C (+)= acc (+ bias) (then relu), the tile's valid rows;
// kMasked for tiles narrower than the vectors.
template <int kRowsInTile, bool kFull, int NV, bool kMasked>
inline void store_tile(const GemmTile& t, const __m512 (&acc)[kRowsInTile][NV]) {
  __mmask16 mask[NV];
  for (int v = 0; v < NV; ++v) {
    const int n = t.cols - 16 * v;
    mask[v] = !kMasked || n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
  }
  auto load = [&](const float* p, int v) { return kMasked ? _mm512_maskz_loadu_ps(mask[v], p) : _mm512_loadu_ps(p); };
  __m512 bias[NV];
  for (int v = 0; v < NV; ++v) bias[v] = t.bias ? load(t.bias + 16 * v, v) : _mm512_setzero_ps();
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < kRowsInTile; ++i) {
    if (!kFull && i >= t.rows) break;
    float* ci = t.c + i * t.ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 r = acc[i][v];
      if (t.accumulate) r = _mm512_add_ps(r, load(ci + 16 * v, v));
      if (t.bias) r = _mm512_add_ps(r, bias[v]);
      if (t.relu) r = _mm512_max_ps(zero, r);  // NaN (the second operand) passes, as in PyTorch
      if (kMasked) _mm512_mask_storeu_ps(ci + 16 * v, mask[v], r);
      else _mm512_storeu_ps(ci + 16 * v, r);
    }
  }
}

// An R-row tile. kRows: A(i, p) = a[i * lda + p], else a[p * lda + i].
// kFull: all R rows are valid; otherwise rows past t.rows repeat the last
// valid one (so that nothing outside A is read) and are not stored. NV: B
// vectors of 16 used; vectors 2 and 3 come from the next packed sliver of
// B (t.b_next on: row groups 64 wide).
template <int R, bool kRows, bool kFull, int NV>
void tile(const GemmTile& t) {
  __m512 acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const long lda = t.lda;
  const long row_step = kRows ? lda : 1;
  long offset[R];
  for (int i = 0; i < R; ++i) offset[i] = (kFull || i < t.rows ? i : t.rows - 1) * row_step;
  const float* b = t.b;
  for (int s = 0; s < t.segments; ++s) {
    const float* a = t.a + t.segment_offsets[s];
    for (int p = 0; p < t.k; ++p) {
      __m512 bv[NV];
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + (v < 2 ? 16 * v : t.b_next + 16 * (v - 2)));
#pragma GCC unroll 16
      for (int i = 0; i < R; ++i) {
        const __m512 ai = _mm512_set1_ps(kFull ? a[i * row_step] : a[offset[i]]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
      a += kRows ? 1 : lda;
      b += NR;
    }
  }
  if (t.cols >= 16 * NV) store_tile<R, kFull, NV, false>(t, acc);
  else store_tile<R, kFull, NV, true>(t, acc);
}

// A tile of 8 rows or fewer runs as 8 rows, or 4 when it has 4 or fewer: as
// 12 it would spend a third or more of its FMAs on repeated rows
// (mnist-2layer's weight gradient has 80 rows a kernel row: 6 tiles of 12
// and one of 8). Each row's sums are the same whatever the tile's height.
template <bool kRows>
void run_12x32(const GemmTile& t) {
  const bool narrow = t.cols <= 16;
  if (t.rows == MR) {
    if (narrow) tile<MR, kRows, true, 1>(t);
    else tile<MR, kRows, true, 2>(t);
  } else if (t.rows == 8) {
    if (narrow) tile<8, kRows, true, 1>(t);
    else tile<8, kRows, true, 2>(t);
  } else if (t.rows <= 4) {
    // A product of 49 rows (an image's Winograd tiles) ends in one.
    if (narrow) tile<4, kRows, false, 1>(t);
    else tile<4, kRows, false, 2>(t);
  } else if (t.rows < 8) {
    if (narrow) tile<8, kRows, false, 1>(t);
    else tile<8, kRows, false, 2>(t);
  } else {
    if (narrow) tile<MR, kRows, false, 1>(t);
    else tile<MR, kRows, false, 2>(t);
  }
}

// A row-group tile: R rows of row-major A, all valid.
template <int R, int NV>
void tile_group(const GemmTile& t) {
  tile<R, true, true, NV>(t);
}

// Row groups of 4 to 14 rows: 64 columns wide up to 7 rows (28
// accumulators), 32 wide otherwise, 16 for the last 16 or fewer.
RowGroupKernel row_group(int rows, int cols) {
  static const GemmMicroKernel narrow[] = {tile_group<4, 2>,  tile_group<5, 2>,  tile_group<6, 2>,  tile_group<7, 2>,
                                           tile_group<8, 2>,  tile_group<9, 2>,  tile_group<10, 2>, tile_group<11, 2>,
                                           tile_group<12, 2>, tile_group<13, 2>, tile_group<14, 2>};
  static const GemmMicroKernel wide[] = {tile_group<4, 4>, tile_group<5, 4>, tile_group<6, 4>, tile_group<7, 4>};
  static const GemmMicroKernel single[] = {tile_group<4, 1>,  tile_group<5, 1>,  tile_group<6, 1>,  tile_group<7, 1>,
                                           tile_group<8, 1>,  tile_group<9, 1>,  tile_group<10, 1>, tile_group<11, 1>,
                                           tile_group<12, 1>, tile_group<13, 1>, tile_group<14, 1>};
  if (rows < 4 || rows > 14) return {nullptr, 0};
  if (cols > 32 && rows <= 7) return {wide[rows - 4], 64};
  if (cols <= 16) return {single[rows - 4], 16};
  return {narrow[rows - 4], 32};
}

}  // namespace

GemmKernel gemm_kernel_avx512() { return {MR, NR, run_12x32<true>, run_12x32<false>, row_group, "avx512_12x32"}; }

}  // namespace convkit

// The direct convolution, pooling and im2col kernels, compiled with this file's flags.
#define CONVKIT_ISA avx512
#define CONVKIT_ISA_ENUM Isa::Avx512
#include "kernels/isa/isa_tables.h"
