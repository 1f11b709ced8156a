// Single-precision GEMM: a packed, cache-blocked driver (gemm.cc) around one
// register-blocked micro-kernel per ISA (gemm_ukernel_*.cc, each compiled
// with its own flags). Plain C++ on raw pointers.
#pragma once

namespace convkit {

// C[mr x nr] (row stride ldc) = (accumulate ? C : 0) + sum over p < k of
// A(i, p) * b[p * nr + j], b being a packed sliver. For `run`, A is a packed
// sliver too, A(i, p) = a[p * mr + i] (lda unused); for `run_rows` it is read
// in place from mr full rows, A(i, p) = a[i * lda + p], which saves packing
// row-major A (an im2col matrix) at the cost of mr streams.
using GemmMicroKernel = void (*)(int k, const float* a, long lda, const float* b, float* c, long ldc, bool accumulate);

struct GemmKernel {
  int mr;
  int nr;
  GemmMicroKernel run;
  GemmMicroKernel run_rows;
  const char* name;
};

enum class GemmIsa { Generic, Avx2, Avx512 };

// One per translation unit; the table the dispatcher, tests and benchmarks read.
GemmKernel gemm_kernel_generic();
GemmKernel gemm_kernel_avx2();
GemmKernel gemm_kernel_avx512();

void select_gemm_kernel(GemmIsa isa);
const GemmKernel& current_gemm_kernel();

// Floats needed to hold op(B) (K x N) packed for the current micro-kernel.
long packed_b_size(int K, int N);

// Packs op(B) once, so that many products with the same B (a layer's
// weights, image after image) skip repacking it: op(B) is B[p * ldb + j],
// or B[j * ldb + p] when trans_b.
void pack_b(bool trans_b, int K, int N, const float* B, long ldb, float* packed);

// C[M x N] = op(A) * B (+ C when accumulate), B packed by pack_b with the same K and N.
void sgemm_packed(bool trans_a, int M, int N, int K, const float* A, long lda, const float* packed_b,
                  float* C, long ldc, bool accumulate);

// C[M x N] = op(A) * op(B) (+ C when accumulate), single-threaded.
// op(A) is M x K: A[i * lda + p], or A[p * lda + i] when trans_a.
// op(B) is K x N: B[p * ldb + j], or B[j * ldb + p] when trans_b.
void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate);

}  // namespace convkit
