// The one way kernels use threads: a static split of [0, count) into
// contiguous chunks, one per thread, so that results depend only on the
// thread count. Only outer loops are split; no team is ever nested.
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {

// Below this much work (about one flop or element each) a kernel runs on the
// calling thread: waking an OpenMP team costs several microseconds, more than
// the split saves (measured on Adam over 29k parameters: 2 threads slower than 1).
constexpr long kMinParallelWork = 1L << 17;

// The team size kernels use: the calling thread's, which is one addon
// instance's (Node runs each instance, the main thread's or a worker's, on
// its own thread), so that a worker's setNumThreads leaves the others alone.
// Until set, the machine's hardware threads. Read only outside parallel
// regions, by the thread that starts them.
int kernel_threads();
void set_kernel_threads(int n);

// Calls body(begin, end, thread) for each thread's chunk of [0, count).
// Runs inline when count or the work is too small to be worth a team.
template <typename Body>
void parallel_chunks(long count, long work, Body body) {
  int threads = kernel_threads();
  if (threads > count) threads = static_cast<int>(count);
  if (work < kMinParallelWork) threads = 1;
  if (threads <= 1) {
    if (count > 0) body(0L, count, 0);
    return;
  }
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int team = omp_get_num_threads();
    const long begin = count * t / team;
    const long end = count * (t + 1) / team;
    if (begin < end) body(begin, end, t);
  }
#else
  body(0L, count, 0);
#endif
}

// The number of chunks parallel_chunks will use for the same arguments.
inline int parallel_team(long count, long work) {
  int threads = kernel_threads();
  if (threads > count) threads = static_cast<int>(count);
  if (work < kMinParallelWork || threads < 1) threads = 1;
#if !defined(_OPENMP)
  threads = 1;
#endif
  return threads;
}

// Sums of per-thread partials, added in thread order so that the result
// depends only on the thread count. partials holds team slices of n values;
// out[i] for i in [i0, i1) (a thread's share when the sum itself is split).
inline void sum_partials(float* out, const float* partials, int team, long n, long i0, long i1) {
  for (long i = i0; i < i1; ++i) out[i] = partials[i];
  for (int t = 1; t < team; ++t) {
    const float* p = partials + static_cast<long>(t) * n;
    for (long i = i0; i < i1; ++i) out[i] += p[i];
  }
}
inline void sum_partials(float* out, const float* partials, int team, long n) { sum_partials(out, partials, team, n, 0, n); }

// The same for double partials (bias gradients) into floats.
inline void sum_partials(float* out, const double* partials, int team, long n) {
  for (long i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int t = 0; t < team; ++t) sum += partials[static_cast<long>(t) * n + i];
    out[i] = static_cast<float>(sum);
  }
}

// Waits for the whole team inside a parallel_chunks body that every thread
// runs (count == the team); a no-op on one thread.
inline void team_barrier() {
#if defined(_OPENMP)
#pragma omp barrier
#endif
}

}  // namespace convkit
