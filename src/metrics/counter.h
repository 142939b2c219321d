// A monotonically increasing count (messages, bytes, errors), sharded per
// thread so that workers adding to it never share a cache line.
//
// Threading: add() and value() may be called from any thread at any time.
// value() is not a snapshot across shards: read during concurrent adds, it
// returns a total between the counts before and after those adds.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "metrics/shard.h"

namespace switchboard::metrics {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Lock-free and wait-free: one relaxed fetch_add on this thread's shard.
  // Relaxed is enough: a count orders nothing else, and readers only sum.
  void add(std::uint64_t n = 1) { shards_[this_thread_shard()].value.fetch_add(n, std::memory_order_relaxed); }

  std::uint64_t value() const {
    std::uint64_t total = 0;
    for (const Shard& shard : shards_) total += shard.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(kCacheLineSize) Shard {
    std::atomic<std::uint64_t> value{0};
  };
  static_assert(sizeof(Shard) == kCacheLineSize);
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  std::array<Shard, kShardCount> shards_;
};

}  // namespace switchboard::metrics
