// ServerConnection over a socketpair: the closing handshake both ways, its
// timeout, peers that vanish, protocol violations and the heartbeat.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/frame_writer.h"
#include "server_connection_fixture.h"

namespace switchboard::server::testing {
namespace {

// --- closing ------------------------------------------------------------

TEST_F(ServerConnectionTest, ThePeersCloseIsEchoedWithItsCodeThenTcpCloses) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_close(4321, "bye"));
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code(), 4321);
  EXPECT_TRUE(peer.reads_eof());
  const std::vector<testing::Closed> closed = handler_.closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(static_cast<int>(closed[0].code), 4321);
  EXPECT_EQ(closed[0].reason, "bye");
}

TEST_F(ServerConnectionTest, ACloseWithoutAStatusIsAnsweredWithoutOne) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kClose, ""));
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->payload, "");
  EXPECT_TRUE(peer.reads_eof());
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kNoStatus);
}

TEST_F(ServerConnectionTest, OurCloseWaitsForThePeersAnswerAndRefusesLaterSends) {
  config_.close_timeout_ms = 600'000;  // only the peer's answer ends it
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  SendStatus after_close = SendStatus::kSent;
  with_connection(id, [&](Connection& connection) {
    connection.close(static_cast<CloseCode>(4000), "done");
    after_close = connection.send_text("too late");
  });
  EXPECT_EQ(after_close, SendStatus::kDropped);
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code(), 4000);
  EXPECT_EQ(close->close_reason(), "done");
  EXPECT_TRUE(handler_.closed().empty());  // not before the peer answers
  ASSERT_TRUE(peer.send_close(4000, "ack"));
  EXPECT_TRUE(peer.reads_eof());
  ASSERT_TRUE(eventually([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(static_cast<int>(handler_.closed()[0].code), 4000);
  EXPECT_EQ(handler_.closed()[0].reason, "ack");
}

TEST_F(ServerConnectionTest, ACloseThePeerNeverAnswersEndsAfterTheCloseTimeoutWithOurCode) {
  config_.close_timeout_ms = 100;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  with_connection(id, [](Connection& connection) { connection.close(CloseCode::kTryAgainLater, "slow"); });
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), 1013);
  EXPECT_TRUE(peer.reads_eof());  // TCP closed without our answer
  ASSERT_TRUE(eventually([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kTryAgainLater);
  EXPECT_EQ(handler_.closed()[0].reason, "close handshake timed out");
}

TEST_F(ServerConnectionTest, TerminateDropsTcpWithoutACloseFrame) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  with_connection(id, [](Connection& connection) { connection.terminate(); });
  EXPECT_FALSE(peer.read_frame());  // EOF, no frame
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kAbnormal);
  EXPECT_EQ(handler_.closed()[0].reason, "terminated");
}

TEST_F(ServerConnectionTest, APeerThatVanishesIsReportedOnceWith1006) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  peer.close();
  ASSERT_TRUE(eventually([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kAbnormal);
  EXPECT_EQ(handler_.closed()[0].reason, "connection lost");
}

TEST_F(ServerConnectionTest, APeerThatHalfClosesWithoutACloseFrameIsReportedWith1006AndClosed) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  peer.shutdown_write();
  EXPECT_TRUE(peer.reads_eof());
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kAbnormal);
}

struct Violation {
  const char* name;
  std::string frame;
  std::uint16_t code;
};

class ViolationTest : public ServerConnectionTest, public ::testing::WithParamInterface<Violation> {};

// RFC 6455 §7.1.7: a close frame with the code, then TCP closes without
// waiting for the peer's answer; the handler hears the same code.
TEST_P(ViolationTest, ClosesWithItsCode) {
  config_.max_message_size = 1000;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send(GetParam().frame));
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code(), GetParam().code);
  EXPECT_TRUE(peer.reads_eof());
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(static_cast<std::uint16_t>(handler_.closed()[0].code), GetParam().code);
  EXPECT_TRUE(handler_.messages().empty());
}

constexpr codec::MaskKey kKey{9, 8, 7, 6};

INSTANTIATE_TEST_SUITE_P(
    Frames, ViolationTest,
    ::testing::Values(Violation{"UnmaskedFrame", codec::make_frame(Opcode::kText, "x"), 1002},
                      Violation{"TooBig", codec::make_masked_frame(Opcode::kBinary, std::string(1001, 'b'), kKey),
                                1009},
                      Violation{"InvalidUtf8", codec::make_masked_frame(Opcode::kText, "\xff", kKey), 1007},
                      Violation{"ContinuationFirst", codec::make_masked_frame(Opcode::kContinuation, "c", kKey), 1002}),
    [](const ::testing::TestParamInfo<Violation>& info) { return std::string(info.param.name); });

