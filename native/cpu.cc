#include "cpu.h"


#if defined(_OPENMP)
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define CONVKIT_X86 1
#include <cpuid.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace convkit {

namespace {

#if defined(CONVKIT_X86)
// XGETBV(0): which register states the OS saves on a context switch. CPUID
// alone is not enough: a hypervisor can report AVX-512 and leave it disabled.
unsigned long long xgetbv0() {
  unsigned int eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

struct Features {
  bool avx2_fma = false;
  bool avx512 = false;
};

Features detect() {
  Features f;
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  const bool fma = ecx & (1u << 12);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;          // plus opmask and both ZMM halves
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = ebx & (1u << 5);
  const bool avx512f = ebx & (1u << 16);
  const bool avx512dq = ebx & (1u << 17);
  const bool avx512bw = ebx & (1u << 30);
  const bool avx512vl = ebx & (1u << 31);
  f.avx2_fma = ymm_saved && avx2 && fma;
  f.avx512 = f.avx2_fma && zmm_saved && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}
#endif



}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "generic";
  }
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "avx512") == 0) *out = Isa::Avx512;
  else if (std::strcmp(name, "avx2") == 0) *out = Isa::Avx2;
  else if (std::strcmp(name, "generic") == 0) *out = Isa::Generic;
  else return false;
  return true;
}

bool cpu_supports(Isa isa) {
#if defined(CONVKIT_X86)
  switch (isa) {
    case Isa::Avx512: return features().avx512;
    case Isa::Avx2: return features().avx2_fma;
    default: return true;
  }
#else
  return isa == Isa::Generic;
#endif
}

Isa best_isa() {
  if (cpu_supports(Isa::Avx512) && isa_compiled(Isa::Avx512)) return Isa::Avx512;
  if (cpu_supports(Isa::Avx2) && isa_compiled(Isa::Avx2)) return Isa::Avx2;
  return Isa::Generic;
}

Isa current_isa() { return kernels().isa; }

bool set_isa(Isa isa) {
  if (!cpu_supports(isa) || !isa_compiled(isa)) return false;
  select_kernels(isa);
  return true;
}

PeakMeasurement measure_peak(int threads) {
  const PeakProbe probe = kernels().peak;
  if (threads < 1) threads = 1;
  // Seconds for `iterations` rounds on every thread at once.
  auto timed = [&](long iterations) {
    volatile float sink = 0;
    const auto start = std::chrono::steady_clock::now();
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
      const float s = probe.run(iterations, static_cast<float>(omp_get_thread_num()));
#pragma omp atomic
      sink += s;
    }
#else
    for (int t = 0; t < threads; ++t) sink = sink + probe.run(iterations, static_cast<float>(t));
#endif
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Warm up (the first parallel region starts OpenMP's threads), calibrate
  // on runs long enough that starting them does not count, then take the
  // median of five runs of about 0.1 s.
  timed(1 << 12);
  long iterations = 1 << 16;
  double seconds = timed(iterations);
  while (seconds < 0.05 && iterations < (1L << 30)) {
    iterations *= 2;
    seconds = timed(iterations);
  }
  iterations = std::max(1L, static_cast<long>(static_cast<double>(iterations) * 0.1 / std::max(seconds, 1e-9)));
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) {
    const double s = timed(iterations);
    rates.push_back(static_cast<double>(probe.flops_per_iteration) * static_cast<double>(iterations) * threads / std::max(s, 1e-12) / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return {rates[rates.size() / 2], threads, probe.flops_per_iteration};
}


bool openmp_enabled() {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

}  // namespace convkit
