#include "bench/histogram.h"

#include <bit>
#include <cmath>

namespace switchboard::bench {

std::size_t Histogram::bucket_of(std::uint64_t value) {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  // value = mantissa * 2^shift with mantissa in [2^7, 2^8).
  const unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = exponent - kSubBucketBits;
  const std::uint64_t mantissa = value >> shift;
  return static_cast<std::size_t>(kSubBuckets + shift * kSubBuckets + (mantissa - kSubBuckets));
}

std::uint64_t Histogram::bucket_lowest(std::size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const std::size_t shift = (bucket - kSubBuckets) / kSubBuckets;
  const std::uint64_t mantissa = kSubBuckets + (bucket - kSubBuckets) % kSubBuckets;
  return mantissa << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t bucket) {
  if (bucket < kSubBuckets) return 1;
  return std::uint64_t{1} << ((bucket - kSubBuckets) / kSubBuckets);
}

void Histogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  if (value < min_) min_ = value;
  if (value > max_) max_ = value;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

std::uint64_t Histogram::percentile(double quantile) const {
  if (count_ == 0) return 0;
  if (quantile <= 0) return min_;
  if (quantile >= 1) return max_;
  // The rank (1-based) of the value asked for, as in a sorted array.
  auto rank = static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < kBucketCount; ++bucket) {
    seen += counts_[bucket];
    if (seen < rank) continue;
    const std::uint64_t middle = bucket_lowest(bucket) + (bucket_width(bucket) - 1) / 2;
    if (middle < min_) return min_;
    if (middle > max_) return max_;
    return middle;
  }
  return max_;
}

LatencySummary summarize(const Histogram& histogram) {
  LatencySummary summary;
  summary.count = histogram.count();
  summary.min = histogram.min();
  summary.mean = histogram.mean();
  summary.p50 = histogram.percentile(0.50);
  summary.p90 = histogram.percentile(0.90);
  summary.p99 = histogram.percentile(0.99);
  summary.p999 = histogram.percentile(0.999);
  summary.max = histogram.max();
  return summary;
}

}  // namespace switchboard::bench
