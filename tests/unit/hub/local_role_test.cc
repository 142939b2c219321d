// The local role driven by a real server Worker through the roles' harness
// (role_harness.h): peers on socketpairs speak protocol v1 as text frames,
// and what a peer reads, and in which order, is deterministic.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "protocol/encode.h"
#include "role_harness.h"

namespace switchboard::hub {
namespace {

using harness::eventually;
using harness::Peer;

// The server end's SO_SNDBUF and the connection's buffer cap in the slow
// consumer test: the kernel takes little, so what the subscriber does not
// read stays in the connection's own queue and soon fills it.
constexpr int kSmallSendBuffer = 4096;
constexpr std::size_t kCap = 64 * 1024;

class LocalRoleTest : public harness::RoleHarness {};

TEST_F(LocalRoleTest, DeliversAPublishToTheSubscriberOnceAndAnswersThePublisherWithItsOffset) {
  start();
  Peer subscriber = open();
  Peer publisher = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(1, "{}"));
  send(publisher, R"({"id":7,"type":"publish","channel":"news","data":{"text":"hello"}})");
  EXPECT_EQ(next(publisher), protocol::encode_reply(7, R"({"offset":1})"));
  EXPECT_EQ(next(subscriber), R"({"type":"message","channel":"news","offset":1,"data":{"text":"hello"}})");
  expect_nothing_pending(subscriber, 2);
  expect_nothing_pending(publisher, 8);
}

TEST_F(LocalRoleTest, StopsDeliveringAfterUnsubscribe) {
  start();
  Peer subscriber = open();
  Peer publisher = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(1, "{}"));
  send(subscriber, R"({"id":2,"type":"unsubscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(2, "{}"));
  send(publisher, R"({"id":1,"type":"publish","channel":"news","data":1})");
  EXPECT_EQ(next(publisher), protocol::encode_reply(1, R"({"offset":0})"));
  expect_nothing_pending(subscriber, 3);
  send(subscriber, R"({"id":4,"type":"unsubscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber).rfind(R"({"type":"error","id":4,"code":111,)", 0), 0u);
}

TEST_F(LocalRoleTest, AcceptsAPublishToAChannelWithoutSubscribersWithOffsetZero) {
  start();
  Peer publisher = open();
  send(publisher, R"({"id":1,"type":"publish","channel":"empty","data":null})");
  EXPECT_EQ(next(publisher), protocol::encode_reply(1, R"({"offset":0})"));
  expect_nothing_pending(publisher, 2);
}

TEST_F(LocalRoleTest, RefusesASecondSubscribeToTheSameChannelPendingOrActive) {
  start();
  Peer peer = open();
  const std::string refused = protocol::encode_error(
      2, protocol::ErrorCode::kAlreadySubscribed, protocol::default_message(protocol::ErrorCode::kAlreadySubscribed));
  // In one write, so the worker reads both before it runs a posted task:
  // the first waits for its owner (a post), the second is refused at once.
  EXPECT_TRUE(peer.send(client_frame(R"({"id":1,"type":"subscribe","channel":"news"})") +
                        client_frame(R"({"id":2,"type":"subscribe","channel":"news"})")));
  EXPECT_EQ(next(peer), refused);
  EXPECT_EQ(next(peer), protocol::encode_reply(1, "{}"));
  send(peer, R"({"id":2,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(peer), refused);
  EXPECT_EQ(subscriptions(), 1u);
}

TEST_F(LocalRoleTest, AnswersAnUnknownCommandAndMalformedTextWithTheirErrorsAndStaysOpen) {
  start();
  Peer peer = open();
  send(peer, R"({"id":1,"type":"frobnicate"})");
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":1,"code":103,)", 0), 0u);
  send(peer, "not json");
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":null,"code":101,)", 0), 0u);
  send(peer, R"({"id":2,"type":"subscribe"})");
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":2,"code":104,)", 0), 0u);
  send(peer, R"({"id":3,"type":"subscribe","channel":"bad name"})");
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":3,"code":106,)", 0), 0u);
  expect_nothing_pending(peer, 4);
}

