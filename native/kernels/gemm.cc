#include "gemm.h"

#include <algorithm>
#include <cstring>

#include "scratch.h"

namespace convkit {

namespace {

// Cache blocking: a kc x nr sliver of B stays in L1 while the micro-kernel
// sweeps an MC-row block of A, which stays in L2 for the next sliver.
constexpr int KC = 256;
constexpr int MC = 96;   // a multiple of every kernel's mr (4, 6, 12)
constexpr int NC = 2048; // a multiple of every kernel's nr (16, 32)

GemmKernel g_kernel = gemm_kernel_generic();

// K is cut into the fewest blocks of at most KC, of equal size (288 = 144 +
// 144, not 256 + 32: a 32-long block would spend more on C than on FMAs).
struct KBlocks {
  int count;
  int K;
  int begin(int b) const { return static_cast<int>(static_cast<long>(K) * b / count); }
  int size(int b) const { return begin(b + 1) - begin(b); }
};

KBlocks k_blocks(int K) { return {std::max(1, (K + KC - 1) / KC), K}; }

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

void gemm_store_partial(const GemmTile& t, const float* acc, int nr) {
  for (int i = 0; i < t.rows; ++i) {
    float* ci = t.c + i * t.ldc;
    const float* ai = acc + i * nr;
    for (int j = 0; j < t.cols; ++j) {
      float v = ai[j];
      if (t.accumulate) v += ci[j];
      if (t.bias) v += t.bias[j];
      if (t.relu) v = v > 0.0f ? v : 0.0f;
      ci[j] = v;
    }
  }
}

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
// columns, each K block, nr-wide slivers.
void pack_b(bool trans_b, int K, int N, const float* B, long ldb, float* packed) {
  const int nr = g_kernel.nr;
  const KBlocks kb = k_blocks(K);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc_padded = (std::min(NC, N - jc) + nr - 1) / nr * nr;
    for (int b = 0; b < kb.count; ++b) {
      const int kc = kb.size(b);
      pack_b_panel(trans_b, B, ldb, N, jc, nc_padded, kb.begin(b), kc, nr, packed);
      packed += static_cast<long>(nc_padded) * kc;
    }
  }
}

bool gemm_single_k_block(int K) { return k_blocks(K).count == 1; }

namespace {

void gemm_driver(bool trans_a, int M, int N, int K, int segments, long segment_skip, const float* A, long lda,
                 const float* packed_b, float* C, long ldc, bool accumulate, const float* bias, bool relu);

}  // namespace

void sgemm_packed(bool trans_a, int M, int N, int K, const float* A, long lda, const float* packed_b,
                  float* C, long ldc, bool accumulate, const float* bias, bool relu) {
  gemm_driver(trans_a, M, N, K, 1, 0, A, lda, packed_b, C, ldc, accumulate, bias, relu);
}

void sgemm_segments(int M, int N, int K, int segments, long segment_skip, const float* A, long lda, const float* packed_b,
                    float* C, long ldc, const float* bias, bool relu) {
  gemm_driver(false, M, N, K, segments, segment_skip, A, lda, packed_b, C, ldc, false, bias, relu);
}

namespace {

void gemm_driver(bool trans_a, int M, int N, int K, int segments, long segment_skip, const float* A, long lda,
                 const float* packed_b, float* C, long ldc, bool accumulate, const float* bias, bool relu) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int i = 0; i < M; ++i) {
      float* ci = C + static_cast<long>(i) * ldc;
      for (int j = 0; j < N; ++j) {
        float v = (accumulate ? ci[j] : 0.0f) + (bias ? bias[j] : 0.0f);
        ci[j] = relu && v < 0.0f ? 0.0f : v;
      }
    }
    return;
  }
  const GemmKernel kernel = g_kernel;
  const int mr = kernel.mr, nr = kernel.nr;
  const GemmMicroKernel run = trans_a ? kernel.run_cols : kernel.run_rows;
  const KBlocks kb = k_blocks(K);
  const float* b_panel = packed_b;
  GemmTile tile;
  tile.lda = lda;
  tile.ldc = ldc;
  tile.segments = segments;
  tile.segment_skip = segment_skip;

  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int nc_padded = (nc + nr - 1) / nr * nr;
    for (int b = 0; b < kb.count; ++b) {
      const int pc = kb.begin(b), kc = kb.size(b);
      const bool last = b + 1 == kb.count;
      tile.k = kc / segments;
      tile.accumulate = accumulate || b > 0;
      tile.relu = last && relu;
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = std::min(MC, M - ic);
        for (int jr = 0; jr < nc; jr += nr) {
          tile.b = b_panel + static_cast<long>(jr) * kc;
          tile.cols = std::min(nr, nc - jr);
          tile.bias = last && bias ? bias + jc + jr : nullptr;
          for (int ir = 0; ir < mc; ir += mr) {
            const long i = ic + ir;
            tile.rows = std::min(mr, mc - ir);
            tile.a = trans_a ? A + static_cast<long>(pc) * lda + i : A + i * lda + pc;
            tile.c = C + i * ldc + (jc + jr);
            run(tile);
          }
        }
      }
      b_panel += static_cast<long>(nc_padded) * kc;
    }
  }
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate, const float* bias) {
  if (M <= 0 || N <= 0) return;
  float* packed = t_pack_b.floats(static_cast<std::size_t>(packed_b_size(K, N)));
  if (K > 0) pack_b(trans_b, K, N, B, ldb, packed);
  sgemm_packed(trans_a, M, N, K, A, lda, packed, C, ldc, accumulate, bias, false);
}

}  // namespace convkit
