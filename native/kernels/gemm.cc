#include "gemm.h"

#include <algorithm>
#include <cstring>

#include "scratch.h"

namespace convkit {

namespace {

// Cache blocking: a KC x NC panel of B stays in L2, an MC x KC block of A in
// L1/L2 while the micro-kernel sweeps it.
constexpr int KC = 256;
constexpr int MC = 96;   // a multiple of every kernel's mr (4, 6, 12)
constexpr int NC = 2048; // a multiple of every kernel's nr (16, 32)

GemmKernel g_kernel = gemm_kernel_generic();

// Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of op(A) into mr-row
// slivers, sliver-major then k then row; rows past M are zero.
void pack_a(bool trans, const float* A, long lda, int M, int i0, int mc, int p0, int kc, int mr, float* out) {
  for (int ir = 0; ir < mc; ir += mr) {
    const int rows = std::min(mr, M - (i0 + ir));
    for (int p = 0; p < kc; ++p) {
      float* dst = out + (static_cast<long>(ir) * kc) + static_cast<long>(p) * mr;
      if (trans) {
        const float* src = A + static_cast<long>(p0 + p) * lda + (i0 + ir);
        for (int i = 0; i < rows; ++i) dst[i] = src[i];
      } else {
        const float* src = A + static_cast<long>(i0 + ir) * lda + (p0 + p);
        for (int i = 0; i < rows; ++i) dst[i] = src[static_cast<long>(i) * lda];
      }
      for (int i = rows; i < mr; ++i) dst[i] = 0.0f;
    }
  }
}

// Packs rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into nr-column
// slivers; columns past N are zero.
void pack_b_panel(bool trans, const float* B, long ldb, int N, int j0, int nc, int p0, int kc, int nr, float* out) {
  for (int jr = 0; jr < nc; jr += nr) {
    const int cols = std::min(nr, N - (j0 + jr));
    for (int p = 0; p < kc; ++p) {
      float* dst = out + (static_cast<long>(jr) * kc) + static_cast<long>(p) * nr;
      if (trans) {
        const float* src = B + static_cast<long>(j0 + jr) * ldb + (p0 + p);
        for (int j = 0; j < cols; ++j) dst[j] = src[static_cast<long>(j) * ldb];
      } else {
        const float* src = B + static_cast<long>(p0 + p) * ldb + (j0 + jr);
        std::memcpy(dst, src, sizeof(float) * cols);
      }
      for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
    }
  }
}

thread_local Scratch t_pack_a;
thread_local Scratch t_pack_b;

}  // namespace

void select_gemm_kernel(GemmIsa isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case GemmIsa::Avx512: g_kernel = gemm_kernel_avx512(); break;
    case GemmIsa::Avx2: g_kernel = gemm_kernel_avx2(); break;
#endif
    default: g_kernel = gemm_kernel_generic(); break;
  }
}

const GemmKernel& current_gemm_kernel() { return g_kernel; }

long packed_b_size(int K, int N) {
  const int nr = g_kernel.nr;
  long total = 0;
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    total += static_cast<long>((nc + nr - 1) / nr * nr) * K;
  }
  return total;
}

// Panels in the order sgemm_packed reads them: for each NC block of
// columns, each KC block of rows, nr-wide slivers.
void pack_b(bool trans_b, int K, int N, const float* B, long ldb, float* packed) {
  const int nr = g_kernel.nr;
  for (int jc = 0; jc < N; jc += NC) {
    const int nc_padded = (std::min(NC, N - jc) + nr - 1) / nr * nr;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      pack_b_panel(trans_b, B, ldb, N, jc, nc_padded, pc, kc, nr, packed);
      packed += static_cast<long>(nc_padded) * kc;
    }
  }
}

void sgemm_packed(bool trans_a, int M, int N, int K, const float* A, long lda, const float* packed_b,
                  float* C, long ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) {
      for (int i = 0; i < M; ++i) std::memset(C + static_cast<long>(i) * ldc, 0, sizeof(float) * N);
    }
    return;
  }
  const GemmKernel kernel = g_kernel;
  const int mr = kernel.mr, nr = kernel.nr;
  float* a_packed = t_pack_a.floats(static_cast<std::size_t>(MC) * KC);
  alignas(64) float edge[32 * 32];  // one tile for partial edges; mr, nr <= 32
  const float* b_panel = packed_b;

  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int nc_padded = (nc + nr - 1) / nr * nr;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = std::min(MC, M - ic);
        const int mc_padded = (mc + mr - 1) / mr * mr;
        // Row-major A is read in place by full tiles; only transposed A, and
        // the last short sliver of rows, are packed.
        const bool in_place = !trans_a;
        const int full_rows = in_place ? mc / mr * mr : 0;
        if (!in_place) pack_a(trans_a, A, lda, M, ic, mc_padded, pc, kc, mr, a_packed);
        else if (full_rows < mc) pack_a(false, A, lda, M, ic + full_rows, mr, pc, kc, mr, a_packed);
        for (int jr = 0; jr < nc; jr += nr) {
          const int cols = std::min(nr, nc - jr);
          const float* b_sliver = b_panel + static_cast<long>(jr) * kc;
          for (int ir = 0; ir < mc; ir += mr) {
            const int rows = std::min(mr, mc - ir);
            const bool direct_rows = in_place && ir < full_rows;
            const float* a_sliver = direct_rows ? A + static_cast<long>(ic + ir) * lda + pc
                                                : a_packed + static_cast<long>(in_place ? 0 : ir) * kc;
            const GemmMicroKernel run = direct_rows ? kernel.run_rows : kernel.run;
            float* c = C + static_cast<long>(ic + ir) * ldc + (jc + jr);
            if (rows == mr && cols == nr) {
              run(kc, a_sliver, lda, b_sliver, c, ldc, acc);
            } else {
              run(kc, a_sliver, lda, b_sliver, edge, nr, false);
              for (int i = 0; i < rows; ++i) {
                float* ci = c + static_cast<long>(i) * ldc;
                const float* ei = edge + i * nr;
                if (acc) {
                  for (int j = 0; j < cols; ++j) ci[j] += ei[j];
                } else {
                  for (int j = 0; j < cols; ++j) ci[j] = ei[j];
                }
              }
            }
          }
        }
      }
      b_panel += static_cast<long>(nc_padded) * kc;
    }
  }
}

void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  float* packed = t_pack_b.floats(static_cast<std::size_t>(packed_b_size(K, N)));
  if (K > 0) pack_b(trans_b, K, N, B, ldb, packed);
  sgemm_packed(trans_a, M, N, K, A, lda, packed, C, ldc, accumulate);
}

}  // namespace convkit
