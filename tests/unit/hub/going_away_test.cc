// The local role's side of the drain (local_going_away.cc), on a real
// server Worker through the roles' harness (role_harness.h): every frame a
// client sends is owed one answer and the count comes back to 0 once it is
// sent, whatever the command; a drained connection runs no more commands,
// gets the answers it is owed, and only then `disconnect` (answered: true)
// and close 1001. The bound cutting the wait short needs the deadline tick,
// which the harness never runs: tests/integration/hub_api_test.cc has it.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/encode.h"
#include "role_harness.h"

namespace switchboard::hub {
namespace {

using harness::eventually;
using harness::Peer;

const std::string kAnswered = protocol::encode_disconnect(1001, "server shutting down", protocol::Reconnect::kYes,
                                                          protocol::Answered::kYes);
const std::string kNotAnswered = protocol::encode_disconnect(1001, "server shutting down", protocol::Reconnect::kYes,
                                                             protocol::Answered::kNo);

class GoingAwayTest : public harness::RoleHarness {
 protected:
  GoingAwayTest() { server_config_.drain_spread_ms = 0; }

  // An rpc method "slow" whose replies the test keeps, to answer later.
  void keep_slow_rpcs() {
    node_->rpc_handlers["slow"] = [this](const RpcCall&, RpcReply reply) {
      std::lock_guard lock(mutex_);
      kept_.push_back(std::move(reply));
    };
  }
  std::size_t kept() {
    std::lock_guard lock(mutex_);
    return kept_.size();
  }
  std::uint32_t unanswered(std::uint64_t client) {
    std::uint32_t count = 0;
    running_->on_worker([&] { count = node_->local(0).unanswered(client); });
    return count;
  }
  // The drain has begun: start_drain's posted task ran, and the batch too.
  void drain() {
    running_->worker().start_drain();
    running_->on_worker([] {});
    running_->on_worker([] {});
  }
  // The client's half of the closing handshake, so that the drain ends.
  static void close_after_1001(Peer& peer) {
    EXPECT_EQ(next(peer), "<close 1001>");
    EXPECT_TRUE(peer.send_close(1001));
    EXPECT_TRUE(peer.reads_eof());
    peer.close();
  }

  std::mutex mutex_;
  std::vector<RpcReply> kept_;
};

TEST_F(GoingAwayTest, EveryCommandTypeLeavesNothingOwedOnceAnswered) {
  start();
  std::uint64_t client = 0;
  Peer peer = open("ada", &client);
  const std::vector<std::string> commands = {
      R"({"id":1,"type":"connect"})",
      R"({"id":2,"type":"refresh","token":"x"})",
      R"({"id":3,"type":"subscribe","channel":"news"})",
      R"({"id":4,"type":"publish","channel":"news","data":1})",
      R"({"id":5,"type":"presence","channel":"room:1"})",
      R"({"id":6,"type":"history","channel":"news"})",
      R"({"id":7,"type":"send","user":"bo","data":1})",
      R"({"id":8,"type":"rpc","method":"nobody","data":1})",
      R"({"id":9,"type":"unsubscribe","channel":"news"})",
      R"({"id":10,"type":"ping"})",
      R"({"id":11,"type":"frobnicate"})",
      "not json",
  };
  for (const std::string& command : commands) {
    send(peer, command);
    std::string answer = next(peer);
    // The publish's message comes to the subscriber before its reply.
    if (answer.rfind(R"({"type":"message")", 0) == 0) answer = next(peer);
    EXPECT_EQ(answer.rfind(R"({"type":"message")", 0), std::string::npos) << command;
    EXPECT_NE(answer, "<none>") << command;
    EXPECT_EQ(unanswered(client), 0u) << command << " -> " << answer;
  }
  EXPECT_TRUE(peer.send_frame(Opcode::kBinary, "{}"));
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":null,"code":101,)", 0), 0u);
  EXPECT_EQ(unanswered(client), 0u);
}

