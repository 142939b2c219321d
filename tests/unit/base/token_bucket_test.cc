// The per-connection rate limiter: burst, refill, cap, a clock that does not move.
#include "base/token_bucket.h"

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(TokenBucket, UnlimitedAlwaysPasses) {
  TokenBucket bucket;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.try_take(RateLimit{}, 0, 1e9));
}

TEST(TokenBucket, BurstThenRefusedThenRefilled) {
  const RateLimit limit{10, 5};  // 10/s, burst 5
  TokenBucket bucket;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.try_take(limit, 1000, 1)) << i;
  EXPECT_FALSE(bucket.try_take(limit, 1000, 1));
  EXPECT_FALSE(bucket.try_take(limit, 1050, 1));  // half a token
  EXPECT_TRUE(bucket.try_take(limit, 1100, 1));   // one token after 100 ms
  EXPECT_FALSE(bucket.try_take(limit, 1100, 1));
}

TEST(TokenBucket, RefillStopsAtTheBurst) {
  const RateLimit limit{100, 3};
  TokenBucket bucket;
  EXPECT_TRUE(bucket.try_take(limit, 0, 3));
  // An hour idle still gives only the burst.
  EXPECT_TRUE(bucket.try_take(limit, 3'600'000, 3));
  EXPECT_FALSE(bucket.try_take(limit, 3'600'000, 1));
}

TEST(TokenBucket, CostsInBytesAndAClockThatGoesBack) {
  const RateLimit limit{1000, 1000};  // 1000 bytes/s
  TokenBucket bucket;
  EXPECT_TRUE(bucket.try_take(limit, 500, 600));
  EXPECT_FALSE(bucket.try_take(limit, 500, 600));
  EXPECT_FALSE(bucket.try_take(limit, 400, 600));  // an earlier time refills nothing
  EXPECT_TRUE(bucket.try_take(limit, 700, 600));   // 400 + 200 ms * 1 byte/ms
}

}  // namespace
}  // namespace switchboard::base
