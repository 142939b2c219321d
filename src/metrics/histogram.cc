#include "metrics/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace switchboard::metrics {

namespace {

void check_bounds(const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument("histogram bounds must be finite (the +Inf bucket is implicit)");
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram bounds must be strictly increasing");
    }
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  check_bounds(bounds_);
  const std::size_t cells = bounds_.size() + 2;  // the buckets, +Inf, the sum
  lines_per_shard_ = (cells + Line::kCells - 1) / Line::kCells;
  // Value-initialised: every cell starts at zero, and zero bits are 0.0.
  lines_ = std::make_unique<Line[]>(lines_per_shard_ * kShardCount);
}

void Histogram::observe(double value) {
  // The first bound that value <= bound, written so that NaN, for which every
  // comparison is false, lands past the end: in the +Inf bucket.
  const auto bucket = static_cast<std::size_t>(
      std::partition_point(bounds_.begin(), bounds_.end(), [value](double bound) { return !(value <= bound); }) -
      bounds_.begin());
  const std::size_t shard = this_thread_shard();
  cell(shard, bucket).fetch_add(1, std::memory_order_relaxed);

  std::atomic<std::uint64_t>& sum = cell(shard, sum_cell());
  std::uint64_t old_bits = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(old_bits, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old_bits) + value),
                                    std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  snapshot.bounds.push_back(std::numeric_limits<double>::infinity());
  snapshot.cumulative_counts.assign(bounds_.size() + 1, 0);
  for (std::size_t shard = 0; shard < kShardCount; ++shard) {
    for (std::size_t bucket = 0; bucket <= bounds_.size(); ++bucket) {
      snapshot.cumulative_counts[bucket] += cell(shard, bucket).load(std::memory_order_relaxed);
    }
    snapshot.sum += std::bit_cast<double>(cell(shard, sum_cell()).load(std::memory_order_relaxed));
  }
  for (std::size_t bucket = 1; bucket < snapshot.cumulative_counts.size(); ++bucket) {
    snapshot.cumulative_counts[bucket] += snapshot.cumulative_counts[bucket - 1];
  }
  snapshot.count = snapshot.cumulative_counts.back();
  return snapshot;
}

}  // namespace switchboard::metrics
