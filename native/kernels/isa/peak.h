// A probe of the FP32 multiply-add throughput that an ISA's kernels can reach
// here: independent chains of y = y·a + b on that ISA's widest vectors, enough
// of them to cover the FMA latency on every port (the loop of
// ../shared/anchors/fma_peak.cpp). Benchmarks quote their GFLOP/s against it.
#pragma once

namespace convkit {

struct PeakProbe {
  // Runs `iterations` rounds of every chain; returns a sum of the chains so that nothing is optimised away.
  float (*run)(long iterations, float seed);
  // Floating-point operations per round (2 per multiply-add lane).
  int flops_per_iteration;
};

PeakProbe peak_probe_generic();
#if defined(__x86_64__) || defined(_M_X64)
PeakProbe peak_probe_avx2();
PeakProbe peak_probe_avx512();
#endif

}  // namespace convkit
