// Query parameters of a request target, percent-decoded.
#include "http/query.h"

#include <gtest/gtest.h>

namespace switchboard::http {
namespace {

TEST(Query, FindsAndDecodes) {
  EXPECT_EQ(query_parameter("/ws?user=alice", "user"), "alice");
  EXPECT_EQ(query_parameter("/ws?a=1&user=al%20ice&b=2", "user"), "al ice");
  EXPECT_EQ(query_parameter("/ws?user=a+b", "user"), "a b");
  EXPECT_EQ(query_parameter("/ws?user=%41%6a", "user"), "Aj");
  EXPECT_EQ(query_parameter("/ws?us%65r=x", "user"), "x");
  EXPECT_EQ(query_parameter("/ws?user=first&user=second", "user"), "first");
  EXPECT_EQ(query_parameter("/ws?flag&user=", "flag"), "");
  EXPECT_EQ(query_parameter("/ws?user=", "user"), "");
  EXPECT_EQ(query_parameter("/ws?user=x#frag", "user"), "x");
}

TEST(Query, AbsentOrMalformed) {
  EXPECT_EQ(query_parameter("/ws", "user"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws?", "user"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws?username=x", "user"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws?user=%", "user"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws?user=%4", "user"), std::nullopt);
  EXPECT_EQ(query_parameter("/ws?user=%zz", "user"), std::nullopt);
  EXPECT_EQ(percent_decode("100%"), std::nullopt);
  EXPECT_EQ(percent_decode("a%2Bb"), "a+b");
}

}  // namespace
}  // namespace switchboard::http
