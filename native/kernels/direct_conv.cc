#include "direct_conv.h"

#include "patches.h"
#include "pool.h"

namespace convkit {

namespace {
DirectConvKernels g_direct = direct_conv_generic();
PoolKernels g_pool = pool_kernels_generic();
PatchKernels g_patches = patch_kernels_generic();
}

void select_direct_conv(GemmIsa isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case GemmIsa::Avx512:
      g_direct = direct_conv_avx512();
      g_pool = pool_kernels_avx512();
      g_patches = patch_kernels_avx512();
      break;
    case GemmIsa::Avx2:
      g_direct = direct_conv_avx2();
      g_pool = pool_kernels_avx2();
      g_patches = patch_kernels_avx2();
      break;
#endif
    default:
      g_direct = direct_conv_generic();
      g_pool = pool_kernels_generic();
      g_patches = patch_kernels_generic();
      break;
  }
}

const PoolKernels& current_pool_kernels() { return g_pool; }

const DirectConvKernels& current_direct_conv() { return g_direct; }

const PatchKernels& current_patch_kernels() { return g_patches; }

}  // namespace convkit
