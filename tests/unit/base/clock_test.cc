#include "base/clock.h"

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(Clock, MonotonicAndConsistentUnits) {
  std::uint64_t ms = monotonic_ms();
  std::uint64_t ns = monotonic_ns();
  EXPECT_LE(ms, ns / 1'000'000 + 1);
  // Wait on the clock itself, not a sleep: once the nanosecond clock has
  // moved 5 ms on, the millisecond clock read after it has too.
  std::uint64_t later_ns = monotonic_ns();
  while (later_ns < ns + 5'000'000) later_ns = monotonic_ns();
  EXPECT_GE(monotonic_ms(), ms + 5);
  EXPECT_GT(later_ns, ns);
}

}  // namespace
}  // namespace switchboard::base
