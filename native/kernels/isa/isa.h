// The instruction sets convkit compiles kernels for: the one enum that the
// CPU detection, the kernel tables and the binding share.
#pragma once

namespace convkit {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

}  // namespace convkit
