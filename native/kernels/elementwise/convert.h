// Conversions of whole data sets at load time (tens to hundreds of MB).
#pragma once

#include <cstdint>

namespace convkit {

// y[i] = x[i] / divisor over n values (image bytes to floats). On Linux the
// output is first offered transparent huge pages: a fresh 188 MB array
// (MNIST's training images) otherwise takes ~45,000 page faults on first
// write, which cost more than the conversion itself.
void bytes_to_floats(float* y, const uint8_t* x, long n, float divisor);

}  // namespace convkit
