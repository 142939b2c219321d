#include "base/clock.h"

#include <thread>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(Clock, MonotonicAndConsistentUnits) {
  std::uint64_t ms = monotonic_ms();
  std::uint64_t ns = monotonic_ns();
  EXPECT_LE(ms, ns / 1'000'000 + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(monotonic_ms(), ms + 5);
  EXPECT_GT(monotonic_ns(), ns);
}

}  // namespace
}  // namespace switchboard::base
