// Protocol v1 command parsing: every command type, and every error path
// with its stable code and the id it can still answer.
#include "protocol/command.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::protocol {
namespace {

class CommandTest : public ::testing::Test {
 protected:
  Command parse_ok(std::string_view text) {
    Command command;
    CommandError error;
    EXPECT_TRUE(parser_.parse(text, &command, &error)) << text << ": " << error.message;
    return command;
  }
  CommandError parse_error(std::string_view text) {
    Command command;
    CommandError error;
    EXPECT_FALSE(parser_.parse(text, &command, &error)) << text;
    return error;
  }
  void expect_error(std::string_view text, ErrorCode code, std::uint64_t id) {
    const CommandError error = parse_error(text);
    EXPECT_EQ(error.code, code) << text << ": " << error.message;
    EXPECT_EQ(error.id, id) << text;
    EXPECT_FALSE(error.message.empty());
  }

  CommandParser parser_;
};

TEST_F(CommandTest, Subscribe) {
  const Command c = parse_ok(R"({"id":1,"type":"subscribe","channel":"chat:lobby"})");
  EXPECT_EQ(c.type, CommandType::kSubscribe);
  EXPECT_EQ(c.id, 1u);
  EXPECT_EQ(c.channel, "chat:lobby");
}

TEST_F(CommandTest, UnsubscribeAndPresence) {
  EXPECT_EQ(parse_ok(R"({"type":"unsubscribe","id":2,"channel":"a"})").type, CommandType::kUnsubscribe);
  const Command p = parse_ok(R"({"id":3,"type":"presence","channel":"b"})");
  EXPECT_EQ(p.type, CommandType::kPresence);
  EXPECT_EQ(p.channel, "b");
}

TEST_F(CommandTest, PublishKeepsDataAsMinifiedJson) {
  const Command c =
      parse_ok(R"({"id":4,"type":"publish","channel":"c","data":{ "text" : "hi \"you\"", "n": [1, 2.5] }})");
  EXPECT_EQ(c.type, CommandType::kPublish);
  EXPECT_EQ(c.data, R"({"text":"hi \"you\"","n":[1,2.5]})");
  EXPECT_FALSE(c.exclude_self);
  EXPECT_TRUE(parse_ok(R"({"id":5,"type":"publish","channel":"c","data":null,"exclude_self":true})").exclude_self);
  EXPECT_EQ(parse_ok(R"({"id":6,"type":"publish","channel":"c","data":"\u00e9"})").data, "\"\xC3\xA9\"");
}

TEST_F(CommandTest, RpcDataIsOptional) {
  const Command c = parse_ok(R"({"id":7,"type":"rpc","method":"getUser","data":{"id":42}})");
  EXPECT_EQ(c.type, CommandType::kRpc);
  EXPECT_EQ(c.method, "getUser");
  EXPECT_EQ(c.data, R"({"id":42})");
  EXPECT_EQ(parse_ok(R"({"id":8,"type":"rpc","method":"now"})").data, "null");
}

TEST_F(CommandTest, SendAndPing) {
  const Command s = parse_ok(R"({"id":9,"type":"send","user":"alice","data":"hello"})");
  EXPECT_EQ(s.type, CommandType::kSend);
  EXPECT_EQ(s.user, "alice");
  EXPECT_EQ(s.data, "\"hello\"");
  EXPECT_EQ(parse_ok(R"({"id":10,"type":"ping"})").type, CommandType::kPing);
}

TEST_F(CommandTest, Connect) {
  const Command c = parse_ok(R"({"id":12,"type":"connect"})");
  EXPECT_EQ(c.type, CommandType::kConnect);
  EXPECT_FALSE(c.has_token);
  const Command with_token = parse_ok(R"({"id":13,"type":"connect","token":"abc"})");
  EXPECT_TRUE(with_token.has_token);
  EXPECT_EQ(with_token.token, "abc");
  expect_error(R"({"id":14,"type":"connect","token":7})", ErrorCode::kWrongFieldType, 14);
}

