// Histogram: percentiles within the 1 % bound against a sorted reference on
// random data, bucket arithmetic, merge, max, the empty histogram.
#include "bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

// The value of rank ceil(q * n) in sorted data, as Histogram::percentile defines it.
std::uint64_t reference(const std::vector<std::uint64_t>& sorted, double quantile) {
  auto rank = static_cast<std::size_t>(std::ceil(quantile * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

void expect_close(std::uint64_t actual, std::uint64_t expected) {
  const double error = std::abs(static_cast<double>(actual) - static_cast<double>(expected));
  EXPECT_LE(error, static_cast<double>(expected) * 0.01) << actual << " vs " << expected;
}

TEST(Histogram, BucketsCoverEveryValueInOrder) {
  EXPECT_EQ(Histogram::bucket_of(0), 0u);
  EXPECT_EQ(Histogram::bucket_of(127), 127u);
  EXPECT_EQ(Histogram::bucket_of(128), 128u);
  EXPECT_EQ(Histogram::bucket_of(255), 255u);
  EXPECT_EQ(Histogram::bucket_of(256), 256u);
  EXPECT_EQ(Histogram::bucket_of(257), 256u);
  EXPECT_EQ(Histogram::bucket_of(~std::uint64_t{0}), Histogram::kBucketCount - 1);
  std::mt19937_64 random(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t value = random() >> (random() % 64);
    const std::size_t bucket = Histogram::bucket_of(value);
    ASSERT_LT(bucket, Histogram::kBucketCount);
    const std::uint64_t low = Histogram::bucket_lowest(bucket);
    ASSERT_LE(low, value);
    ASSERT_LE(value - low, Histogram::bucket_width(bucket) - 1);
    // A bucket is at most 1/128 of its lowest value wide.
    if (value >= Histogram::kSubBuckets) {
      ASSERT_LE(Histogram::bucket_width(bucket) * 128, low);
    }
  }
}

TEST(Histogram, PercentilesMatchSortedReferenceWithinOnePercent) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(200'000.0), 1.0);  // ~200 us, long tail
  for (std::size_t size : {1u, 2u, 10u, 999u, 100000u}) {
    Histogram histogram;
    std::vector<std::uint64_t> values;
    for (std::size_t i = 0; i < size; ++i) {
      const auto value = static_cast<std::uint64_t>(latency(random));
      values.push_back(value);
      histogram.record(value);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.001, 0.5, 0.9, 0.99, 0.999}) {
      SCOPED_TRACE(testing::Message() << "size " << size << " q " << q);
      expect_close(histogram.percentile(q), reference(values, q));
    }
    EXPECT_EQ(histogram.max(), values.back());
    EXPECT_EQ(histogram.min(), values.front());
    EXPECT_EQ(histogram.count(), size);
    EXPECT_EQ(histogram.percentile(1.0), values.back());
  }
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram histogram;
  for (std::uint64_t v = 1; v <= 100; ++v) histogram.record(v);
  EXPECT_EQ(histogram.percentile(0.5), 50u);
  EXPECT_EQ(histogram.percentile(0.99), 99u);
  EXPECT_DOUBLE_EQ(histogram.mean(), 50.5);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 random(3);
  Histogram a;
  Histogram b;
  Histogram all;
  for (int i = 0; i < 50000; ++i) {
    const std::uint64_t value = random() % 10'000'000;
    (i % 3 == 0 ? a : b).record(value);
    all.record(value);
  }
  Histogram merged;
  merged.merge(a);
  merged.merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(merged.percentile(q), all.percentile(q));
}

TEST(Histogram, MaxIsExactAndBoundsThePercentiles) {
  Histogram histogram;
  histogram.record(1000);
  histogram.record(123'456'789);
  EXPECT_EQ(histogram.max(), 123'456'789u);
  EXPECT_LE(histogram.percentile(0.999), 123'456'789u);
  expect_close(histogram.percentile(0.5), 1000);
}

TEST(Histogram, EmptyReportsZeros) {
  Histogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.percentile(0.5), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
  EXPECT_EQ(histogram.mean(), 0.0);
  Histogram other;
  other.merge(histogram);
  EXPECT_EQ(summarize(other).p99, 0u);
}

}  // namespace
}  // namespace switchboard::bench
