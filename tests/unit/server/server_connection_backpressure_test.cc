// ServerConnection over a socketpair whose server end has a small kernel
// send buffer, and a peer that does not read: max_buffered_bytes, dropped
// sends, paused reading and on_drain.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server_connection_fixture.h"

namespace switchboard::server::testing {
namespace {

// --- backpressure -------------------------------------------------------

// Sends from outside the connection's own input (a task here) are refused
// once max_buffered_bytes wait unread; on_drain says when to resume.
TEST_F(ServerConnectionTest, PushedSendsAreDroppedPastTheCapAndOnDrainFollowsTheQueue) {
  config_.max_buffered_bytes = kCap;
  start();
  std::uint64_t id;
  Peer peer = open(&id, kSmallSendBuffer);
  const std::string chunk(8 * 1024, 'p');
  std::vector<SendStatus> statuses;
  std::size_t buffered_at_drop = 0;
  with_connection(id, [&](Connection& connection) {
    for (int i = 0; i < 1000; ++i) {
      statuses.push_back(connection.send_binary(chunk));
      if (statuses.back() == SendStatus::kDropped) break;
    }
    buffered_at_drop = connection.buffered_amount();
  });
  ASSERT_EQ(statuses.back(), SendStatus::kDropped);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), SendStatus::kBuffered), statuses.end());
  EXPECT_GE(buffered_at_drop, kCap);
  EXPECT_LT(buffered_at_drop, kCap + chunk.size() + 16);  // the last accepted send started below the cap
  EXPECT_EQ(handler_.drains(), 0u);

  for (std::size_t i = 0; i + 1 < statuses.size(); ++i) {
    std::optional<PeerFrame> frame = peer.read_frame();
    ASSERT_TRUE(frame) << "frame " << i;
    ASSERT_EQ(frame->payload.size(), chunk.size());
  }
  ASSERT_TRUE(eventually([&] { return handler_.drains() == 1; }));
  SendStatus after_drain = SendStatus::kDropped;
  with_connection(id, [&](Connection& connection) { after_drain = connection.send_text("room again"); });
  EXPECT_EQ(after_drain, SendStatus::kSent);
  std::optional<PeerFrame> frame = peer.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "room again");
}

// Answers to the peer's own messages are never dropped: past the cap the
// server stops reading from a peer that does not read, and resumes once
// it has.
TEST_F(ServerConnectionTest, AnswersPastTheCapPauseReadingUntilThePeerReads) {
  config_.max_buffered_bytes = kCap;
  handler_.answer = RecordingHandler::Answer::kSized;
  handler_.answer_size = 32 * 1024;
  start();
  std::uint64_t id;
  Peer peer = open(&id, kSmallSendBuffer);
  std::size_t sent = 0;
  std::size_t buffered = 0;
  while (buffered <= kCap) {
    ASSERT_LT(sent, 100u) << "the queue never passed the cap";
    ASSERT_TRUE(peer.send_frame(Opcode::kText, "m" + std::to_string(sent)));
    ++sent;
    ASSERT_TRUE(eventually([&] { return handler_.messages().size() == sent; }));
    with_connection(id, [&](Connection& connection) { buffered = connection.buffered_amount(); });
  }
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "late"));
  // Were the socket still read, two round trips through the loop would
  // have handled "late": epoll is level-triggered, and the second task is
  // queued after an iteration that began once the bytes were there.
  running_->on_worker([] {});
  running_->on_worker([] {});
  EXPECT_EQ(handler_.messages().size(), sent);

  for (std::size_t i = 0; i <= sent; ++i) {  // every answer, the one to "late" last
    std::optional<PeerFrame> frame = peer.read_frame();
    ASSERT_TRUE(frame) << "answer " << i;
    ASSERT_EQ(frame->payload.size(), handler_.answer_size);
  }
  const std::vector<testing::Received> messages = handler_.messages();
  ASSERT_EQ(messages.size(), sent + 1);
  EXPECT_EQ(messages.back().payload, "late");
  EXPECT_GE(handler_.drains(), 1u);
}

// An answer made after on_message returned (Connection::send_answer, a
// reply computed elsewhere) follows the same rule: never dropped for the
// cap; past it, the connection's reads pause instead.
TEST_F(ServerConnectionTest, LateAnswersPastTheCapAreQueuedAndPauseReading) {
  config_.max_buffered_bytes = kCap;
  handler_.answer = RecordingHandler::Answer::kNone;
  start();
  std::uint64_t id;
  Peer peer = open(&id, kSmallSendBuffer);
  const std::string chunk(8 * 1024, 'l');
  constexpr int kAnswers = 20;  // 160 KiB: well past the cap
  std::vector<SendStatus> statuses;
  std::size_t buffered = 0;
  with_connection(id, [&](Connection& connection) {
    for (int i = 0; i < kAnswers; ++i) statuses.push_back(connection.send_answer(chunk, Opcode::kBinary));
    buffered = connection.buffered_amount();
  });
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), SendStatus::kDropped), 0);
  EXPECT_GT(buffered, kCap);
  ASSERT_TRUE(peer.send_frame(Opcode::kText, "unread"));
  running_->on_worker([] {});  // two round trips: see AnswersPastTheCapPauseReadingUntilThePeerReads
  running_->on_worker([] {});
  EXPECT_TRUE(handler_.messages().empty());
  for (int i = 0; i < kAnswers; ++i) {
    std::optional<PeerFrame> frame = peer.read_frame();
    ASSERT_TRUE(frame) << "answer " << i;
    ASSERT_EQ(frame->payload, chunk);
  }
  ASSERT_TRUE(eventually([&] { return handler_.messages().size() == 1; }));
  EXPECT_EQ(handler_.messages()[0].payload, "unread");
}

}  // namespace
}  // namespace switchboard::server::testing
