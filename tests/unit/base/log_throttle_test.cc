#include "base/log_throttle.h"

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(LogThrottle, BurstThenCountedThenReportedOnceTheWindowEnds) {
  LogThrottle throttle(3, 1000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.admit(100 + i));
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(throttle.admit(200 + i));
  EXPECT_EQ(throttle.take_suppressed(1099), 0u);  // the window is still open
  EXPECT_EQ(throttle.take_suppressed(1100), 50u);
  EXPECT_EQ(throttle.take_suppressed(5000), 0u);  // reported once
  // The next event opens a new window with a fresh burst.
  EXPECT_TRUE(throttle.admit(5000));
  EXPECT_TRUE(throttle.admit(5001));
}

TEST(LogThrottle, NothingSuppressedNothingToReport) {
  LogThrottle throttle(3, 1000);
  EXPECT_EQ(throttle.take_suppressed(0), 0u);
  EXPECT_TRUE(throttle.admit(10));
  EXPECT_EQ(throttle.take_suppressed(10'000), 0u);
}

// A steady flood: every window writes its burst and one summary, however
// many events there are.
TEST(LogThrottle, SteadyFloodWritesBurstPlusOneLinesAWindow) {
  LogThrottle throttle(5, 1000);
  std::uint64_t logged = 0;
  std::uint64_t summaries = 0;
  std::uint64_t counted = 0;
  for (std::uint64_t now = 0; now < 10'000; ++now) {  // 1,000 events a second for 10 s
    if (const std::uint64_t suppressed = throttle.take_suppressed(now)) {
      ++summaries;
      counted += suppressed;
    }
    if (throttle.admit(now)) ++logged;
  }
  counted += throttle.take_suppressed(20'000);
  EXPECT_EQ(logged, 10u * 5);
  EXPECT_EQ(summaries, 9u);  // the tenth window's count is taken after the loop
  EXPECT_EQ(logged + counted, 10'000u);
}

}  // namespace
}  // namespace switchboard::base
