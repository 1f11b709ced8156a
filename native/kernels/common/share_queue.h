// A thread's share of a batch, handed out so that a faster thread can help
// a slower one: the owner takes its images from the front, in order, a few
// at a time; a thread that has run out of its own takes single images from
// the back. On two cores that are not always equal (a neighbour on the host
// slowing one; a hybrid CPU's performance and efficiency cores), a static
// split makes every step wait for the slower core.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace convkit {

// How conv_chain's threads share a batch. Balanced: as above. Static: each
// runs its own share only. TakeFirst: each thread first takes half of the
// next share from its back, then runs its own, then helps; the numbers must
// not change, and this makes every pass hand images between threads (for tests).
enum class ShareSchedule { Balanced, Static, TakeFirst };
ShareSchedule share_schedule();
void set_share_schedule(ShareSchedule schedule);

class alignas(64) ShareQueue {
 public:
  static constexpr long kMostClaimed = 8;

  // alone: no other thread will take from it.
  void reset(long begin, long end, bool alone) {
    alone_ = alone;
    begin_ = begin;
    end_ = end;
    ends_.store(pack(begin, end), std::memory_order_relaxed);
  }

  // Claims the next images from the front, at most 8 (a claim runs layer
  // by layer, and 8 mnist images' activations stay in L2: on one thread at
  // batch 128, claims of 8 measured 4% faster than the whole batch at once);
  // with helpers, at most half of what is left, so that the last claims
  // are single images. False when none are left.
  bool take_front(long& n0, long& n1) {
    uint64_t ends = ends_.load(std::memory_order_relaxed);
    for (;;) {
      const long front = front_of(ends), back = back_of(ends);
      if (front >= back) return false;
      const long left = back - front;
      const long count = std::min(kMostClaimed, alone_ ? left : std::max(1L, left / 2));
      if (ends_.compare_exchange_weak(ends, pack(front + count, back), std::memory_order_relaxed)) {
        n0 = front;
        n1 = front + count;
        return true;
      }
    }
  }

  // Claims the last image left; -1 when none are left.
  long take_back() {
    uint64_t ends = ends_.load(std::memory_order_relaxed);
    for (;;) {
      const long front = front_of(ends), back = back_of(ends);
      if (front >= back) return -1;
      if (ends_.compare_exchange_weak(ends, pack(front, back - 1), std::memory_order_relaxed)) return back - 1;
    }
  }

  bool empty() const {
    const uint64_t ends = ends_.load(std::memory_order_relaxed);
    return front_of(ends) >= back_of(ends);
  }

  // Once every thread is done (after a barrier): images [taken_from_back(), end)
  // were taken from the back.
  long taken_from_back() const { return back_of(ends_.load(std::memory_order_relaxed)); }
  long end() const { return end_; }
  long size() const { return end_ - begin_; }

 private:
  static uint64_t pack(long front, long back) {
    return static_cast<uint64_t>(static_cast<uint32_t>(front)) | static_cast<uint64_t>(static_cast<uint32_t>(back)) << 32;
  }
  static long front_of(uint64_t ends) { return static_cast<long>(ends & 0xFFFFFFFFu); }
  static long back_of(uint64_t ends) { return static_cast<long>(ends >> 32); }

  std::atomic<uint64_t> ends_{0};
  long begin_ = 0;
  long end_ = 0;
  bool alone_ = false;
};

// One thread's part of a pass over the team's shares, [t0, t1) its own
// (more than one when OpenMP gave fewer threads than asked for):
// run_own(t) claims and runs share t's images from its front; take(queue,
// most) takes up to `most` images from the back of another share and
// returns false to stop taking. With helped false, no thread takes from
// another (queues reset alone); TakeFirst starts with half of the next share.
template <typename RunOwn, typename Take>
void work_shares(ShareQueue* queues, int team, long t0, long t1, bool helped, RunOwn run_own, Take take) {
  if (helped && share_schedule() == ShareSchedule::TakeFirst) take(queues[t1 % team], queues[t1 % team].size() / 2);
  for (long t = t0; t < t1; ++t) run_own(t);
  if (!helped) return;
  for (long k = 1; k < team; ++k) {
    if (!take(queues[(t1 - 1 + k) % team], queues[(t1 - 1 + k) % team].size())) return;
  }
}

}  // namespace convkit
