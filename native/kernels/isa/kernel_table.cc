#include "kernels/isa/kernel_table.h"

#include <atomic>

namespace convkit {

namespace {

// Each table is built on first request only: the AVX-512 translation unit's
// own table-building code may use zmm instructions, so building it on a CPU
// without AVX-512 (as one static list of all three did) dies of SIGILL.
const KernelTable& table_for(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::Avx512) {
    static const KernelTable avx512 = kernel_table_avx512();
    return avx512;
  }
  if (isa == Isa::Avx2) {
    static const KernelTable avx2 = kernel_table_avx2();
    return avx2;
  }
#endif
  static const KernelTable generic = kernel_table_generic();
  return generic;
}

// A pointer to one of the static tables: switching (tests, CONVKIT_ISA) never
// leaves a kernel reading a half-written table.
std::atomic<const KernelTable*> g_current{nullptr};

}  // namespace

bool isa_compiled(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  (void)isa;
  return true;
#else
  return isa == Isa::Generic;
#endif
}

void select_kernels(Isa isa) { g_current.store(&table_for(isa), std::memory_order_release); }

const KernelTable& kernels() {
  const KernelTable* t = g_current.load(std::memory_order_acquire);
  return t ? *t : table_for(Isa::Generic);
}

// The per-family accessors the kernels call (gemm.h, direct_conv.h, pool.h, patches.h, winograd.h).
const GemmKernel& current_gemm_kernel() { return kernels().gemm; }
const DirectConvKernels& current_direct_conv() { return kernels().direct_conv; }
const PoolKernels& current_pool_kernels() { return kernels().pool; }
const PatchKernels& current_patch_kernels() { return kernels().patches; }
const WinogradKernels& current_winograd() { return kernels().winograd; }

}  // namespace convkit
