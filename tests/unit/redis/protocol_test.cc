#include "redis/protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::redis {
namespace {

TEST(EncodeCommand, MultiBulkOfBulkStrings) {
  std::string out;
  std::string_view argv[] = {"SET", "k", "v"};
  encode_command(argv, out);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST(EncodeCommand, AnyBytesAndAppends) {
  std::string out = "x";
  const std::string binary("a\0\r\nb", 5);
  std::string_view argv[] = {"ECHO", binary, ""};
  encode_command(argv, out);
  EXPECT_EQ(out, std::string("x*3\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n$0\r\n\r\n", 32));
}

// One of each reply type, nested arrays and a binary bulk string.
const std::string kStream = std::string(
    "+OK\r\n"
    "-ERR wrong\r\n"
    ":-42\r\n"
    "$-1\r\n"
    "$5\r\nab\0\r\n\r\n"
    "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n*2\r\n:1\r\n$0\r\n\r\n"
    "*0\r\n"
    "*-1\r\n",
    89);

void expect_stream(const std::vector<Reply>& replies) {
  ASSERT_EQ(replies.size(), 8u);
  EXPECT_EQ(replies[0].type, ReplyType::kStatus);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_TRUE(replies[1].is_error());
  EXPECT_FALSE(replies[1].is_connection_error());
  EXPECT_EQ(replies[1].str, "ERR wrong");
  EXPECT_EQ(replies[2].type, ReplyType::kInteger);
  EXPECT_EQ(replies[2].integer, -42);
  EXPECT_TRUE(replies[3].is_nil());
  EXPECT_EQ(replies[4].type, ReplyType::kString);
  EXPECT_EQ(replies[4].str, std::string("ab\0\r\n", 5));
  ASSERT_EQ(replies[5].type, ReplyType::kArray);
  ASSERT_EQ(replies[5].elements.size(), 3u);
  EXPECT_EQ(replies[5].elements[1].str, "news");
  ASSERT_EQ(replies[5].elements[2].elements.size(), 2u);
  EXPECT_EQ(replies[5].elements[2].elements[0].integer, 1);
  EXPECT_EQ(replies[5].elements[2].elements[1].str, "");
  EXPECT_EQ(replies[6].type, ReplyType::kArray);
  EXPECT_TRUE(replies[6].elements.empty());
  EXPECT_TRUE(replies[7].is_nil());
}

TEST(ReplyReader, ParsesEveryTypeSplitAtEveryOffset) {
  ASSERT_EQ(kStream.size(), 89u);
  for (std::size_t split = 0; split <= kStream.size(); ++split) {
    SCOPED_TRACE(split);
    ReplyReader reader;
    std::vector<Reply> replies;
    Reply reply;
    for (auto part : {std::string_view(kStream).substr(0, split), std::string_view(kStream).substr(split)}) {
      ASSERT_TRUE(reader.feed(part.data(), part.size()));
      ReadOutcome outcome;
      while ((outcome = reader.next(reply)) == ReadOutcome::kReply) replies.push_back(reply);
      ASSERT_EQ(outcome, ReadOutcome::kNeedMore);
    }
    expect_stream(replies);
  }
}

TEST(ReplyReader, ByteAtATime) {
  ReplyReader reader;
  std::vector<Reply> replies;
  Reply reply;
  for (char c : kStream) {
    ASSERT_TRUE(reader.feed(&c, 1));
    while (reader.next(reply) == ReadOutcome::kReply) replies.push_back(reply);
  }
  expect_stream(replies);
}

TEST(ReplyReader, GarbageIsAProtocolErrorAndResetRecovers) {
  ReplyReader reader;
  Reply reply;
  std::string garbage = "?what\r\n";
  reader.feed(garbage.data(), garbage.size());
  EXPECT_EQ(reader.next(reply), ReadOutcome::kProtocolError);
  EXPECT_FALSE(reader.error().empty());
  reader.reset();
  std::string ok = "+OK\r\n";
  ASSERT_TRUE(reader.feed(ok.data(), ok.size()));
  ASSERT_EQ(reader.next(reply), ReadOutcome::kReply);
  EXPECT_EQ(reply.str, "OK");
}

TEST(Reply, ConnectionErrorsAreMarked) {
  Reply lost = Reply::connection_error("connect: Connection refused");
  EXPECT_TRUE(lost.is_error());
  EXPECT_TRUE(lost.is_connection_error());
  EXPECT_EQ(lost.str, "ERR connection lost: connect: Connection refused");
  EXPECT_FALSE(Reply::error("ERR connection lost").is_connection_error());
}

}  // namespace
}  // namespace switchboard::redis
