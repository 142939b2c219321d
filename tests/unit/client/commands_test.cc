// Commands as the server reads them: ids in front, strings escaped, JSON
// values as given; and the checks made before a command is queued.
#include "client/commands.h"

#include <gtest/gtest.h>

#include "protocol/command.h"

namespace switchboard::client {
namespace {

// Every command we write is one the server's own parser accepts.
protocol::Command parsed(const std::string& text) {
  static protocol::CommandParser parser;  // the views of a Command point into it
  protocol::Command command;
  protocol::CommandError error;
  EXPECT_TRUE(parser.parse(text, &command, &error)) << text << ": " << error.message;
  return command;
}

TEST(Commands, IdComesFirst) {
  EXPECT_EQ(encode_command(7, ping_body()), R"({"id":7,"type":"ping"})");
  EXPECT_EQ(parsed(encode_command(9007199254740991, ping_body())).id, 9007199254740991u);
}

TEST(Commands, ConnectAndRefreshCarryTheTokenWhenThereIsOne) {
  EXPECT_EQ(encode_command(1, connect_body("")), R"({"id":1,"type":"connect"})");
  EXPECT_EQ(encode_command(1, connect_body("a.b.c")), R"({"id":1,"type":"connect","token":"a.b.c"})");
  EXPECT_EQ(parsed(encode_command(2, refresh_body("x.y.z"))).token, "x.y.z");
}

TEST(Commands, SubscribeAndUnsubscribe) {
  EXPECT_EQ(encode_command(3, subscribe_body("chat:lobby", "")),
            R"({"id":3,"type":"subscribe","channel":"chat:lobby"})");
  const protocol::Command command = parsed(encode_command(4, subscribe_body("$secret", "t")));
  EXPECT_EQ(command.channel, "$secret");
  EXPECT_EQ(command.token, "t");
  EXPECT_EQ(encode_command(5, unsubscribe_body("news")), R"({"id":5,"type":"unsubscribe","channel":"news"})");
}

TEST(Commands, SubscribeAsksForRecoveryFromAPositionAndForTheLatest) {
  EXPECT_EQ(encode_command(3, subscribe_body("feed", "", StreamPosition{"e\"1", 42})),
            R"({"id":3,"type":"subscribe","channel":"feed","recover":true,"since":{"offset":42,"epoch":"e\"1"}})");
  EXPECT_EQ(encode_command(4, subscribe_body("feed", "", std::nullopt, Latest::kYes)),
            R"({"id":4,"type":"subscribe","channel":"feed","latest":true})");
  EXPECT_EQ(encode_command(5, subscribe_body("$f", "t", StreamPosition{"E", 0}, Latest::kYes)),
            R"({"id":5,"type":"subscribe","channel":"$f","token":"t","recover":true,"since":{"offset":0,"epoch":"E"},)"
            R"("latest":true})");
}

TEST(Commands, HistorySendsOnlyWhatWasAsked) {
  EXPECT_EQ(encode_command(6, history_body("feed", {})), R"({"id":6,"type":"history","channel":"feed"})");
  HistoryOptions options;
  options.limit = 10;
  options.since = StreamPosition{"E", 7};
  options.order = HistoryOrder::kNewestFirst;
  EXPECT_EQ(encode_command(7, history_body("feed", options)),
            R"({"id":7,"type":"history","channel":"feed","limit":10,"since":{"offset":7,"epoch":"E"},"reverse":true})");
}

TEST(Commands, PublishKeepsDataAsGiven) {
  EXPECT_EQ(encode_command(6, publish_body("news", R"({"a":[1,2]})", ExcludeSelf::kNo)),
            R"({"id":6,"type":"publish","channel":"news","data":{"a":[1,2]}})");
  const protocol::Command command = parsed(encode_command(7, publish_body("news", " \"x\" ", ExcludeSelf::kYes)));
  EXPECT_TRUE(command.exclude_self);
  EXPECT_EQ(command.data, "\"x\"");
}

TEST(Commands, RpcSendPresence) {
  EXPECT_EQ(encode_command(8, rpc_body("getUser", "")), R"({"id":8,"type":"rpc","method":"getUser"})");
  EXPECT_EQ(parsed(encode_command(9, rpc_body("getUser", R"({"id":42})"))).data, R"({"id":42})");
  const protocol::Command send = parsed(encode_command(10, send_body("bob", "[true]")));
  EXPECT_EQ(send.user, "bob");
  EXPECT_EQ(send.data, "[true]");
  EXPECT_EQ(encode_command(11, presence_body("room")), R"({"id":11,"type":"presence","channel":"room"})");
}

TEST(Commands, StringsAreEscaped) {
  EXPECT_EQ(encode_command(1, send_body("a\"b\\c\n", "1")), R"({"id":1,"type":"send","user":"a\"b\\c\n","data":1})");
}

TEST(Commands, CheckJsonWantsExactlyOneValue) {
  for (const char* good : {"1", "\"x\"", "null", "[1,{\"a\":true}]", " {\"b\": 2} "}) {
    EXPECT_TRUE(check_json(good).ok()) << good;
  }
  for (const char* bad : {"", "   ", "{", "{'a':1}", "1 2", "[1,]", "hello", "\"\xff\""}) {
    EXPECT_FALSE(check_json(bad).ok()) << bad;
  }
}

TEST(Commands, CheckNameWantsNonEmptyUtf8) {
  EXPECT_TRUE(check_name("channel", "chat:lobby").ok());
  EXPECT_EQ(check_name("channel", "").error(), "channel must not be empty");
  EXPECT_EQ(check_name("user", "\xc3\x28").error(), "user must be UTF-8");
}

}  // namespace
}  // namespace switchboard::client
