// The kernels every ISA compiles from the same templates (direct
// convolution, pooling, im2col) and their tables, named after CONVKIT_ISA
// (generic, avx2 or avx512), which the including isa_*.cc defines. Included
// once, at the end of each isa_*.cc, so that the templates take that file's flags.
#pragma once

#include "direct_conv_impl.h"
#include "patches_impl.h"
#include "pool.h"
#include "pool_impl.h"

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

}  // namespace convkit