TEST_F(LocalRoleTest, RefusesCommandsOverTheMessageRateWithError121) {
  hub_config_.limits.messages_per_s = 1;
  hub_config_.limits.messages_burst = 2;
  start();
  Peer peer = open();
  for (int id = 1; id <= 3; ++id) send(peer, R"({"type":"ping","id":)" + std::to_string(id) + "}");
  EXPECT_EQ(next(peer), protocol::encode_pong(1));
  EXPECT_EQ(next(peer), protocol::encode_pong(2));
  EXPECT_EQ(next(peer).rfind(R"({"type":"error","id":3,"code":121,)", 0), 0u);
}

TEST_F(LocalRoleTest, ListsBothMembersOfAChannelWithPresence) {
  start();
  std::uint64_t ada_client = 0;
  std::uint64_t bo_client = 0;
  Peer ada = open("ada", &ada_client);
  Peer bo = open("bo", &bo_client);
  send(ada, R"({"id":1,"type":"subscribe","channel":"room:1"})");
  EXPECT_EQ(next(ada), protocol::encode_reply(1, "{}"));
  send(bo, R"({"id":1,"type":"subscribe","channel":"room:1"})");
  EXPECT_EQ(next(bo), protocol::encode_reply(1, "{}"));
  send(ada, R"({"id":2,"type":"presence","channel":"room:1"})");
  EXPECT_EQ(next(ada), protocol::encode_reply(
                           2, "{\"members\":[" + protocol::encode_member("ada", std::to_string(ada_client), "") + "," +
                                  protocol::encode_member("bo", std::to_string(bo_client), "") + "]}"));
  send(ada, R"({"id":3,"type":"presence","channel":"news"})");
  EXPECT_EQ(next(ada).rfind(R"({"type":"error","id":3,"code":116,)", 0), 0u);
}

TEST_F(LocalRoleTest, ForgetsAClosedSessionsSubscriptions) {
  start();
  Peer subscriber = open("ada");
  Peer publisher = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(1, "{}"));
  HubStats before = stats();
  EXPECT_EQ(before.connections, 2u);
  EXPECT_EQ(before.users, 1u);
  EXPECT_EQ(before.channels, 1u);
  EXPECT_EQ(subscriptions(), 1u);
  subscriber.close();
  EXPECT_TRUE(eventually([&] {
    HubStats now = stats();
    return now.connections == 1 && now.users == 0 && now.channels == 0;
  }));
  EXPECT_EQ(subscriptions(), 0u);
  send(publisher, R"({"id":1,"type":"publish","channel":"news","data":1})");
  EXPECT_EQ(next(publisher), protocol::encode_reply(1, R"({"offset":0})"));
  publisher.close();
  EXPECT_TRUE(eventually([&] { return stats().connections == 0; }));
}

TEST_F(LocalRoleTest, TellsASubscriberThatDoesNotReadWhyThenClosesIt1013) {
  server_config_.max_buffered_bytes = kCap;
  start();
  Peer subscriber = open({}, nullptr, kSmallSendBuffer);
  Peer publisher = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(1, "{}"));
  // The subscriber reads nothing more: far more than the cap goes its way.
  const std::string data = "\"" + std::string(8 * 1024, 'x') + "\"";
  constexpr int kPublishes = 40;
  for (int id = 1; id <= kPublishes; ++id) {
    send(publisher, R"({"id":)" + std::to_string(id) + R"(,"type":"publish","channel":"news","data":)" + data + "}");
    // The offset says who was subscribed: 0 once the subscriber is gone.
    EXPECT_EQ(next(publisher).rfind(R"({"type":"reply","id":)" + std::to_string(id) + R"(,"data":{"offset":)", 0), 0u);
  }
  // What was queued, then why, then the close.
  int messages = 0;
  std::string frame;
  while ((frame = next(subscriber)).rfind(R"({"type":"message",)", 0) == 0) ++messages;
  EXPECT_GT(messages, 0);
  EXPECT_LT(messages, kPublishes);
  EXPECT_EQ(frame, protocol::encode_disconnect(1013, "slow consumer", protocol::Reconnect::kYes));
  EXPECT_EQ(next(subscriber), "<close 1013>");
  EXPECT_TRUE(subscriber.send_close(1013));
  EXPECT_TRUE(subscriber.reads_eof());
  EXPECT_TRUE(eventually([&] { return stats().channels == 0; }));
}

}  // namespace
}  // namespace switchboard::hub
