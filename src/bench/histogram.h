// A log-linear latency histogram in the manner of HdrHistogram: values
// (nanoseconds) below 2^7 have a bucket each; above, every power of two is
// split into 2^7 equal sub-buckets, so a bucket is at most 1/128 of its
// values wide and a reported percentile is within 0.4 % of the true value
// (the bucket midpoint is reported). Recording is an index computation and
// an increment: no allocation, no floating point.
//
// Threading: one histogram per thread; merge() them once the threads are done.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace switchboard::bench {

class Histogram {
 public:
  static constexpr unsigned kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
  // Exact buckets for [0, 2^7), then 2^7 per power of two from 2^7 to 2^63.
  static constexpr std::size_t kBucketCount = kSubBuckets + (64 - kSubBucketBits) * kSubBuckets;

  void record(std::uint64_t value);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }

  // The value at or below which `quantile` (0..1) of the recorded values
  // fall: the midpoint of the bucket holding that rank, clamped to
  // [min(), max()]. 0 when empty.
  std::uint64_t percentile(double quantile) const;

  // Bucket arithmetic, exposed for the tests.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_lowest(std::size_t bucket);
  static std::uint64_t bucket_width(std::size_t bucket);

 private:
  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
  // Wraps only after 584 years of summed nanoseconds.
  std::uint64_t sum_ = 0;
};

// The figures a report prints for one histogram.
struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t min = 0;
  double mean = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p90 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t max = 0;
};

LatencySummary summarize(const Histogram& histogram);

}  // namespace switchboard::bench
