// Per-thread scratch buffers that grow and are then reused: kernels ask for
// what they need on every call and allocate only the first time a size is
// exceeded. thread_local keeps OpenMP workers (and Node worker threads)
// from sharing them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace convkit {

class Scratch {
 public:
  // A 64-byte-aligned buffer of at least count floats; contents undefined.
  float* floats(std::size_t count) {
    const std::size_t need = count + 16;
    if (storage_.size() < need) storage_.resize(need);
    auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    return reinterpret_cast<float*>((address + 63) & ~static_cast<std::uintptr_t>(63));
  }

  // The same storage as count longs (offset tables).
  long* longs(std::size_t count) {
    static_assert(sizeof(long) % sizeof(float) == 0, "longs are whole floats");
    return reinterpret_cast<long*>(floats(count * (sizeof(long) / sizeof(float))));
  }

 private:
  std::vector<float> storage_;
};

}  // namespace convkit