TEST_F(CommandTest, RefreshNeedsAToken) {
  const Command r = parse_ok(R"({"id":15,"type":"refresh","token":"t2"})");
  EXPECT_EQ(r.type, CommandType::kRefresh);
  EXPECT_EQ(r.token, "t2");
  expect_error(R"({"id":16,"type":"refresh"})", ErrorCode::kMissingField, 16);
  expect_error(R"({"id":17,"type":"refresh","token":null})", ErrorCode::kWrongFieldType, 17);
}

TEST_F(CommandTest, SubscribeTakesASubscriptionToken) {
  const Command plain = parse_ok(R"({"id":18,"type":"subscribe","channel":"$team:plans"})");
  EXPECT_FALSE(plain.has_token);
  const Command with_token = parse_ok(R"({"id":19,"type":"subscribe","channel":"$team:plans","token":"s"})");
  EXPECT_TRUE(with_token.has_token);
  EXPECT_EQ(with_token.token, "s");
  expect_error(R"({"id":20,"type":"subscribe","channel":"c","token":{}})", ErrorCode::kWrongFieldType, 20);
}

TEST_F(CommandTest, UnknownFieldsAreIgnored) {
  EXPECT_EQ(parse_ok(R"({"id":11,"type":"ping","future":{"x":1}})").id, 11u);
}

TEST_F(CommandTest, IdRange) {
  EXPECT_EQ(parse_ok(R"({"id":9007199254740991,"type":"ping"})").id, kMaxId);
  expect_error(R"({"id":9007199254740992,"type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"id":18446744073709551615,"type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"id":0,"type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"id":-1,"type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"id":1.5,"type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"id":"1","type":"ping"})", ErrorCode::kBadId, 0);
  expect_error(R"({"type":"ping"})", ErrorCode::kBadId, 0);
}

TEST_F(CommandTest, MalformedDocuments) {
  for (const char* text : {"", "not json", "{", R"({"id":1,"type":"ping")", "[1,2]", "42", "\"ping\"", "null",
                           R"({"id":1,"type":"ping"} trailing)", R"({"id":1,"type":"ping","x":"\ud800"})"}) {
    expect_error(text, ErrorCode::kMalformed, 0);
  }
}

TEST_F(CommandTest, TypeErrorsKeepTheId) {
  expect_error(R"({"id":5})", ErrorCode::kMissingField, 5);
  expect_error(R"({"id":5,"type":7})", ErrorCode::kWrongFieldType, 5);
  expect_error(R"({"id":5,"type":"subscribe!"})", ErrorCode::kUnknownType, 5);
  expect_error(R"({"id":5,"type":"history"})", ErrorCode::kMissingField, 5);
}

TEST_F(CommandTest, SubscribeStreamFields) {
  const Command plain = parse_ok(R"({"id":1,"type":"subscribe","channel":"c"})");
  EXPECT_FALSE(plain.stream_fields);
  EXPECT_FALSE(plain.recover);
  const Command recover =
      parse_ok(R"({"id":1,"type":"subscribe","channel":"c","recover":true,"since":{"offset":41,"epoch":"Ab-_"}})");
  EXPECT_TRUE(recover.stream_fields);
  EXPECT_TRUE(recover.recover);
  EXPECT_TRUE(recover.has_since);
  EXPECT_EQ(recover.since_offset, 41u);
  EXPECT_EQ(recover.since_epoch, "Ab-_");
  const Command latest = parse_ok(R"({"id":1,"type":"subscribe","channel":"c","latest":true})");
  EXPECT_TRUE(latest.stream_fields);
  EXPECT_TRUE(latest.latest);
  // Asked and said no: the reply still says whether the channel is recoverable.
  EXPECT_TRUE(parse_ok(R"({"id":1,"type":"subscribe","channel":"c","recover":false})").stream_fields);
  const Command big = parse_ok(R"({"id":1,"type":"subscribe","channel":"c","recover":true,)"
                               R"("since":{"offset":18446744073709551615,"epoch":""}})");
  EXPECT_EQ(big.since_offset, 18446744073709551615u);
}

