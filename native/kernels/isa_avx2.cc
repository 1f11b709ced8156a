// AVX2+FMA 6x16 micro-kernel: 12 ymm accumulators, two B vectors, one
// broadcast of A per row. Compiled with -mavx2 -mfma only in this file.
#include <immintrin.h>

#include "gemm.h"

namespace convkit {

namespace {

constexpr int MR = 6;
constexpr int NR = 16;

template <bool kRows>
void ukernel_6x16(int k, const float* a, long lda, const float* b, float* c, long ldc, bool accumulate) {
  __m256 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(kRows ? a + i * lda : a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += kRows ? 1 : MR;
    b += NR;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(ci));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, c0[i]);
    _mm256_storeu_ps(ci + 8, c1[i]);
  }
}

}  // namespace

GemmKernel gemm_kernel_avx2() { return {MR, NR, ukernel_6x16<false>, ukernel_6x16<true>, "avx2_6x16"}; }

}  // namespace convkit

// The direct convolution kernels, compiled with this file's flags.
#include "direct_conv_impl.h"

namespace convkit {
DirectConvKernels direct_conv_avx2() { return {direct::forward, direct::filter}; }
}  // namespace convkit

// The 16-channel tiled max-pool kernels, compiled with this file's flags.
#include "pool.h"
#include "pool_impl.h"

namespace convkit {
PoolKernels pool_kernels_avx2() { return {pooling::forward_image, pooling::backward_image}; }
}  // namespace convkit
