// AVX-512 12x32 micro-kernel: 24 zmm accumulators, two B vectors, A
// broadcast from memory into each FMA. Compiled with -mavx512f only in this file.
#include <immintrin.h>

#include "gemm.h"

namespace convkit {

namespace {

constexpr int MR = 12;
constexpr int NR = 32;

template <bool kRows>
void ukernel_12x32(int k, const float* a, long lda, const float* b, float* c, long ldc, bool accumulate) {
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int p = 0; p < k; ++p) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(kRows ? a[i * lda] : a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += kRows ? 1 : MR;
    b += NR;
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
      c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
    }
    _mm512_storeu_ps(ci, c0[i]);
    _mm512_storeu_ps(ci + 16, c1[i]);
  }
}

}  // namespace

GemmKernel gemm_kernel_avx512() { return {MR, NR, ukernel_12x32<false>, ukernel_12x32<true>, "avx512_12x32"}; }

}  // namespace convkit

// The direct convolution kernels, compiled with this file's flags.
#include "direct_conv_impl.h"

namespace convkit {
DirectConvKernels direct_conv_avx512() { return {direct::forward, direct::filter}; }
}  // namespace convkit

// The 16-channel tiled max-pool kernels, compiled with this file's flags.
#include "pool.h"
#include "pool_impl.h"

namespace convkit {
PoolKernels pool_kernels_avx512() { return {pooling::forward_image, pooling::backward_image}; }
}  // namespace convkit
