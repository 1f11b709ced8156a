// Every kernel that differs by instruction set, in one table per ISA. Each
// isa_<name>.cc fills its table (isa_tables.h) from the same templates,
// compiled with that file's flags; select_kernels is the one place that
// chooses, and the kernels read the choice through kernels().
#pragma once

#include "kernels/conv/direct_conv.h"
#include "kernels/gemm/gemm.h"
#include "kernels/isa/isa.h"
#include "kernels/conv/patches.h"
#include "kernels/conv/pooled_backward.h"
#include "kernels/conv/winograd.h"
#include "kernels/isa/peak.h"
#include "kernels/pool/pool.h"

namespace convkit {

struct KernelTable {
  Isa isa;
  GemmKernel gemm;
  DirectConvKernels direct_conv;
  PoolKernels pool;
  PatchKernels patches;
  WinogradKernels winograd;
  PooledBackwardKernels pooled_backward;
  PeakProbe peak;
};

KernelTable kernel_table_generic();
#if defined(__x86_64__) || defined(_M_X64)
KernelTable kernel_table_avx2();
KernelTable kernel_table_avx512();
#endif

// Whether this binary holds kernels for the ISA (x86-64 builds hold all three).
bool isa_compiled(Isa isa);

// Makes the ISA's table the current one (the caller checked that the CPU
// runs it). Process-wide: the ISA is the machine's, not a thread's.
void select_kernels(Isa isa);

// The current table (the generic one until select_kernels runs).
const KernelTable& kernels();

}  // namespace convkit
