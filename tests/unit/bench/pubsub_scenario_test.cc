// The pubsub scenario's wire pieces: the publish command it writes, the
// delivery it parses, and how publishes spread over channels.
#include "bench/pubsub_scenario.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

TEST(PubsubScenario, PublishCommand) {
  std::string out;
  write_publish(out, 7, 3, 0x1234, 0xABCDEF, 40);
  EXPECT_EQ(out, R"({"id":7,"type":"publish","channel":"bench.3","data":")"
                 "0000000000001234"
                 "0000000000abcdef"
                 "xxxxxxxx\"}");
  const std::size_t capacity = out.capacity();
  write_publish(out, 8, 3, 0x1235, 0xABCDF0, 40);
  EXPECT_EQ(out.capacity(), capacity);  // reused, not reallocated
}

TEST(PubsubScenario, ParsesWhatTheHubDelivers) {
  std::uint64_t timestamp = 0;
  std::uint64_t sequence = 0;
  ASSERT_TRUE(parse_delivery(R"({"type":"message","channel":"bench.3","offset":9,"data":")"
                             "0000000000001234"
                             "0000000000abcdef"
                             "xxxx\"}",
                             &timestamp, &sequence));
  EXPECT_EQ(timestamp, 0x1234u);
  EXPECT_EQ(sequence, 0xABCDEFu);
  EXPECT_FALSE(parse_delivery(R"({"type":"reply","id":1,"data":{}})", &timestamp, &sequence));
  EXPECT_FALSE(parse_delivery(R"({"type":"message","channel":"c","offset":1,"data":"short"})", &timestamp, &sequence));
  EXPECT_FALSE(
      parse_delivery(R"({"type":"message","channel":"c","offset":1,"data":"000000000000123g0000000000000001"})",
                     &timestamp, &sequence));
}

TEST(PubsubScenario, PublishesPerChannel) {
  EXPECT_EQ(published_to_channel(0, 0, 3), 0u);
  EXPECT_EQ(published_to_channel(7, 0, 3), 3u);  // 0, 3, 6
  EXPECT_EQ(published_to_channel(7, 1, 3), 2u);  // 1, 4
  EXPECT_EQ(published_to_channel(7, 2, 3), 2u);  // 2, 5
  EXPECT_EQ(published_to_channel(5, 0, 1), 5u);
}

TEST(PubsubScenario, ParsesTheHubsRefusalOfAPublish) {
  std::uint64_t id = 0;
  std::uint32_t code = 0;
  ASSERT_TRUE(parse_refusal(R"({"type":"error","id":2002,"code":121,"message":"rate limit exceeded"})", &id, &code));
  EXPECT_EQ(id, 2002u);
  EXPECT_EQ(code, 121u);
  EXPECT_FALSE(parse_refusal(R"({"type":"reply","id":7,"data":{"offset":1}})", &id, &code));
  EXPECT_FALSE(parse_refusal(R"({"type":"error","id":null,"code":102,"message":"bad id"})", &id, &code));
  EXPECT_FALSE(parse_refusal(R"({"type":"error","id":5})", &id, &code));
}

TEST(PubsubScenario, MissingDeliveriesLeaveOutRefusedPublishes) {
  // 7 publishes over 3 channels: 3, 2 and 2 of them.
  const std::vector<std::uint64_t> subscribers{2, 1, 1};
  std::vector<std::uint64_t> refused{0, 0, 0};
  EXPECT_EQ(missing_deliveries(subscribers, {6, 2, 2}, refused, 7), 0u);
  EXPECT_EQ(missing_deliveries(subscribers, {5, 2, 2}, refused, 7), 1u);
  // One refused on channel 0 and both on channel 2: nothing was due there.
  refused = {1, 0, 2};
  EXPECT_EQ(missing_deliveries(subscribers, {4, 2, 0}, refused, 7), 0u);
  EXPECT_EQ(missing_deliveries(subscribers, {4, 1, 0}, refused, 7), 1u);
  // A surplus on one channel does not hide a loss on another.
  EXPECT_EQ(missing_deliveries(subscribers, {6, 1, 0}, refused, 7), 1u);
}

}  // namespace
}  // namespace switchboard::bench
