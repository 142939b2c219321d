// A value that goes up and down (open connections, queued bytes). One atomic,
// not sharded: set() needs a single cell, and gauges change on connection
// events rather than on every message.
//
// Threading: every member may be called from any thread at any time.
#pragma once

#include <atomic>
#include <cstdint>

#include "metrics/shard.h"

namespace switchboard::metrics {

// Aligned to a cache line so that two gauges allocated side by side do not
// make the threads updating them fight over one line.
class alignas(kCacheLineSize) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n) { value_.fetch_sub(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  static_assert(std::atomic<std::int64_t>::is_always_lock_free);
  std::atomic<std::int64_t> value_{0};
};

}  // namespace switchboard::metrics
