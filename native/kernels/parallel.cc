#include "parallel.h"
#include "share_queue.h"

namespace convkit {

namespace {
int g_threads = 1;
ShareSchedule g_schedule = ShareSchedule::Balanced;
}

int kernel_threads() { return g_threads; }
void set_kernel_threads(int n) { g_threads = n > 0 ? n : 1; }
ShareSchedule share_schedule() { return g_schedule; }
void set_share_schedule(ShareSchedule schedule) { g_schedule = schedule; }

}  // namespace convkit
