// CPU feature detection and the choice of ISA (the thread count is
// kernels/parallel.h's, per addon instance).
#pragma once

#include "kernels/isa/isa.h"
#include "kernels/isa/kernel_table.h"

namespace convkit {

const char* isa_name(Isa isa);
// Parses "generic" | "avx2" | "avx512"; false for anything else.
bool parse_isa(const char* name, Isa* out);

// What this CPU and OS can run (CPUID and, for AVX, the XGETBV register mask).
bool cpu_supports(Isa isa);
Isa best_isa();

// The ISA in use (kernels().isa); chosen once at load, changeable for tests and benchmarks.
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

bool openmp_enabled();

}  // namespace convkit
