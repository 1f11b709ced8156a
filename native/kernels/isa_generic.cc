// Portable kernels: the 4x16 GEMM micro-kernel (plain loops the compiler may
// vectorise for the baseline ISA) and the direct convolution. Used where no better ISA is available and under CONVKIT_ISA=generic.
#include "gemm.h"

namespace convkit {

namespace {

constexpr int MR = 4;
constexpr int NR = 16;

template <bool kRows>
void ukernel_4x16(int k, const float* a, long lda, const float* b, float* c, long ldc, bool accumulate) {
  float acc[MR][NR] = {};
  for (int p = 0; p < k; ++p) {
    for (int i = 0; i < MR; ++i) {
      const float ai = kRows ? a[i * lda] : a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += kRows ? 1 : MR;
    b += NR;
  }
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      for (int j = 0; j < NR; ++j) ci[j] += acc[i][j];
    } else {
      for (int j = 0; j < NR; ++j) ci[j] = acc[i][j];
    }
  }
}

}  // namespace

GemmKernel gemm_kernel_generic() { return {MR, NR, ukernel_4x16<false>, ukernel_4x16<true>, "generic_4x16"}; }

}  // namespace convkit

// The direct convolution kernels, compiled with this file's flags.
#include "direct_conv_impl.h"

namespace convkit {
DirectConvKernels direct_conv_generic() { return {direct::forward, direct::filter}; }
}  // namespace convkit

// The 16-channel tiled max-pool kernels, compiled with this file's flags.
#include "pool.h"
#include "pool_impl.h"

namespace convkit {
PoolKernels pool_kernels_generic() { return {pooling::forward_image, pooling::backward_image}; }
}  // namespace convkit
