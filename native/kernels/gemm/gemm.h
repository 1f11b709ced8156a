// Single-precision GEMM: a cache-blocked driver (gemm.cc) around one
// register-blocked micro-kernel per ISA (isa_*.cc, each compiled with its
// own flags). Plain C++ on raw pointers.
#pragma once

namespace convkit {

// One register tile of C: rows x cols of C[i * ldc + j] =
// (accumulate ? C : 0) + sum over p < segments * k of A(i, p) * b[p * nr + j]
// (+ bias[j]) (then max(., 0) when relu). b is a packed sliver of B, zero
// past cols. A is read where it lies, never copied:
// run_rows: A(i, p) = a[i * lda + p] (row-major A, e.g. an im2col matrix);
// run_cols: A(i, p) = a[p * lda + i] (transposed A, or a packed sliver with lda = mr).
// Only the first `rows` rows of A are read, and only rows x cols of C touched.
// The k steps come in `segments` runs of k each, run s reading A from
// a + segment_offsets[s] on: an implicit convolution reads each kernel row's
// patch, or each output row's pixels, where they lie in the padded image.
struct GemmTile {
  int k;  // steps per segment
  int segments;
  const long* segment_offsets;
  const float* a;
  long lda;
  const float* b;
  long b_next;  // row-group tiles wider than nr: floats from one packed sliver of B to the next
  float* c;
  long ldc;
  int rows;
  int cols;
  bool accumulate;
  const float* bias;  // nullptr: none
  bool relu;
};

using GemmMicroKernel = void (*)(const GemmTile& tile);

// A register tile of exactly `rows` rows of row-major A, `width` columns
// wide (t.cols may be fewer), for sgemm_row_groups: a multiple of nr, or
// less than nr only for the last columns of C.
struct RowGroupKernel {
  GemmMicroKernel run;  // nullptr: none fits
  int width;
};

// The row_group of an ISA with too few registers for a whole row group (AVX2,
// generic): im2col or edge tiles instead.
inline RowGroupKernel no_row_groups(int, int) { return {nullptr, 0}; }

struct GemmKernel {
  int mr;
  int nr;
  GemmMicroKernel run_rows;
  GemmMicroKernel run_cols;
  // The widest row-group tile of `rows` rows this ISA has for `cols`
  // remaining columns (run == nullptr: none).
  RowGroupKernel (*row_group)(int rows, int cols);
  const char* name;
};

// One per translation unit; the table the dispatcher, tests and benchmarks read.
GemmKernel gemm_kernel_generic();
GemmKernel gemm_kernel_avx2();
GemmKernel gemm_kernel_avx512();

// The current ISA's micro-kernel (kernel_table.h).
const GemmKernel& current_gemm_kernel();

// Finishes a tile a kernel computed in full into acc[mr x nr] (row stride
// nr): adds C when accumulating, the bias, applies relu, and writes only the
// tile's rows x cols. For the edges of kernels without masked stores.
void gemm_store_partial(const GemmTile& tile, const float* acc, int nr);

// Floats needed to hold op(B) (K x N) packed for the current micro-kernel.
long packed_b_size(int K, int N);

// When op(B) (K x N) packed is N / nr slivers of [K][nr] one after the
// other (one K block, N a multiple of nr, one column block): nr, so that a
// producer can write B packed (element (k, n) at (n / nr) * K * nr + k * nr
// + n % nr) instead of packing it after; 0 when the layout is not that.
int packed_b_sliver(int K, int N);

// Packs op(B) once, so that many products with the same B (a layer's
// weights, image after image) skip repacking it: op(B) is B[p * ldb + j],
// or B[j * ldb + p] when trans_b.
void pack_b(bool trans_b, int K, int N, const float* B, long ldb, float* packed);

// C[M x N] = op(A) * B (+ C when accumulate) (+ bias[j]) (then max(., 0)
// when relu), B packed by pack_b with the same K and N. op(A) is M x K:
// A[i * lda + p], or A[p * lda + i] when trans_a; it is read in place.
void sgemm_packed(bool trans_a, int M, int N, int K, const float* A, long lda, const float* packed_b,
                  float* C, long ldc, bool accumulate, const float* bias = nullptr, bool relu = false);

// Whether sgemm_packed runs K in one block (K <= 512): the products then sum
// p = 0..K-1 in order in registers, whatever the segments.
bool gemm_single_k_block(int K);

// The same for sgemm_segments: whether K steps in `segments` equal runs are one K block.
bool gemm_single_k_block_segments(int K, int segments);

// pack_b for sgemm_segments: K blocks end on segment boundaries (K = segments x L),
// and hold at most block_segments segments when it is positive.
void pack_b_segments(bool trans_b, int K, int segments, int N, const float* B, long ldb, float* packed,
                     int block_segments = 0);

// sgemm_packed with op(A) read in `segments` runs of L = K / segments steps
// (K must divide into them), run s starting at A + offsets[s]: with p = s * L
// + q, op(A)(i, p) = A[offsets[s] + i * lda + q], or A[offsets[s] + q * lda +
// i] when trans_a. B packed by pack_b_segments with the same K and segments.
// When gemm_single_k_block(K), the sums are bit for bit those of
// sgemm_packed over the same values.
// block_segments > 0: K blocks of at most that many segments (each block's
// sums are added to C on their own: a weight gradient adds each image's
// sum once, whatever the number of images in the call); B packed with the same.
void sgemm_segments(bool trans_a, int M, int N, int K, int segments, const long* offsets, const float* A, long lda,
                    const float* packed_b, float* C, long ldc, bool accumulate, const float* bias, bool relu,
                    int block_segments = 0);

// Whether sgemm_row_groups can run groups of `rows` rows against N columns.
bool gemm_row_groups_apply(int rows, int N);

// sgemm_segments (row-major A, C overwritten) for M = groups x rows, each
// group of rows one register tile of exactly that height (no edge tiles):
// row i of group r reads A + r * group_skip + i * lda (+ the segment
// offsets) and writes C + (r * rows + i) * ldc. A convolution's output row
// is a group, read where it lies in the padded image. B packed by
// pack_b_segments. Requires gemm_row_groups_apply(rows, N).
void sgemm_row_groups(int groups, int rows, long group_skip, int N, int K, int segments, const long* offsets,
                      const float* A, long lda, const float* packed_b, float* C, long ldc, const float* bias, bool relu);

// C[M x N] = op(A) * op(B) (+ C when accumulate) (+ bias[j]), single-threaded.
// op(B) is K x N: B[p * ldb + j], or B[j * ldb + p] when trans_b.
void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate, const float* bias = nullptr);

}  // namespace convkit
