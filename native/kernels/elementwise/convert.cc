#include "kernels/elementwise/convert.h"

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kernels/common/parallel.h"

namespace convkit {

namespace {

// Advice only: where THP is off, or for a range under 2 MB, nothing changes.
void prefer_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{1} << 21;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace

void bytes_to_floats(float* y, const uint8_t* x, long n, float divisor) {
  prefer_huge_pages(y, sizeof(float) * static_cast<std::size_t>(n));
  // Threads split the range, so that both fault their halves in parallel.
  parallel_chunks(n, n, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; ++i) y[i] = static_cast<float>(x[i]) / divisor;
  });
}

}  // namespace convkit
