// The reconnect delay: the cap grows by factor up to the maximum, jitter
// takes a fraction off it, Retry-After is a floor. The random draw is
// injected: no sleeps, no seeds.
#include "base/backoff.h"

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(Backoff, CapGrowsByFactorUpToTheMaximum) {
  const BackoffPolicy policy{500, 20'000, 2.0, 1.0};
  // random 0: the whole cap.
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.0), 500u);
  EXPECT_EQ(backoff_delay_ms(policy, 1, 0.0), 1000u);
  EXPECT_EQ(backoff_delay_ms(policy, 2, 0.0), 2000u);
  EXPECT_EQ(backoff_delay_ms(policy, 5, 0.0), 16'000u);
  EXPECT_EQ(backoff_delay_ms(policy, 6, 0.0), 20'000u);
  EXPECT_EQ(backoff_delay_ms(policy, 1'000'000, 0.0), 20'000u);  // no overflow
}

TEST(Backoff, FullJitterTakesUpToTheWholeCap) {
  const BackoffPolicy policy{500, 20'000, 2.0, 1.0};
  EXPECT_EQ(backoff_delay_ms(policy, 2, 0.5), 1000u);
  EXPECT_EQ(backoff_delay_ms(policy, 2, 0.75), 500u);
  EXPECT_LE(backoff_delay_ms(policy, 2, 0.999999), 1u);
}

TEST(Backoff, PartialAndNoJitter) {
  BackoffPolicy policy{1000, 60'000, 3.0, 0.2};
  EXPECT_EQ(backoff_delay_ms(policy, 1, 0.5), 2700u);  // 3000 * (1 - 0.1)
  policy.jitter = 0.0;
  EXPECT_EQ(backoff_delay_ms(policy, 2, 0.9), 9000u);
}

TEST(Backoff, OutOfRangeInputsAreClamped) {
  BackoffPolicy policy{500, 20'000, 0.5, 7.0};  // factor < 1 acts as 1, jitter > 1 as 1
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.0), 500u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.5), 250u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, -1.0), 500u);
  policy = {5000, 1000, 2.0, 0.0};  // min above max: max wins
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.0), 1000u);
}

TEST(Backoff, AFloorAtTheMinimumKeepsEveryDelayInMinToCap) {
  // The Redis link's policy: doubling from 100 ms to 5 s, uniform in [min, cap].
  const BackoffPolicy policy{100, 5000, 2.0, 1.0, JitterFloor::kMinDelay};
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.0), 100u);
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.999999), 100u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.0), 800u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.5), 450u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.999999), 100u);
  EXPECT_EQ(backoff_delay_ms(policy, 40, 0.0), 5000u);
  EXPECT_EQ(backoff_delay_ms(policy, 40, 0.5), 2550u);
}

TEST(Backoff, ARefusedConnectIsCappedAtTheRefusedMaximumStillJittered) {
  // The C++ client's policy: a node restarting refuses connections; the
  // client must be back within about a second of it listening again, however
  // many attempts failed, and a thousand clients must not come back at once.
  BackoffPolicy policy{500, 20'000, 2.0, 1.0};
  policy.refused_max_delay_ms = 1000;
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.0, FailureKind::kRefused), 500u);
  EXPECT_EQ(backoff_delay_ms(policy, 1, 0.0, FailureKind::kRefused), 1000u);
  EXPECT_EQ(backoff_delay_ms(policy, 40, 0.0, FailureKind::kRefused), 1000u);
  EXPECT_EQ(backoff_delay_ms(policy, 40, 0.5, FailureKind::kRefused), 500u);
  EXPECT_LE(backoff_delay_ms(policy, 40, 0.999999, FailureKind::kRefused), 1u);
  // Every other failure keeps the exponential cap.
  EXPECT_EQ(backoff_delay_ms(policy, 40, 0.0, FailureKind::kOther), 20'000u);
  EXPECT_EQ(backoff_delay_ms(policy, 3, 0.0), 4000u);
}

TEST(Backoff, ARefusedMaximumAboveTheMaximumOrZeroChangesNothing) {
  BackoffPolicy policy{500, 2000, 2.0, 0.0};
  policy.refused_max_delay_ms = 5000;
  EXPECT_EQ(backoff_delay_ms(policy, 10, 0.0, FailureKind::kRefused), 2000u);
  policy.refused_max_delay_ms = 0;
  EXPECT_EQ(backoff_delay_ms(policy, 10, 0.0, FailureKind::kRefused), 2000u);
  policy.refused_max_delay_ms = 100;  // below the minimum: the refused cap wins
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0.0, FailureKind::kRefused), 100u);
}

TEST(Backoff, RetryAfterIsAFloor) {
  EXPECT_EQ(honour_retry_after(700, std::nullopt), 700u);
  EXPECT_EQ(honour_retry_after(700, 3), 3000u);
  EXPECT_EQ(honour_retry_after(7000, 3), 7000u);
  EXPECT_EQ(honour_retry_after(700, 0), 700u);
}

}  // namespace
}  // namespace switchboard::base
