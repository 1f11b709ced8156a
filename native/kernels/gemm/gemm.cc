#include "kernels/gemm/gemm.h"

#include <algorithm>
#include <cstring>

#include "kernels/common/scratch.h"

namespace convkit {

namespace {

// Cache blocking: a kc x nr sliver of B is swept against an MC-row block of
// A, which stays in L2 for the next sliver. K blocks of up to 512, not the
// textbook L1-sized 256: on the zoo's layers (K of 144 to 400) fewer passes
// over C measured faster than keeping the sliver in L1 (inference 1-3%
// faster than with 256, 4% faster than with 128).
constexpr int KC = 512;
constexpr int MC = 96;   // a multiple of every kernel's mr (4, 6, 12)
constexpr int NC = 2048; // a multiple of every kernel's nr (16, 32)


// K is cut into the fewest blocks of at most KC, of equal size (576 = 288 +
// 288, not 512 + 64: a 64-long block would spend more on C than on FMAs).
// With segments, blocks are whole segments (as many as fit in KC, at least one).
struct KBlocks {
  int count;
  int units;  // segments, or K when unsegmented
  int unit;   // steps per unit
  int first_unit(int b) const { return static_cast<int>(static_cast<long>(units) * b / count); }
  int begin(int b) const { return first_unit(b) * unit; }
  int size(int b) const { return begin(b + 1) - begin(b); }
};

KBlocks k_blocks(int K, int segments = 0, int most_segments = 0) {
  if (segments <= 0) return {std::max(1, (K + KC - 1) / KC), K, 1};
  const int unit = K / segments;
  int per_block = std::max(1, KC / std::max(1, unit));
  if (most_segments > 0) per_block = std::min(per_block, most_segments);
  return {std::max(1, (segments + per_block - 1) / per_block), segments, unit};
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
        // A loop, not memcpy: a sliver row is 16 or 32 floats, and a call
        // per row cost more than the copy (a layer's weights are packed on
        // every pass, on every thread).
        const float* src = B + static_cast<long>(p0 + p) * ldb + (j0 + jr);
        for (int j = 0; j < cols; ++j) dst[j] = src[j];
      }
      for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
    }
  }
}

thread_local Scratch t_pack_b;

}  // namespace


void gemm_store_partial(const GemmTile& t, const float* acc, int nr) {
  for (int i = 0; i < t.rows; ++i) {
    float* ci = t.c + i * t.ldc;
    const float* ai = acc + i * nr;
    for (int j = 0; j < t.cols; ++j) {
      float v = ai[j];
      if (t.accumulate) v += ci[j];
      if (t.bias) v += t.bias[j];
      if (t.relu) v = v < 0.0f ? 0.0f : v;  // NaN passes
      ci[j] = v;
    }
  }
}

long packed_b_size(int K, int N) {
  const int nr = current_gemm_kernel().nr;
  long total = 0;
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    total += static_cast<long>((nc + nr - 1) / nr * nr) * K;
  }
  return total;
}

namespace {

// Panels in the order sgemm_packed reads them: for each NC block of
// columns, each K block, nr-wide slivers.
void pack_b_blocks(bool trans_b, const KBlocks& kb, int N, const float* B, long ldb, float* packed) {
  const int nr = current_gemm_kernel().nr;
  for (int jc = 0; jc < N; jc += NC) {
    const int nc_padded = (std::min(NC, N - jc) + nr - 1) / nr * nr;
    for (int b = 0; b < kb.count; ++b) {
      const int kc = kb.size(b);
      pack_b_panel(trans_b, B, ldb, N, jc, nc_padded, kb.begin(b), kc, nr, packed);
      packed += static_cast<long>(nc_padded) * kc;
    }
  }
}

}  // namespace

void pack_b(bool trans_b, int K, int N, const float* B, long ldb, float* packed) {
  pack_b_blocks(trans_b, k_blocks(K), N, B, ldb, packed);
}

void pack_b_segments(bool trans_b, int K, int segments, int N, const float* B, long ldb, float* packed, int block_segments) {
  pack_b_blocks(trans_b, k_blocks(K, segments, block_segments), N, B, ldb, packed);
}

bool gemm_single_k_block(int K) { return k_blocks(K).count == 1; }

int packed_b_sliver(int K, int N) {
  const int nr = current_gemm_kernel().nr;
  return k_blocks(K).count == 1 && N % nr == 0 && N <= NC ? nr : 0;
}

bool gemm_single_k_block_segments(int K, int segments) { return k_blocks(K, segments).count == 1; }

