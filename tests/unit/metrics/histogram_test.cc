// Histograms: Prometheus "le" buckets, cumulative counts, sum, bad bounds.
#include "metrics/histogram.h"

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/buckets.h"

namespace switchboard::metrics {
namespace {

TEST(Histogram, ValuesOnABoundCountInThatBucket) {
  Histogram histogram({1, 2, 4});
  for (double value : {0.5, 1.0, 1.5, 2.0, 3.0, 100.0}) histogram.observe(value);
  const Histogram::Snapshot snapshot = histogram.snapshot();
  ASSERT_EQ(snapshot.cumulative_counts.size(), 4u);  // 1, 2, 4, +Inf
  EXPECT_EQ(snapshot.cumulative_counts[0], 2u);      // 0.5, 1.0
  EXPECT_EQ(snapshot.cumulative_counts[1], 4u);      // + 1.5, 2.0
  EXPECT_EQ(snapshot.cumulative_counts[2], 5u);      // + 3.0
  EXPECT_EQ(snapshot.cumulative_counts[3], 6u);      // + 100
  EXPECT_EQ(snapshot.count, 6u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 108.0);
  EXPECT_TRUE(std::isinf(snapshot.bounds.back()));
}

TEST(Histogram, ConcurrentObservesAreAllCounted) {
  Histogram histogram({0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50'000; ++i) histogram.observe(1.0);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 200'000u);
  EXPECT_EQ(snapshot.cumulative_counts[0], 0u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 200'000.0);
}

TEST(Histogram, BadBoundsAreRefused) {
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, INFINITY}), std::invalid_argument);
  EXPECT_THROW(Histogram({NAN}), std::invalid_argument);
  EXPECT_NO_THROW(Histogram({}));
}

TEST(Buckets, ExponentialAndLinear) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(linear_buckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
  EXPECT_THROW(exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(linear_buckets(0, 0, 3), std::invalid_argument);
}

}  // namespace
}  // namespace switchboard::metrics
