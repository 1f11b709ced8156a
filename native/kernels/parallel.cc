#include "parallel.h"

namespace convkit {

namespace {
int g_threads = 1;
}

int kernel_threads() { return g_threads; }
void set_kernel_threads(int n) { g_threads = n > 0 ? n : 1; }

}  // namespace convkit
