#include "base/clock.h"

#include <time.h>

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

// Right after a second begins, time(2) still answers the second before
// (its vDSO reads the last tick); a token issued then with that new second
// as its "iat" must not look issued in the future.
TEST(Clock, WallClockIsNotBehindTheExactClockJustAfterASecondBegins) {
  for (int boundary = 0; boundary < 3; ++boundary) {
    timespec exact{};
    clock_gettime(CLOCK_REALTIME, &exact);
    const time_t second = exact.tv_sec;
    while (exact.tv_sec == second) clock_gettime(CLOCK_REALTIME, &exact);
    EXPECT_GE(wall_clock_s(), static_cast<std::int64_t>(exact.tv_sec));
  }
}

}  // namespace
}  // namespace switchboard::base
