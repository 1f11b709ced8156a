// Portable kernels: the 4x16 GEMM micro-kernel (plain loops the compiler may
// vectorise for the baseline ISA) and the direct convolution. Used where no
// better ISA is available and under CONVKIT_ISA=generic.
#include "kernels/gemm/gemm.h"

namespace convkit {

namespace {

constexpr int MR = 4;
constexpr int NR = 16;

// kRows: A(i, p) = a[i * lda + p], else a[p * lda + i]; only valid rows are read.
template <bool kRows>
void tile_4x16(const GemmTile& t) {
  float acc[MR][NR] = {};
  const long row_step = kRows ? t.lda : 1;
  const float* b = t.b;
  for (int s = 0; s < t.segments; ++s) {
    const float* a = t.a + t.segment_offsets[s];
    for (int p = 0; p < t.k; ++p) {
      for (int i = 0; i < t.rows; ++i) {
        const float ai = a[i * row_step];
        for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
      }
      a += kRows ? 1 : t.lda;
      b += NR;
    }
  }
  gemm_store_partial(t, &acc[0][0], NR);
}

}  // namespace

GemmKernel gemm_kernel_generic() { return {MR, NR, tile_4x16<true>, tile_4x16<false>, no_row_groups, "generic_4x16"}; }

}  // namespace convkit

// The direct convolution, pooling and im2col kernels, compiled with this file's flags.
#define CONVKIT_ISA generic
#define CONVKIT_ISA_ENUM Isa::Generic
#include "kernels/isa/isa_tables.h"
