#include "kernels/common/parallel.h"
#include "kernels/common/share_queue.h"

#include <thread>

namespace convkit {

namespace {
thread_local int t_threads = 0;
ShareSchedule g_schedule = ShareSchedule::Balanced;

int hardware_threads() {
  static const int n = [] {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
  }();
  return n;
}
}  // namespace

int kernel_threads() { return t_threads > 0 ? t_threads : hardware_threads(); }
void set_kernel_threads(int n) { t_threads = n > 0 ? n : 1; }
ShareSchedule share_schedule() { return g_schedule; }
void set_share_schedule(ShareSchedule schedule) { g_schedule = schedule; }

}  // namespace convkit
