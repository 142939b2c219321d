// RedisBroker's stream scripts without Redis: the SHA-1 EVALSHA names them
// by, the arguments each query becomes, and the parsing of their answers
// (anything that is not one is refused, never trusted). The Lua itself runs
// against a real redis-server in tests/integration/redis_streams_test.py.
#include "broker/redis_stream_scripts.h"

#include <limits>

#include <gtest/gtest.h>

namespace switchboard::broker {
namespace {

redis::Reply text(std::string value) {
  redis::Reply reply;
  reply.type = redis::ReplyType::kString;
  reply.str = std::move(value);
  return reply;
}

redis::Reply number(long long value) {
  redis::Reply reply;
  reply.type = redis::ReplyType::kInteger;
  reply.integer = value;
  return reply;
}

redis::Reply array(std::vector<redis::Reply> elements) {
  redis::Reply reply;
  reply.type = redis::ReplyType::kArray;
  reply.elements = std::move(elements);
  return reply;
}

redis::Reply read_reply(std::string epoch, long long top, long long complete, std::vector<redis::Reply> list,
                        std::vector<redis::Reply> latest = {}) {
  return array(
      {text(std::move(epoch)), number(top), number(complete), array(std::move(list)), array(std::move(latest))});
}

TEST(RedisStreamScripts, ScriptsAreNamedByTheirSha1AsRedisComputesIt) {
  // SCRIPT LOAD "return 1" answers this (Redis's documentation).
  EXPECT_EQ(make_lua_script("return 1").sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  const LuaScript plain = stream_publish_script("PUBLISH");
  const LuaScript sharded = stream_publish_script("SPUBLISH");
  EXPECT_NE(plain.sha1, sharded.sha1);
  EXPECT_NE(plain.text.find("redis.call('PUBLISH', ARGV[1]"), std::string::npos);
  EXPECT_NE(sharded.text.find("redis.call('SPUBLISH', ARGV[1]"), std::string::npos);
  EXPECT_EQ(stream_read_script().sha1.size(), 40u);
}

TEST(RedisStreamScripts, PublishArgumentsCarryTheEnvelopeHeaderAndTheLimits) {
  const Publication publication{"room", 0, R"({"a":1})", 7, HistoryLimits{100, 60}};
  const std::vector<std::string> arguments =
      stream_publish_arguments("sb:ch:{room}", "node1", publication, "EPOCH123", 86'400'000);
  EXPECT_EQ(arguments, (std::vector<std::string>{"sb:ch:{room}", "node1 7\n", R"({"a":1})", "EPOCH123", "100", "60000",
                                                 "86400000"}));
}

TEST(RedisStreamScripts, ReadArgumentsForEachMode) {
  StreamQuery position;
  position.history = {10, 60};
  position.latest = true;
  EXPECT_EQ(stream_read_arguments(position, "E", 1000),
            (std::vector<std::string>{"E", "1000", "p", "", "", "0", "0", "1"}));

  StreamQuery recover;
  recover.history = {10, 60};
  recover.mode = StreamQuery::Mode::kRecover;
  recover.has_since = true;
  recover.since = {0, "old"};
  recover.limit = 10;
  EXPECT_EQ(stream_read_arguments(recover, "E", 1000),
            (std::vector<std::string>{"E", "1000", "r", "0", "old", "10", "0", "0"}));

  // A page with no limit asks for all: the count stays an integer Lua and
  // COUNT take.
  StreamQuery page;
  page.history = {10, 60};
  page.mode = StreamQuery::Mode::kPage;
  page.limit = std::numeric_limits<std::size_t>::max();
  page.reverse = true;
  EXPECT_EQ(stream_read_arguments(page, "E", 1000),
            (std::vector<std::string>{"E", "1000", "g", "", "", "1000000000", "1", "0"}));
  page.has_since = true;
  page.since = {5, "E"};
  EXPECT_EQ(stream_read_arguments(page, "E", 1000)[3], "5");
}

TEST(RedisStreamScripts, MetaOutlivesTheStream) {
  EXPECT_EQ(stream_meta_ttl_ms(86'400'000, {10, 60}), 86'400'000u);
  EXPECT_EQ(stream_meta_ttl_ms(1000, {10, 60}), 60'000u);
}

TEST(RedisStreamScripts, PublishReply) {
  const auto parsed = parse_stream_publish_reply(array({number(42), text("E")}));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->offset, 42u);
  EXPECT_EQ(parsed->epoch, "E");
  EXPECT_FALSE(parse_stream_publish_reply(redis::Reply::error("NOSCRIPT No matching script")));
  EXPECT_FALSE(parse_stream_publish_reply(redis::Reply::connection_error("gone")));
  EXPECT_FALSE(parse_stream_publish_reply(number(42)));  // the script without a stream
  EXPECT_FALSE(parse_stream_publish_reply(array({number(0), text("E")})));
  EXPECT_FALSE(parse_stream_publish_reply(array({number(1), text("")})));
  EXPECT_FALSE(parse_stream_publish_reply(array({text("1"), text("E")})));
}

TEST(RedisStreamScripts, ReadReplyWithPublicationsAndLatest) {
  const auto answer = parse_stream_read_reply(
      read_reply("E", 9, 1, {text("8-0"), text("\"a\""), text("9-0"), text("{}")}, {text("9-0"), text("{}")}));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, StreamStatus::kRead);
  EXPECT_EQ(answer->top.offset, 9u);
  EXPECT_EQ(answer->top.epoch, "E");
  EXPECT_TRUE(answer->complete);
  ASSERT_EQ(answer->publications.size(), 2u);
  EXPECT_EQ(answer->publications[0].offset, 8u);
  EXPECT_EQ(answer->publications[0].data_json, "\"a\"");
  EXPECT_EQ(answer->publications[1].offset, 9u);
  EXPECT_TRUE(answer->has_latest);
  EXPECT_EQ(answer->latest.offset, 9u);
  EXPECT_EQ(answer->latest.data_json, "{}");
}

TEST(RedisStreamScripts, ReadReplyOfAPositionGone) {
  const auto answer = parse_stream_read_reply(read_reply("E", 0, 0, {}));
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->complete);
  EXPECT_TRUE(answer->publications.empty());
  EXPECT_FALSE(answer->has_latest);
}

TEST(RedisStreamScripts, ReadRepliesThatAreNotTheScriptsAreRefused) {
  EXPECT_FALSE(parse_stream_read_reply(redis::Reply::connection_error("gone")));
  EXPECT_FALSE(parse_stream_read_reply(redis::Reply::error("MOVED 1 127.0.0.1:7000")));
  EXPECT_FALSE(parse_stream_read_reply(array({text("E"), number(1), number(1), array({})})));  // 4 elements
  EXPECT_FALSE(parse_stream_read_reply(read_reply("", 1, 1, {})));                             // no epoch
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", -1, 1, {})));
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 2, {})));
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {text("1-0")})));             // odd list
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {text("1-1"), text("x")})));  // not our id
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {text("0-0"), text("x")})));
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {text("x-0"), text("x")})));
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {text("2-0"), text("x")})));  // above the top
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 1, {number(1), text("x")})));
  // Never a partial list presented as a failed recovery's.
  EXPECT_FALSE(parse_stream_read_reply(read_reply("E", 1, 0, {text("1-0"), text("x")})));
  EXPECT_FALSE(parse_stream_read_reply(
      read_reply("E", 2, 1, {}, {text("1-0"), text("x"), text("2-0"), text("y")})));  // two latest
}

TEST(RedisStreamScripts, NoscriptIsToldApart) {
  EXPECT_TRUE(is_noscript(redis::Reply::error("NOSCRIPT No matching script. Please use EVAL.")));
  EXPECT_FALSE(is_noscript(redis::Reply::error("ERR Error running script")));
  EXPECT_FALSE(is_noscript(text("NOSCRIPT")));
}

}  // namespace
}  // namespace switchboard::broker
