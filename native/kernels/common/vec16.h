// The 16-lane GCC vectors that the per-ISA kernel templates (*_impl.h)
// share: one AVX-512 register, two AVX2 ones, scalar code on the generic
// build. Internal linkage, like the templates: each isa_*.cc compiles them
// with its own flags.
#pragma once

#include <cstdint>

namespace convkit {
namespace {
namespace vec16 {

typedef float f16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t i16 __attribute__((vector_size(64), aligned(4)));
typedef uint8_t u16 __attribute__((vector_size(16), aligned(1)));

// Unaligned loads and stores (memcpy: no aliasing or alignment assumptions).
inline f16 loadf(const float* p) {
  f16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
inline void storef(float* p, f16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

// 16 bytes (a max-pool's cells) widened to lanes, and back.
inline i16 load_cells(const uint8_t* p) {
  u16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return __builtin_convertvector(v, i16);
}
inline void store_cells(uint8_t* p, i16 v) {
  const u16 bytes = __builtin_convertvector(v, u16);
  __builtin_memcpy(p, &bytes, sizeof(bytes));
}

}  // namespace vec16
}  // namespace
}  // namespace convkit
