// "did you mean": the closest name within a few edits, or nothing.
#include "cli/did_you_mean.h"

#include <gtest/gtest.h>

namespace switchboard::cli {
namespace {

TEST(DidYouMean, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("port", "port"), 0u);
  EXPECT_EQ(edit_distance("prot", "port"), 2u);
  EXPECT_EQ(edit_distance("server.prt", "server.port"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(DidYouMean, ClosestWithinTheLimit) {
  const std::vector<std::string> names{"server.port", "server.host", "hub.max_held_bytes"};
  EXPECT_EQ(closest_name("server.prot", names), "server.port");
  EXPECT_EQ(closest_name("server.hots", names), "server.host");
  EXPECT_EQ(closest_name("something.else", names), "");
  // A tie goes to the first in order.
  EXPECT_EQ(closest_name("server.xxxt", names), "server.port");
  EXPECT_EQ(did_you_mean("server.port"), "did you mean server.port?");
  EXPECT_EQ(did_you_mean(""), "");
}

}  // namespace
}  // namespace switchboard::cli
