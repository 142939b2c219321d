// ServerConnection over a socketpair, the opening handshake and the frames
// of an open connection: the worker adopts one end, the test is the peer on
// the other and speaks raw RFC 6455 bytes (server_connection_fixture.h).
// Closing is in server_connection_close_test.cc, backpressure in
// server_connection_backpressure_test.cc.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/frame_writer.h"
#include "server_connection_fixture.h"

namespace switchboard::server::testing {
namespace {

// --- the opening handshake ----------------------------------------------

TEST_F(ServerConnectionTest, AcceptsAnUpgradeWithTheRfcAcceptKey) {
  start();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(upgrade_request()));
  const std::string head = peer.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: " + std::string(kSampleAccept) + "\r\n"), std::string::npos) << head;
  EXPECT_EQ(handler_.opened().size(), 1u);
  EXPECT_EQ(running_->worker().connection_count(), 1u);
}

TEST_F(ServerConnectionTest, FramesPipelinedWithTheUpgradeAreHandled) {
  start();
  Peer peer = running_->adopt();
  ASSERT_TRUE(
      peer.send(upgrade_request() + codec::make_masked_frame(Opcode::kText, "early", codec::MaskKey{1, 2, 3, 4})));
  EXPECT_EQ(peer.read_head().rfind("HTTP/1.1 101 ", 0), 0u);
  std::optional<PeerFrame> echo = peer.read_frame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, "early");
}

struct RefusedUpgrade {
  const char* name;
  std::string request;
  const char* status_line;  // what the answer starts with
  const char* header = "";  // a header line the answer must hold
};

class RefusedUpgradeTest : public ServerConnectionTest, public ::testing::WithParamInterface<RefusedUpgrade> {};

// The answer, then FIN; the handler never hears of the connection.
TEST_P(RefusedUpgradeTest, AnswersWithTheHttpStatusAndCloses) {
  start();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(GetParam().request));
  const std::string head = peer.read_head();
  EXPECT_EQ(head.rfind(GetParam().status_line, 0), 0u) << head;
  EXPECT_NE(head.find(GetParam().header), std::string::npos) << head;
  EXPECT_TRUE(peer.reads_eof());
  EXPECT_TRUE(handler_.opened().empty());
}

const std::string kNoUpgradeHeader =
    "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + std::string(kSampleKey) +
    "\r\nSec-WebSocket-Version: 13\r\n\r\n";
const std::string kNoConnectionHeader =
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: " + std::string(kSampleKey) +
    "\r\nSec-WebSocket-Version: 13\r\n\r\n";

const std::string kPostUpgrade = "POST" + upgrade_request().substr(3);

INSTANTIATE_TEST_SUITE_P(
    Handshake, RefusedUpgradeTest,
    ::testing::Values(RefusedUpgrade{"BadKey", upgrade_request("not-sixteen-bytes"), "HTTP/1.1 400 "},
                      RefusedUpgrade{"MissingKey", upgrade_request(""), "HTTP/1.1 400 "},
                      RefusedUpgrade{"BadVersion", upgrade_request(kSampleKey, "8"), "HTTP/1.1 426 ",
                                     "Sec-WebSocket-Version: 13\r\n"},
                      RefusedUpgrade{"MissingVersion", upgrade_request(kSampleKey, ""), "HTTP/1.1 426 ",
                                     "Sec-WebSocket-Version: 13\r\n"},
                      // Without `Upgrade: websocket` it is a plain request, and "/" has no route.
                      RefusedUpgrade{"MissingUpgradeHeader", kNoUpgradeHeader, "HTTP/1.1 404 "},
                      RefusedUpgrade{"NotGet", kPostUpgrade, "HTTP/1.1 405 ", "Allow: GET\r\n"},
                      RefusedUpgrade{"MissingConnectionHeader", kNoConnectionHeader, "HTTP/1.1 400 "},
                      RefusedUpgrade{"NotHttp", "HELLO\r\n\r\n", "HTTP/1.1 400 "}),
    [](const ::testing::TestParamInfo<RefusedUpgrade>& info) { return std::string(info.param.name); });

TEST_F(ServerConnectionTest, TheHandlerCanRefuseTheUpgrade) {
  handler_.reject_status = 403;
  start();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(upgrade_request()));
  EXPECT_EQ(peer.read_head().rfind("HTTP/1.1 403 ", 0), 0u);
  EXPECT_TRUE(peer.reads_eof());
  EXPECT_TRUE(handler_.opened().empty());
}

TEST_F(ServerConnectionTest, ASilentOrSlowRequestGets408AfterTheHandshakeTimeout) {
  config_.handshake_timeout_ms = 100;
  start();
  Peer silent = running_->adopt();
  Peer partial = running_->adopt();
  ASSERT_TRUE(partial.send("GET / HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_EQ(silent.read_head().rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_TRUE(silent.reads_eof());
  EXPECT_EQ(partial.read_head().rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_TRUE(partial.reads_eof());
}

// --- frames in and out --------------------------------------------------

TEST_F(ServerConnectionTest, EchoesTextAndBinaryInUnmaskedFinalFrames) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  const std::string medium(300, 'm');      // 16-bit length
  const std::string large(70'000, '\x7');  // 64-bit length
  for (const auto& [opcode, payload] :
       std::vector<std::pair<Opcode, std::string>>{{Opcode::kText, "héllo"},
                                                   {Opcode::kBinary, std::string("\0\1\2", 3)},
                                                   {Opcode::kText, medium},
                                                   {Opcode::kBinary, large},
                                                   {Opcode::kText, ""}}) {
    ASSERT_TRUE(peer.send_frame(opcode, payload));
    std::optional<PeerFrame> frame = peer.read_frame();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->opcode, opcode);
    EXPECT_TRUE(frame->fin);
    EXPECT_FALSE(frame->masked);
    EXPECT_EQ(frame->payload, payload);
  }
  EXPECT_EQ(handler_.messages().size(), 5u);
}

TEST_F(ServerConnectionTest, AFragmentedMessageArrivesWholeWithAPingBetweenItsFragments) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "frag", Fin::kNo));
  ASSERT_TRUE(peer.send_frame(Opcode::kPing, "between"));
  ASSERT_TRUE(peer.send_frame(Opcode::kContinuation, "men", Fin::kNo));
  ASSERT_TRUE(peer.send_frame(Opcode::kContinuation, "ted", Fin::kYes));
  std::optional<PeerFrame> pong = peer.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "between");
  std::optional<PeerFrame> echo = peer.read_frame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->opcode, Opcode::kText);
  EXPECT_EQ(echo->payload, "fragmented");
  const std::vector<testing::Received> messages = handler_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload, "fragmented");
}

TEST_F(ServerConnectionTest, APingIsAnsweredWithAPongCarryingItsPayload) {
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kPing, "are you there"));
  std::optional<PeerFrame> pong = peer.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "are you there");
  EXPECT_EQ(handler_.pings(), std::vector<std::string>{"are you there"});
}

TEST_F(ServerConnectionTest, APingTheHandlerRefusesGetsNoPong) {
  handler_.ping_reply = PingReply::kIgnore;
  start();
  std::uint64_t id;
  Peer peer = open(&id);
  ASSERT_TRUE(peer.send_frame(Opcode::kPing, "ignored"));
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "after"));
  // Frames go out in order: a pong would come before the echo.
  std::optional<PeerFrame> frame = peer.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, Opcode::kText);
  EXPECT_EQ(frame->payload, "after");
  EXPECT_EQ(handler_.pings(), std::vector<std::string>{"ignored"});
}

}  // namespace
}  // namespace switchboard::server::testing