TEST_F(CommandTest, SubscribeStreamFieldErrors) {
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true})", ErrorCode::kMissingField, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":1,"since":{"offset":1,"epoch":"e"}})",
               ErrorCode::kWrongFieldType, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":5})", ErrorCode::kWrongFieldType, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":{"epoch":"e"}})",
               ErrorCode::kMissingField, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":{"offset":1}})",
               ErrorCode::kMissingField, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":{"offset":-1,"epoch":"e"}})",
               ErrorCode::kWrongFieldType, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":{"offset":1.5,"epoch":"e"}})",
               ErrorCode::kWrongFieldType, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","recover":true,"since":{"offset":1,"epoch":7}})",
               ErrorCode::kWrongFieldType, 3);
  expect_error(R"({"id":3,"type":"subscribe","channel":"c","latest":"yes"})", ErrorCode::kWrongFieldType, 3);
}

TEST_F(CommandTest, History) {
  const Command all = parse_ok(R"({"id":4,"type":"history","channel":"c"})");
  EXPECT_EQ(all.type, CommandType::kHistory);
  EXPECT_EQ(all.channel, "c");
  EXPECT_FALSE(all.has_limit);
  EXPECT_FALSE(all.has_since);
  EXPECT_FALSE(all.reverse);
  const Command page =
      parse_ok(R"({"id":4,"type":"history","channel":"c","limit":10,"reverse":true,"since":{"offset":7,"epoch":"E"}})");
  EXPECT_TRUE(page.has_limit);
  EXPECT_EQ(page.limit, 10u);
  EXPECT_TRUE(page.reverse);
  EXPECT_TRUE(page.has_since);
  EXPECT_EQ(page.since_offset, 7u);
  EXPECT_EQ(page.since_epoch, "E");
  expect_error(R"({"id":4,"type":"history","channel":"c","limit":-1})", ErrorCode::kWrongFieldType, 4);
  expect_error(R"({"id":4,"type":"history","channel":"c","limit":"3"})", ErrorCode::kWrongFieldType, 4);
  expect_error(R"({"id":4,"type":"history","channel":"c","reverse":1})", ErrorCode::kWrongFieldType, 4);
  expect_error(R"({"id":4,"type":"history","channel":"bad name"})", ErrorCode::kBadChannel, 4);
}

TEST_F(CommandTest, FieldErrors) {
  expect_error(R"({"id":1,"type":"subscribe"})", ErrorCode::kMissingField, 1);
  expect_error(R"({"id":1,"type":"subscribe","channel":5})", ErrorCode::kWrongFieldType, 1);
  expect_error(R"({"id":1,"type":"subscribe","channel":""})", ErrorCode::kBadChannel, 1);
  expect_error(R"({"id":1,"type":"subscribe","channel":"has space"})", ErrorCode::kBadChannel, 1);
  expect_error(R"({"id":1,"type":"subscribe","channel":")" + std::string(256, 'c') + "\"}", ErrorCode::kBadChannel, 1);
  expect_error(R"({"id":2,"type":"publish","channel":"c"})", ErrorCode::kMissingField, 2);
  expect_error(R"({"id":2,"type":"publish","channel":"c","data":1,"exclude_self":"yes"})", ErrorCode::kWrongFieldType,
               2);
  expect_error(R"({"id":3,"type":"rpc"})", ErrorCode::kMissingField, 3);
  expect_error(R"({"id":3,"type":"rpc","method":"a b"})", ErrorCode::kBadMethod, 3);
  expect_error(R"({"id":4,"type":"send","data":1})", ErrorCode::kMissingField, 4);
  expect_error(R"({"id":4,"type":"send","user":"a b","data":1})", ErrorCode::kBadUser, 4);
  expect_error(R"({"id":4,"type":"send","user":"a"})", ErrorCode::kMissingField, 4);
  expect_error(R"({"id":4,"type":"send","user":[],"data":1})", ErrorCode::kWrongFieldType, 4);
}

TEST_F(CommandTest, ParserIsReusable) {
  for (int i = 1; i <= 100; ++i) {
    const std::string text =
        R"({"id":)" + std::to_string(i) + R"(,"type":"publish","channel":"c","data":)" + std::to_string(i) + "}";
    const Command c = parse_ok(text);
    EXPECT_EQ(c.id, static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.data, std::to_string(i));
  }
}

}  // namespace
}  // namespace switchboard::protocol
