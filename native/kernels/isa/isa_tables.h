// The kernels every ISA compiles from the same templates (direct
// convolution, pooling, im2col, Winograd transforms) and their tables, named after CONVKIT_ISA
// (generic, avx2 or avx512), which the including isa_*.cc defines. Included
// once, at the end of each isa_*.cc, so that the templates take that file's flags.
#pragma once

#include "kernels/conv/direct_conv_impl.h"
#include "kernels/conv/patches_impl.h"
#include "kernels/conv/pooled_backward_impl.h"
#include "kernels/conv/winograd_impl.h"
#include "kernels/pool/pool.h"
#include "kernels/pool/pool_impl.h"
#include "kernels/isa/kernel_table.h"
#include "kernels/isa/peak.h"

#define CONVKIT_NAME_(prefix, isa) prefix##isa
#define CONVKIT_NAME(prefix, isa) CONVKIT_NAME_(prefix, isa)

namespace convkit {

DirectConvKernels CONVKIT_NAME(direct_conv_, CONVKIT_ISA)() {
  return {direct::forward, direct::filter, direct::forward_pool, direct::correlate_rows};
}

PoolKernels CONVKIT_NAME(pool_kernels_, CONVKIT_ISA)() {
  return {pooling::forward_image, pooling::backward_image, pooling::forward_cells_image, pooling::backward_cells_image};
}

PatchKernels CONVKIT_NAME(patch_kernels_, CONVKIT_ISA)() { return {patches::im2col, patches::col2im, patches::pad_interior}; }

WinogradKernels CONVKIT_NAME(winograd_kernels_, CONVKIT_ISA)() {
  return {{winograd::filter<3>, winograd::input<3>, winograd::output<3>, winograd::output_pool<3>, winograd::gradient<3>,
           winograd::filter_update<3>},
          {winograd::filter<5>, winograd::input<5>, winograd::output<5>, winograd::output_pool<5>, winograd::gradient<5>,
           winograd::filter_update<5>}};
}

PooledBackwardKernels CONVKIT_NAME(pooled_backward_, CONVKIT_ISA)() { return {pooled::gather, pooled::filter_any, pooled::data_any}; }

// Anonymous: each isa_*.cc has its own copy, compiled with its flags.
namespace {
namespace peak {
// The widest vectors of this file's flags, and enough chains to keep the FMA
// pipes full (latency 4 × 2 ports) without spilling registers.
#if defined(__AVX512F__)
constexpr int kWidth = 16, kChains = 16;
#elif defined(__AVX2__)
constexpr int kWidth = 8, kChains = 12;
#else
constexpr int kWidth = 4, kChains = 8;
#endif
typedef float vec __attribute__((vector_size(kWidth * sizeof(float))));

__attribute__((noinline)) float run(long iterations, float seed) {
  vec acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = vec{} + (seed + 1e-3f * static_cast<float>(i));
  const vec a = vec{} + 0.999999f;
  const vec b = vec{} + 1e-7f;
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * a + b;
  }
  float sum = 0;
  for (int i = 0; i < kChains; ++i)
    for (int j = 0; j < kWidth; ++j) sum += acc[i][j];
  return sum;
}
}  // namespace peak
}  // namespace

PeakProbe CONVKIT_NAME(peak_probe_, CONVKIT_ISA)() { return {peak::run, 2 * peak::kWidth * peak::kChains}; }

// This ISA's row of the kernel table (kernel_table.h).
KernelTable CONVKIT_NAME(kernel_table_, CONVKIT_ISA)() {
  return {CONVKIT_ISA_ENUM,
          CONVKIT_NAME(gemm_kernel_, CONVKIT_ISA)(),
          CONVKIT_NAME(direct_conv_, CONVKIT_ISA)(),
          CONVKIT_NAME(pool_kernels_, CONVKIT_ISA)(),
          CONVKIT_NAME(patch_kernels_, CONVKIT_ISA)(),
          CONVKIT_NAME(winograd_kernels_, CONVKIT_ISA)(),
          CONVKIT_NAME(pooled_backward_, CONVKIT_ISA)(),
          CONVKIT_NAME(peak_probe_, CONVKIT_ISA)()};
}

}  // namespace convkit
