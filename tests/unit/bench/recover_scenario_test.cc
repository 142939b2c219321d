// The recover scenario's wire pieces: the setup's publish, the storm's
// subscribe (both read back by the hub's command parser), and the frame
// size a recovery may take.
#include "bench/recover_scenario.h"

#include <string>

#include <gtest/gtest.h>

#include "bench/recovery_reply.h"
#include "protocol/command.h"

namespace switchboard::bench {
namespace {

TEST(RecoverScenario, PublishCommand) {
  std::string out;
  write_recover_publish(out, 7, "feed:prices", 0xABC, 20);
  EXPECT_EQ(out, R"({"id":7,"type":"publish","channel":"feed:prices","data":"0000000000000abcxxxx"})");
  const std::size_t capacity = out.capacity();
  write_recover_publish(out, 8, "feed:prices", 0xABD, 20);
  EXPECT_EQ(out.capacity(), capacity);  // reused, not reallocated
}

TEST(RecoverScenario, TheHubReadsBothCommands) {
  protocol::CommandParser parser;
  protocol::Command command;
  protocol::CommandError error;
  std::string publish;
  write_recover_publish(publish, 9, "bench.recover", 3, 32);
  ASSERT_TRUE(parser.parse(publish, &command, &error)) << error.message;
  EXPECT_EQ(command.type, protocol::CommandType::kPublish);
  EXPECT_EQ(command.id, 9u);
  EXPECT_EQ(command.channel, "bench.recover");
  EXPECT_EQ(command.data.size(), 34u);  // the 32-byte string and its quotes
  const std::string subscribe = make_recover_subscribe(4, "bench.recover", "q3V_x9aZ", 900);
  ASSERT_TRUE(parser.parse(subscribe, &command, &error)) << error.message;
  EXPECT_EQ(command.type, protocol::CommandType::kSubscribe);
  EXPECT_EQ(command.id, 4u);
  EXPECT_TRUE(command.recover);
  EXPECT_TRUE(command.has_since);
  EXPECT_EQ(command.since_offset, 900u);
  EXPECT_EQ(command.since_epoch, "q3V_x9aZ");
}

TEST(RecoverScenario, SubscribeCommandRecoversSinceThePosition) {
  EXPECT_EQ(make_recover_subscribe(3, "bench.recover", "q3V_x9aZ", 900),
            R"({"id":3,"type":"subscribe","channel":"bench.recover","recover":true,)"
            R"("since":{"offset":900,"epoch":"q3V_x9aZ"}})");
  // The epoch goes back exactly as the reply wrote it, escapes included.
  StreamReply reply;
  ASSERT_EQ(parse_stream_reply(R"({"type":"reply","id":1,"data":{"offset":5,"epoch":"a\"b"}})", &reply),
            ReplyKind::kReply);
  EXPECT_NE(make_recover_subscribe(1, "c", reply.epoch, 0).find(R"("epoch":"a\"b")"), std::string::npos);
}

TEST(RecoverScenario, FrameSizeHoldsTheWholeRecovery) {
  // What the hub writes for K publications of a D-byte string, with 20-digit offsets.
  const std::uint32_t k = 1000;
  const std::uint32_t d = 32;
  const std::uint64_t envelope = std::string(R"({"type":"reply","id":18446744073709551615,"data":{"recoverable":true,)"
                                             R"("epoch":"0123456789abcdef","offset":18446744073709551615,)"
                                             R"("recovered":true,"publications":[]}})")
                                     .size();
  const std::uint64_t each = std::string(R"({"offset":18446744073709551615,"data":""},)").size() + d;
  EXPECT_GE(recovery_frame_size(k, d), envelope + k * each);
}

}  // namespace
}  // namespace switchboard::bench
