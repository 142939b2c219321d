// Counters and gauges: exact sums under concurrent adds from several threads.
#include "metrics/counter.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/gauge.h"

namespace switchboard::metrics {
namespace {

TEST(Counter, StartsAtZeroAndAdds) {
  Counter counter;
  EXPECT_EQ(counter.value(), 0u);
  counter.add();
  counter.add(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(Counter, ConcurrentAddsSumExactly) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100'000; ++i) counter.add();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 400'000u);
}

TEST(Gauge, SetAddSub) {
  Gauge gauge;
  gauge.set(10);
  gauge.add(5);
  gauge.sub(20);
  EXPECT_EQ(gauge.value(), -5);
}

}  // namespace
}  // namespace switchboard::metrics
