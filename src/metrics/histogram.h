// A distribution (latencies, message sizes) as counts in fixed buckets plus
// the sum of all observed values, sharded per thread like Counter.
//
// Storage: per shard, one run of cache lines holding a count per bucket (the
// finite bounds, then +Inf) and the sum. The total count is not stored: it is
// the sum of the bucket counts, which saves one atomic per observe() and makes
// _count equal the +Inf bucket in every snapshot, as Prometheus expects.
//
// The sum is a double kept in an atomic<uint64_t> by its bit pattern and
// added with a compare-exchange loop. Integer micro-units would be cheaper
// but would drop sub-microsecond values and overflow past ~584,000 years of
// summed seconds; with per-thread shards the loop almost never retries.
//
// Threading: observe() and snapshot() may be called from any thread at any
// time. A snapshot taken during concurrent observes may count an observation
// in its bucket but not yet in the sum; bucket counts are always cumulative
// and consistent with count.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "metrics/shard.h"

namespace switchboard::metrics {

class Histogram {
 public:
  struct Snapshot {
    // The upper bounds as registered, followed by +Inf: one per bucket.
    std::vector<double> bounds;
    // cumulative_counts[i]: observations <= bounds[i]; the last equals count.
    std::vector<std::uint64_t> cumulative_counts;
    std::uint64_t count = 0;
    double sum = 0;
  };

  // bounds: finite and strictly increasing, possibly empty (then +Inf is the
  // only bucket). Throws std::invalid_argument otherwise.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Lock-free: a binary search over the bounds, one relaxed fetch_add on a
  // bucket of this thread's shard and one compare-exchange on its sum. A
  // value equal to a bound counts in that bound's bucket (Prometheus "le");
  // NaN counts in +Inf only and makes the sum NaN.
  void observe(double value);

  Snapshot snapshot() const;

  // The finite upper bounds, as registered.
  std::span<const double> bounds() const { return bounds_; }

 private:
  struct alignas(kCacheLineSize) Line {
    static constexpr std::size_t kCells = kCacheLineSize / sizeof(std::atomic<std::uint64_t>);
    std::atomic<std::uint64_t> cells[kCells]{};
  };
  static_assert(sizeof(Line) == kCacheLineSize);

  // Cell i of shard: buckets are cells 0..bounds_.size(), the sum is next.
  std::atomic<std::uint64_t>& cell(std::size_t shard, std::size_t i) const {
    return lines_[shard * lines_per_shard_ + i / Line::kCells].cells[i % Line::kCells];
  }
  std::size_t sum_cell() const { return bounds_.size() + 1; }

  std::vector<double> bounds_;
  std::size_t lines_per_shard_;
  // kShardCount runs of lines_per_shard_ lines; a run never shares a line
  // with another shard's.
  std::unique_ptr<Line[]> lines_;
};

}  // namespace switchboard::metrics