TEST_F(ServerConnectionTest, AFragmentedMessageLeftOpenClosesWith1008AfterItsDeadline) {
  config_.fragment_timeout_ms = 100;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "never finished", Fin::kNo));
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), 1008);
  EXPECT_EQ(close->close_reason(), "message not finished in time");
  EXPECT_TRUE(peer.reads_eof());
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kPolicyViolation);
}

// The frames batched in this iteration go out before the close frame of a
// violation in the same read, and the FIN after both.
TEST_F(ServerConnectionTest, AViolationAfterABatchedAnswerClosesAfterIt) {
  handler_.answer = RecordingHandler::Answer::kEchoShared;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send(codec::make_masked_frame(Opcode::kText, "answered", kKey) +
                        codec::make_frame(Opcode::kText, "unmasked")));
  std::optional<PeerFrame> answer = peer.read_frame();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->payload, "answered");
  std::optional<PeerFrame> close = peer.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), 1002);
  EXPECT_TRUE(peer.reads_eof());
}

// The codec's rule for what a close frame may carry holds for our closes
// too: a code for reporting only goes out as 1000; 1012-1014 as they are.
TEST_F(ServerConnectionTest, ACloseCodeThatMayNotBeSentGoesOutAs1000) {
  start();
  const std::vector<std::pair<int, std::uint16_t>> cases = {{1005, 1000}, {1006, 1000}, {1015, 1000}, {1012, 1012},
                                                            {1013, 1013}, {1014, 1014}, {4999, 4999}};
  for (const auto& [code, on_wire] : cases) {
    std::uint64_t id;
    Peer peer = open(&id);
    with_connection(id, [code = code](Connection& connection) { connection.close(static_cast<CloseCode>(code)); });
    std::optional<PeerFrame> close = peer.read_frame();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->close_code(), on_wire) << "close(" << code << ")";
    ASSERT_TRUE(peer.send_close(on_wire));
    EXPECT_TRUE(peer.reads_eof());
  }
}

// --- the heartbeat ------------------------------------------------------

// More pings than the allowance, each answered: without the pongs the
// connection would be dropped. The allowance covers a second of this thread
// stalled on a loaded machine.
TEST_F(ServerConnectionTest, AnsweredPingsKeepTheConnection) {
  config_.ping_interval_ms = 25;
  config_.missed_pongs_allowed = 40;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  for (int i = 0; i < 45; ++i) {
    std::optional<PeerFrame> ping = peer.read_frame();
    ASSERT_TRUE(ping);
    ASSERT_EQ(ping->opcode, Opcode::kPing);
    ASSERT_TRUE(peer.send_frame(Opcode::kPong, ping->payload));
  }
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "still here"));
  std::optional<PeerFrame> echo = read_frame_skipping_pings(peer);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, "still here");
  EXPECT_TRUE(handler_.closed().empty());
}

TEST_F(ServerConnectionTest, UnansweredPingsDropThePeerWith1006) {
  config_.ping_interval_ms = 30;
  config_.missed_pongs_allowed = 2;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  EXPECT_TRUE(peer.reads_eof());  // pings, then TCP closes
  ASSERT_EQ(handler_.closed().size(), 1u);
  EXPECT_EQ(handler_.closed()[0].code, CloseCode::kAbnormal);
  EXPECT_EQ(handler_.closed()[0].reason, "ping timeout");
}

// A fragmented message's deadline holds the heartbeat back (one timer);
// when the deadline passes with the message finished, the heartbeat ticks
// at once instead of a whole interval later.
TEST_F(ServerConnectionTest, TheHeartbeatTicksWhenAFinishedMessagesDeadlinePasses) {
  config_.ping_interval_ms = 600'000;   // only the deadline can bring a ping this soon
  config_.fragment_timeout_ms = 1'000;  // a second for this thread to finish the message
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "in ", Fin::kNo));
  ASSERT_TRUE(peer.send_frame(Opcode::kContinuation, "time", Fin::kYes));
  std::optional<PeerFrame> echo = peer.read_frame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, "in time");
  std::optional<PeerFrame> ping = peer.read_frame();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, Opcode::kPing);
  EXPECT_TRUE(handler_.closed().empty());
}

}  // namespace
}  // namespace switchboard::server::testing
