// Reading the replies of a channel with a stream: a publish reply's
// position, a recovery's publications counted whatever their data holds,
// and what check_recovery says about each way a recovery can be wrong.
#include "bench/recovery_reply.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

std::string recovery(std::uint64_t from, std::uint64_t to, const std::string& data = R"("x")",
                     const std::string& epoch = "ep") {
  std::string text = R"({"type":"reply","id":3,"data":{"recoverable":true,"epoch":")" + epoch + R"(","offset":)" +
                     std::to_string(to) + R"(,"recovered":true,"publications":[)";
  for (std::uint64_t k = from; k <= to; ++k) {
    if (k != from) text += ',';
    text += R"({"offset":)" + std::to_string(k) + R"(,"data":)" + data + "}";
  }
  return text + "]}}";
}

TEST(RecoveryReply, PublishReplyGivesThePosition) {
  StreamReply reply;
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":7,"data":{"offset":42,"epoch":"q3V_x9aZ"}})", &reply),
            ReplyKind::kReply);
  EXPECT_EQ(reply.id, 7u);
  EXPECT_EQ(reply.offset, 42u);
  EXPECT_TRUE(reply.has_epoch);
  EXPECT_EQ(reply.epoch, "q3V_x9aZ");
  EXPECT_FALSE(reply.has_publications);
}

TEST(RecoveryReply, PublishReplyWithoutAStreamHasNoEpoch) {
  StreamReply reply;
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{"offset":0}})", &reply), ReplyKind::kReply);
  EXPECT_FALSE(reply.has_epoch);
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":2,"data":{}})", &reply), ReplyKind::kReply);
  EXPECT_EQ(reply.id, 2u);
}

TEST(RecoveryReply, CountsEveryPublicationOfARecovery) {
  StreamReply reply;
  const std::string text = recovery(11, 110);  // the reply's views point into it
  ASSERT_EQ(parse_stream_reply(text, &reply), ReplyKind::kReply);
  EXPECT_TRUE(reply.recoverable);
  EXPECT_TRUE(reply.recovered);
  EXPECT_EQ(reply.offset, 110u);
  EXPECT_EQ(reply.publications, 100u);
  EXPECT_EQ(reply.first_offset, 11u);
  EXPECT_EQ(reply.last_offset, 110u);
  EXPECT_TRUE(reply.contiguous);
  EXPECT_EQ(check_recovery(reply, "ep", 10, 110), "");
}

TEST(RecoveryReply, DataOfAnyShapeIsOnePublication) {
  // Braces, brackets, commas, escaped quotes and an "offset" key inside the
  // data must not be taken for the array's structure.
  const std::string data = R"({"offset":999,"a":[1,{"b":"}],\"{"}],"s":"\\","t":"x\\\"y","n":null,"f":-1.5e3})";
  StreamReply reply;
  ASSERT_EQ(parse_stream_reply(recovery(1, 3, data), &reply), ReplyKind::kReply);
  EXPECT_EQ(reply.publications, 3u);
  EXPECT_EQ(reply.first_offset, 1u);
  EXPECT_EQ(reply.last_offset, 3u);
  EXPECT_TRUE(reply.contiguous);
  ASSERT_EQ(parse_stream_reply(recovery(5, 6, "[[],[[]],\"]\"]"), &reply), ReplyKind::kReply);
  EXPECT_EQ(reply.publications, 2u);
  ASSERT_EQ(parse_stream_reply(recovery(5, 7, "true"), &reply), ReplyKind::kReply);
  EXPECT_EQ(reply.publications, 3u);
}

TEST(RecoveryReply, AnEmptyRecoveryIsWhole) {
  StreamReply reply;
  ASSERT_EQ(
      parse_stream_reply(R"({"type":"reply","id":1,"data":{"recoverable":true,"epoch":"e","offset":5,"recovered":true,)"
                         R"("publications":[]}})",
                         &reply),
      ReplyKind::kReply);
  EXPECT_EQ(reply.publications, 0u);
  EXPECT_EQ(check_recovery(reply, "e", 5, 5), "");
  EXPECT_NE(check_recovery(reply, "e", 4, 5), "");
}

TEST(RecoveryReply, SaysWhatIsWrongWithARecovery) {
  StreamReply reply;
  const std::string text = recovery(11, 110);  // the reply's views point into it
  ASSERT_EQ(parse_stream_reply(text, &reply), ReplyKind::kReply);
  EXPECT_NE(check_recovery(reply, "ep", 9, 110).find("100 publications recovered, not 101"), std::string::npos);
  EXPECT_NE(check_recovery(reply, "other", 10, 110).find("epoch"), std::string::npos);
  EXPECT_NE(check_recovery(reply, "ep", 10, 111).find("offset 110"), std::string::npos);

  std::string gap = recovery(1, 4);
  gap.replace(gap.find(R"("offset":3)"), 10, R"("offset":5)");
  ASSERT_EQ(parse_stream_reply(gap, &reply), ReplyKind::kReply);
  EXPECT_EQ(reply.publications, 4u);
  EXPECT_FALSE(reply.contiguous);
  EXPECT_NE(check_recovery(reply, "ep", 0, 4).find("with gaps"), std::string::npos);

  ASSERT_EQ(
      parse_stream_reply(
          R"({"type":"reply","id":1,"data":{"recoverable":true,"epoch":"e","offset":9,"recovered":false}})", &reply),
      ReplyKind::kReply);
  EXPECT_NE(check_recovery(reply, "e", 0, 9).find("recovered:false"), std::string::npos);
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{"recoverable":false,"recovered":false}})", &reply),
            ReplyKind::kReply);
  EXPECT_NE(check_recovery(reply, "e", 0, 9).find("recoverable:false"), std::string::npos);
}

TEST(RecoveryReply, KeepsAnEscapedEpochAsWritten) {
  StreamReply reply;
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{"offset":1,"epoch":"a\"b\\"}})", &reply),
            ReplyKind::kReply);
  EXPECT_EQ(reply.epoch, R"(a\"b\\)");
}

TEST(RecoveryReply, OtherFramesAndMalformedText) {
  StreamReply reply;
  EXPECT_EQ(parse_stream_reply(R"({"type":"error","id":1,"code":109,"message":"permission denied"})", &reply),
            ReplyKind::kOther);
  EXPECT_EQ(reply.type, "error");
  EXPECT_EQ(parse_stream_reply(R"({"type":"message","channel":"c","offset":1,"data":1})", &reply), ReplyKind::kOther);
  EXPECT_EQ(parse_stream_reply("", &reply), ReplyKind::kMalformed);
  EXPECT_EQ(parse_stream_reply("[1]", &reply), ReplyKind::kMalformed);
  EXPECT_EQ(parse_stream_reply(R"({"type":"reply","id":1})", &reply), ReplyKind::kMalformed);     // no data
  EXPECT_EQ(parse_stream_reply(R"({"type":"reply","data":{}})", &reply), ReplyKind::kMalformed);  // no id
  std::string cut = recovery(1, 50);
  cut.resize(cut.size() / 2);
  EXPECT_EQ(parse_stream_reply(cut, &reply), ReplyKind::kMalformed);
  EXPECT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{"publications":[{"data":1}]}})", &reply),
            ReplyKind::kMalformed);  // a publication without its offset
  EXPECT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{}} trailing)", &reply), ReplyKind::kMalformed);
}

}  // namespace
}  // namespace switchboard::bench