namespace {

const long kNoOffset[1] = {0};

// segments == 0: plain op(A); otherwise op(A) in segments read from
// A + offsets[s] (sgemm_segments).
void gemm_driver(bool trans_a, int M, int N, int K, int segments, const long* offsets, const float* A, long lda,
                 const float* packed_b, float* C, long ldc, bool accumulate, const float* bias, bool relu,
                 int block_segments = 0) {
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
  const GemmKernel kernel = current_gemm_kernel();
  const int mr = kernel.mr, nr = kernel.nr;
  const GemmMicroKernel run = trans_a ? kernel.run_cols : kernel.run_rows;
  const KBlocks kb = k_blocks(K, segments, block_segments);
  const float* b_panel = packed_b;
  GemmTile tile;
  tile.lda = lda;
  tile.ldc = ldc;

  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    const int nc_padded = (nc + nr - 1) / nr * nr;
    for (int b = 0; b < kb.count; ++b) {
      const int pc = kb.begin(b), kc = kb.size(b);
      const bool last = b + 1 == kb.count;
      // Plain A: one segment starting at column pc. Segmented: this block's
      // segments, their offsets saying where each starts.
      const long k_start = segments > 0 ? 0 : (trans_a ? pc * lda : pc);
      if (segments > 0) {
        tile.segments = kb.first_unit(b + 1) - kb.first_unit(b);
        tile.segment_offsets = offsets + kb.first_unit(b);
        tile.k = kb.unit;
      } else {
        tile.segments = 1;
        tile.segment_offsets = kNoOffset;
        tile.k = kc;
      }
      tile.accumulate = accumulate || b > 0;
      tile.relu = last && relu;
      for (int ic = 0; ic < M; ic += MC) {
        // A block of MC + 2 rows or fewer is not cut: its last rows spread
        // over its tiles (below), not a block of their own (mnist-3layer's
        // conv2 runs two images' 98 Winograd tiles a product).
        const int mc = M - ic <= MC + 2 ? M - ic : MC;
        // Rows past the block's last full tile ride in its last tiles, one
        // or two more rows each, where the ISA has such taller tiles (row-major
        // A): alone, a tile of 1 to 4 rows costs about a full one, its FMAs
        // waiting on each other (an image's 49 Winograd tiles, 48 + 1, took
        // 4% of mnist-2layer's training; conv3's 64 of mnist-3layer's inference, 60 + 4).
        const int full = mc / mr, rest = mc % mr;
        const bool spread = !trans_a && rest > 0 && rest <= 2 * full && kernel.row_group(mr + 1, nr).run &&
                            kernel.row_group(mr + 2, nr).run;
        const int taller = spread ? (rest + 1) / 2 : 0;  // the last `taller` tiles
        for (int jr = 0; jr < nc; jr += nr) {
          tile.b = b_panel + static_cast<long>(jr) * kc;
          tile.cols = std::min(nr, nc - jr);
          tile.bias = last && bias ? bias + jc + jr : nullptr;
          for (int ir = 0, t = 0; ir < mc; ir += tile.rows, ++t) {
            const long i = ic + ir;
            tile.a = A + k_start + (trans_a ? i : i * lda);
            tile.c = C + i * ldc + (jc + jr);
            if (t >= full - taller && taller > 0) {
              // Two more rows each, one for the first when the rest is odd.
              tile.rows = mr + (t == full - taller && rest % 2 ? 1 : 2);
              kernel.row_group(tile.rows, tile.cols).run(tile);
              continue;
            }
            tile.rows = std::min(mr, mc - ir);
            run(tile);
          }
        }
      }
      b_panel += static_cast<long>(nc_padded) * kc;
    }
  }
}

}  // namespace

void sgemm_packed(bool trans_a, int M, int N, int K, const float* A, long lda, const float* packed_b,
                  float* C, long ldc, bool accumulate, const float* bias, bool relu) {
  gemm_driver(trans_a, M, N, K, 0, nullptr, A, lda, packed_b, C, ldc, accumulate, bias, relu);
}

void sgemm_segments(bool trans_a, int M, int N, int K, int segments, const long* offsets, const float* A, long lda,
                    const float* packed_b, float* C, long ldc, bool accumulate, const float* bias, bool relu,
                    int block_segments) {
  gemm_driver(trans_a, M, N, K, segments, offsets, A, lda, packed_b, C, ldc, accumulate, bias, relu, block_segments);
}

bool gemm_row_groups_apply(int rows, int N) {
  return N <= NC && current_gemm_kernel().row_group(rows, N).run != nullptr;
}

void sgemm_row_groups(int groups, int rows, long group_skip, int N, int K, int segments, const long* offsets,
                      const float* A, long lda, const float* packed_b, float* C, long ldc, const float* bias, bool relu) {
  if (groups <= 0 || rows <= 0 || N <= 0) return;
  const int nr = current_gemm_kernel().nr;
  const KBlocks kb = k_blocks(K, segments);
  const int n_padded = (N + nr - 1) / nr * nr;
  const float* b_panel = packed_b;
  GemmTile tile;
  tile.lda = lda;
  tile.ldc = ldc;
  tile.k = kb.unit;
  for (int b = 0; b < kb.count; ++b) {
    const int kc = kb.size(b);
    const bool last = b + 1 == kb.count;
    tile.segments = kb.first_unit(b + 1) - kb.first_unit(b);
    tile.segment_offsets = offsets + kb.first_unit(b);
    tile.accumulate = b > 0;
    tile.relu = last && relu;
    tile.b_next = static_cast<long>(nr) * kc;
    for (int j = 0; j < N;) {
      const RowGroupKernel kernel = current_gemm_kernel().row_group(rows, N - j);
      tile.b = b_panel + static_cast<long>(j) * kc;  // j is a multiple of nr
      tile.bias = last && bias ? bias + j : nullptr;
      tile.cols = std::min(kernel.width, N - j);
      for (int r = 0; r < groups; ++r) {
        tile.a = A + r * group_skip;
        tile.c = C + static_cast<long>(r) * rows * ldc + j;
        kernel.run(tile);
      }
      j += kernel.width;
    }
    b_panel += static_cast<long>(n_padded) * kc;
  }
}

void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate, const float* bias) {
  if (M <= 0 || N <= 0) return;
  float* packed = t_pack_b.floats(static_cast<std::size_t>(packed_b_size(K, N)));
  if (K > 0) pack_b(trans_b, K, N, B, ldb, packed);
  sgemm_packed(trans_a, M, N, K, A, lda, packed, C, ldc, accumulate, bias, false);
}

}  // namespace convkit
