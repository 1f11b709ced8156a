// CPU feature detection, ISA choice and the OpenMP thread count.
#pragma once

#include "kernels/gemm.h"

namespace convkit {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
// Parses "generic" | "avx2" | "avx512"; false for anything else.
bool parse_isa(const char* name, Isa* out);

// What this CPU and OS can run (CPUID and, for AVX, the XGETBV register mask).
bool cpu_supports(Isa isa);
// Whether this binary holds kernels for the ISA (x86-64 builds hold all three).
bool isa_compiled(Isa isa);
Isa best_isa();

// The ISA in use; chosen once at load, changeable for tests and benchmarks.
Isa current_isa();
// Returns false (changing nothing) if the CPU or the build lacks the ISA.
bool set_isa(Isa isa);

// The multiply-add throughput that the current ISA's kernels can reach on
// `threads` threads (PeakProbe, median of 5 timed runs of about 0.1 s each).
struct PeakMeasurement {
  double gflops;
  int threads;
  int flops_per_iteration;
};
PeakMeasurement measure_peak(int threads);

int num_threads();
void set_num_threads(int n);
bool openmp_enabled();

}  // namespace convkit