// Frames nobody asked for (a message, a join) are no answers: they leave
// the count alone.
TEST_F(GoingAwayTest, AnRpcAnsweredLaterIsOwedUntilItsReplyWhateverElseComes) {
  start();
  keep_slow_rpcs();
  std::uint64_t client = 0;
  Peer peer = open("ada", &client);
  Peer other = open("bo");
  send(peer, R"({"id":1,"type":"subscribe","channel":"room:1"})");
  EXPECT_EQ(next(peer), protocol::encode_reply(1, "{}"));
  send(peer, R"({"id":2,"type":"rpc","method":"slow","data":1})");
  ASSERT_TRUE(eventually([&] { return kept() == 1; }));
  EXPECT_EQ(unanswered(client), 1u);
  send(other, R"({"id":1,"type":"publish","channel":"room:1","data":"hi"})");
  EXPECT_EQ(next(other).rfind(R"({"type":"reply","id":1,)", 0), 0u);
  EXPECT_EQ(next(peer), R"({"type":"message","channel":"room:1","offset":1,"data":"hi"})");
  EXPECT_EQ(unanswered(client), 1u);
  kept_[0].ok("2");
  EXPECT_EQ(next(peer), protocol::encode_reply(2, "2"));
  EXPECT_EQ(unanswered(client), 0u);
}

TEST_F(GoingAwayTest, AConnectionWithNothingOwedIsToldAnsweredAndClosedAtOnce) {
  start();
  Peer peer = open();
  expect_nothing_pending(peer, 1);
  drain();
  EXPECT_EQ(next(peer), kAnswered);
  close_after_1001(peer);
  EXPECT_TRUE(eventually([&] { return running_->finished(); }));
}

TEST_F(GoingAwayTest, TheDrainWaitsForTheOwedAnswerRunsNothingNewThenSaysAnswered) {
  start();
  keep_slow_rpcs();
  Peer peer = open();
  send(peer, R"({"id":1,"type":"rpc","method":"slow","data":1})");
  ASSERT_TRUE(eventually([&] { return kept() == 1; }));
  drain();
  EXPECT_FALSE(running_->finished());
  // Read after the drain came: neither run nor answered.
  send(peer, R"({"id":2,"type":"publish","channel":"news","data":1})");
  send(peer, R"({"id":3,"type":"ping"})");
  running_->on_worker([] {});
  kept_[0].ok("\"done\"");
  EXPECT_EQ(next(peer), protocol::encode_reply(1, "\"done\""));
  EXPECT_EQ(next(peer), kAnswered);
  close_after_1001(peer);
  EXPECT_TRUE(eventually([&] { return running_->finished(); }));
}

// Spread over two ticks, one connection each: the drain comes to the one
// still waiting for its answer once, and goes on to the next.
TEST_F(GoingAwayTest, TheSpreadDrainLeavesAConnectionTheHubClosesToItAndGoesOn) {
  server_config_.drain_spread_ms = 100;
  start();
  keep_slow_rpcs();
  Peer waiting = open();
  Peer idle = open();
  send(waiting, R"({"id":1,"type":"rpc","method":"slow","data":1})");
  ASSERT_TRUE(eventually([&] { return kept() == 1; }));
  expect_nothing_pending(idle, 1);
  running_->worker().start_drain();
  EXPECT_EQ(next(idle), kAnswered);
  close_after_1001(idle);
  EXPECT_FALSE(running_->finished());
  kept_[0].ok("3");
  EXPECT_EQ(next(waiting), protocol::encode_reply(1, "3"));
  EXPECT_EQ(next(waiting), kAnswered);
  close_after_1001(waiting);
  EXPECT_TRUE(eventually([&] { return running_->finished(); }));
}

TEST_F(GoingAwayTest, WithNoAnswerBoundTheDrainClosesAtOnceAndSaysNotAnswered) {
  server_config_.drain_answer_ms = 0;
  start();
  keep_slow_rpcs();
  Peer peer = open();
  send(peer, R"({"id":1,"type":"rpc","method":"slow","data":1})");
  ASSERT_TRUE(eventually([&] { return kept() == 1; }));
  drain();
  EXPECT_EQ(next(peer), kNotAnswered);
  close_after_1001(peer);
  EXPECT_TRUE(eventually([&] { return running_->finished(); }));
}

}  // namespace
}  // namespace switchboard::hub
