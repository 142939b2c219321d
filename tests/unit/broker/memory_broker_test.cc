// MemoryBroker: numbering per channel, delivery only while subscribed, and
// no memory kept for channels nobody subscribes to.
#include "broker/memory_broker.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::broker {
namespace {

struct RecordingSink : BrokerSink {
  struct Seen {
    unsigned owner;
    std::string channel;
    std::uint64_t offset;
    std::string data;
    std::uint64_t exclude;
  };
  std::vector<Seen> seen;
  void on_publication(unsigned owner, const Publication& p) override {
    seen.push_back({owner, std::string(p.channel), p.offset, std::string(p.data_json), p.exclude_client});
  }
  // Users this node has; what reached them.
  std::vector<std::string> users_here;
  std::vector<std::string> user_messages;
  bool on_user_message(unsigned, const UserMessage& m) override {
    if (std::find(users_here.begin(), users_here.end(), m.user) == users_here.end()) return false;
    user_messages.push_back(std::string(m.user) + ":" + std::string(m.text));
    return true;
  }
  void on_channel_event(unsigned, std::string_view, std::string_view) override {
    ADD_FAILURE() << "one node: no event comes from elsewhere";
  }
  void on_question(std::string_view question, std::function<void(std::string)> answer) override {
    answer("answer to " + std::string(question));
  }
  std::vector<std::string> broadcasts;
  void on_broadcast(std::string_view frame) override { broadcasts.emplace_back(frame); }
};

PublishResult publish(MemoryBroker& broker, unsigned owner, std::string_view channel, std::string_view data,
                      std::uint64_t exclude = 0) {
  PublishResult result{PublishStatus::kUnavailable, 99};
  int calls = 0;
  broker.publish(owner, Publication{channel, 0, data, exclude}, [&](PublishResult r) {
    result = r;
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  return result;
}

TEST(MemoryBroker, NumbersPublicationsPerChannel) {
  MemoryBroker broker(2);
  RecordingSink sink;
  broker.set_sink(sink);
  bool in_place = false;
  broker.subscribe(0, "a", [&] { in_place = true; });
  EXPECT_TRUE(in_place);  // at once: there is nothing to wait for
  broker.subscribe(1, "b", [] {});
  EXPECT_EQ(publish(broker, 0, "a", "1").offset, 1u);
  EXPECT_EQ(publish(broker, 0, "a", "2", 77).offset, 2u);
  EXPECT_EQ(publish(broker, 1, "b", "3").offset, 1u);
  ASSERT_EQ(sink.seen.size(), 3u);
  EXPECT_EQ(sink.seen[1].channel, "a");
  EXPECT_EQ(sink.seen[1].offset, 2u);
  EXPECT_EQ(sink.seen[1].data, "2");
  EXPECT_EQ(sink.seen[1].exclude, 77u);
  EXPECT_EQ(sink.seen[2].owner, 1u);
}

TEST(MemoryBroker, UnsubscribedChannelsCostNothing) {
  MemoryBroker broker(1);
  RecordingSink sink;
  broker.set_sink(sink);
  const PublishResult result = publish(broker, 0, "nobody", "1");
  EXPECT_EQ(result.status, PublishStatus::kAccepted);
  EXPECT_EQ(result.offset, 0u);
  EXPECT_TRUE(sink.seen.empty());
  EXPECT_EQ(broker.channel_count(0), 0u);

  broker.subscribe(0, "c", [] {});
  publish(broker, 0, "c", "1");
  broker.unsubscribe(0, "c");
  EXPECT_EQ(broker.channel_count(0), 0u);
  broker.subscribe(0, "c", [] {});
  EXPECT_EQ(publish(broker, 0, "c", "2").offset, 1u);  // numbering starts again
}

TEST(MemoryBroker, UserMessagesReachTheSinkAndSayWhetherTheUserIsHere) {
  MemoryBroker broker(1);
  RecordingSink sink;
  sink.users_here = {"alice"};
  broker.set_sink(sink);
  std::vector<UserSendResult> results;
  auto done = [&](UserSendResult r) { results.push_back(r); };
  broker.send_to_user(0, UserMessage{"alice", UserMessageKind::kDirect, "hi"}, done);
  broker.send_to_user(0, UserMessage{"bob", UserMessageKind::kDirect, "hi"}, done);
  // Only elsewhere: one node has no elsewhere; nothing reaches the sink.
  broker.send_to_user(0, UserMessage{"alice", UserMessageKind::kDisconnect, "4000 0 x", true}, done);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].nodes, 1u);
  EXPECT_EQ(results[1].nodes, 0u);
  EXPECT_EQ(results[2].nodes, 0u);
  for (const auto& r : results) EXPECT_EQ(r.status, PublishStatus::kAccepted);
  EXPECT_EQ(sink.user_messages, std::vector<std::string>{"alice:hi"});
}

TEST(MemoryBroker, BroadcastComesBackToThisNode) {
  MemoryBroker broker(2);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.broadcast("frame");
  EXPECT_EQ(sink.broadcasts, std::vector<std::string>{"frame"});
}

TEST(MemoryBroker, AskNodesIsAskingThisNode) {
  MemoryBroker broker(1);
  RecordingSink sink;
  broker.set_sink(sink);
  std::vector<std::string> got;
  bool complete = false;
  broker.ask_nodes("stats", [&](std::vector<std::string> answers, bool all) {
    got = std::move(answers);
    complete = all;
  });
  EXPECT_EQ(got, std::vector<std::string>{"answer to stats"});
  EXPECT_TRUE(complete);
}

}  // namespace
}  // namespace switchboard::broker
