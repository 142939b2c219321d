// Server messages of protocol v1: exact bytes, and valid JSON whatever the
// strings hold.
#include "protocol/encode.h"

#include <simdjson.h>

#include <string>

#include <gtest/gtest.h>

namespace switchboard::protocol {
namespace {

TEST(Encode, Messages) {
  EXPECT_EQ(encode_reply(7, "{\"offset\":3}"), R"({"type":"reply","id":7,"data":{"offset":3}})");
  EXPECT_EQ(encode_error(7, ErrorCode::kBadChannel, "bad \"name\""),
            R"({"type":"error","id":7,"code":106,"message":"bad \"name\""})");
  EXPECT_EQ(encode_error(0, ErrorCode::kMalformed, "x"), R"({"type":"error","id":null,"code":101,"message":"x"})");
  EXPECT_EQ(encode_pong(9007199254740991u), R"({"type":"pong","id":9007199254740991})");
  EXPECT_EQ(encode_message("chat:a", 12, "[1,2]"), R"({"type":"message","channel":"chat:a","offset":12,"data":[1,2]})");
  EXPECT_EQ(encode_join("c", "alice", "258", ""),
            R"({"type":"join","channel":"c","user":"alice","client":"258","info":null})");
  EXPECT_EQ(encode_join("c", "", "258", "{\"x\":1}"),
            R"({"type":"join","channel":"c","user":null,"client":"258","info":{"x":1}})");
  EXPECT_EQ(encode_leave("c", "bob", "514"), R"({"type":"leave","channel":"c","user":"bob","client":"514"})");
  EXPECT_EQ(encode_direct("bob", "\"hi\""), R"({"type":"direct","from":"bob","data":"hi"})");
  EXPECT_EQ(encode_direct("", "1"), R"({"type":"direct","from":null,"data":1})");
}

TEST(Encode, RefreshAndDisconnect) {
  EXPECT_EQ(encode_refresh(30000), R"({"type":"refresh","grace_ms":30000})");
  EXPECT_EQ(encode_disconnect(1001, "server \"draining\"", Reconnect::kYes),
            R"({"type":"disconnect","code":1001,"reason":"server \"draining\"","reconnect":true})");
  EXPECT_EQ(encode_disconnect(4001, "", Reconnect::kNo),
            R"({"type":"disconnect","code":4001,"reason":"","reconnect":false})");
  EXPECT_EQ(encode_disconnect(1001, "d", Reconnect::kYes, Answered::kYes),
            R"({"type":"disconnect","code":1001,"reason":"d","reconnect":true,"answered":true})");
  EXPECT_EQ(encode_disconnect(1001, "d", Reconnect::kYes, Answered::kNo),
            R"({"type":"disconnect","code":1001,"reason":"d","reconnect":true,"answered":false})");
}

TEST(Encode, Member) {
  EXPECT_EQ(encode_member("alice", "ab12cd34-7", R"({"x":1})"),
            R"({"user":"alice","client":"ab12cd34-7","info":{"x":1}})");
  EXPECT_EQ(encode_member("", "7", ""), R"({"user":null,"client":"7","info":null})");
}

TEST(Encode, OutputIsValidJson) {
  simdjson::dom::parser parser;
  for (const std::string& json :
       {encode_reply(1, "null"), encode_error(2, ErrorCode::kInternal, std::string("\x00\"\\", 3)),
        encode_message("c", 1, "{\"a\":[true,false,null]}"), encode_join("c", "u\"", "1", ""),
        encode_leave("c", "", "1"), encode_direct("u", "\"\\u00e9\""), encode_member("u\"", "a-1", "{\"x\":1}")}) {
    simdjson::dom::element element;
    EXPECT_EQ(parser.parse(json).get(element), simdjson::SUCCESS) << json;
  }
}

}  // namespace
}  // namespace switchboard::protocol
