// Slots and CLUSTER SLOTS parsing (pure). The real cluster is in
// tests/integration/scaling_test.py (RedisClusterTest), which also checks
// key_slot against CLUSTER KEYSLOT.
#include "redis/cluster.h"

#include <gtest/gtest.h>

namespace switchboard::redis {
namespace {

TEST(ClusterSlot, Crc16IsXmodem) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the standard check value
  EXPECT_EQ(crc16(""), 0);
}

TEST(ClusterSlot, HashTagRule) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("sb:off:{room:1}"), key_slot("sb:ch:{room:1}"));
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));           // the first tag only
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));          // up to the first '}'
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % 16384);  // an empty tag: the whole key
  EXPECT_EQ(key_slot("no tag"), crc16("no tag") % 16384);
  EXPECT_EQ(key_slot("{unclosed"), crc16("{unclosed") % 16384);
}

Reply integer(long long value) {
  Reply reply;
  reply.type = ReplyType::kInteger;
  reply.integer = value;
  return reply;
}

Reply string(std::string value) {
  Reply reply;
  reply.type = ReplyType::kString;
  reply.str = std::move(value);
  return reply;
}

Reply array(std::vector<Reply> elements) {
  Reply reply;
  reply.type = ReplyType::kArray;
  reply.elements = std::move(elements);
  return reply;
}

Reply range(long long start, long long end, std::string host, long long port) {
  return array({integer(start), integer(end), array({string(std::move(host)), integer(port), string("id")})});
}

TEST(ClusterSlots, ParsesMastersAndKeepsTheSeedsCredentials) {
  Endpoint seed;
  seed.host = "10.0.0.9";
  seed.password = "secret";
  auto map = parse_cluster_slots(
      array({range(0, 5460, "10.0.0.1", 7000), range(5461, 10922, "", 7001), range(10923, 16383, "10.0.0.1", 7000)}),
      seed);
  ASSERT_TRUE(map) << map.error();
  ASSERT_EQ(map->masters.size(), 2u);
  EXPECT_EQ(map->masters[0].host, "10.0.0.1");
  EXPECT_EQ(map->masters[1].host, "10.0.0.9");  // empty: the address the seed was reached at
  EXPECT_EQ(map->masters[1].port, 7001);
  EXPECT_EQ(map->masters[1].password, "secret");
  EXPECT_EQ(map->slot_master[0], 0);
  EXPECT_EQ(map->slot_master[5461], 1);
  EXPECT_EQ(map->slot_master[16383], 0);
}

TEST(ClusterSlots, RefusesGapsAndOddShapes) {
  Endpoint seed;
  const auto gap = parse_cluster_slots(array({range(0, 100, "h", 1)}), seed);
  ASSERT_FALSE(gap);
  EXPECT_NE(gap.error().find("slot 101 has no master"), std::string::npos) << gap.error();
  EXPECT_FALSE(parse_cluster_slots(array({range(0, 16384, "h", 1)}), seed));
  EXPECT_FALSE(parse_cluster_slots(array({array({integer(0), integer(16383)})}), seed));
  const auto disabled = parse_cluster_slots(Reply::error("ERR This instance has cluster support disabled"), seed);
  ASSERT_FALSE(disabled);
  EXPECT_NE(disabled.error().find("cluster support disabled"), std::string::npos) << disabled.error();
}

}  // namespace
}  // namespace switchboard::redis
