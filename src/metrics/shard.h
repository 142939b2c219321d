// Per-thread shards for the hot path. Worker threads add to counters and
// observe histograms once per message; if they all wrote one atomic, each add
// would pull its cache line away from the other cores. Instead a metric keeps
// kShardCount cache-line-sized cells and each thread writes only its own, so
// an add is one uncontended relaxed read-modify-write. Readers (render, tests)
// sum the cells.
#pragma once

#include <atomic>
#include <cstddef>

namespace switchboard::metrics {

// 64 bytes: the line size of x86-64 and most AArch64 cores. Not
// std::hardware_destructive_interference_size, whose value g++ warns may
// change between compiler versions (-Winterference-size).
inline constexpr std::size_t kCacheLineSize = 64;

// One shard per worker thread for up to 16 workers; past that, threads share
// shards (still exact, merely contended). A power of two keeps the modulo a mask.
inline constexpr std::size_t kShardCount = 16;
static_assert((kShardCount & (kShardCount - 1)) == 0, "kShardCount must be a power of two");

// This thread's shard, in [0, kShardCount). Threads are numbered round-robin
// the first time they call it, so the first kShardCount threads that touch a
// metric each get a shard of their own, whichever metric that was.
inline std::size_t this_thread_shard() {
  static std::atomic<std::size_t> next_shard{0};
  // A sentinel rather than a dynamic initialiser: constant-initialised
  // thread_locals need no guard or TLS wrapper call on each access.
  constexpr std::size_t kUnassigned = ~std::size_t{0};
  thread_local std::size_t shard = kUnassigned;
  if (shard == kUnassigned) [[unlikely]] {
    shard = next_shard.fetch_add(1, std::memory_order_relaxed) & (kShardCount - 1);
  }
  return shard;
}

}  // namespace switchboard::metrics
