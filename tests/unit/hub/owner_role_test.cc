// The owner role driven through queues the test runs itself: each post
// lands in its worker's queue, and the test decides when each worker runs,
// so what an owner sends where, and in which order, is deterministic.
#include "hub/owner_role.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/memory_broker.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {
namespace {

constexpr unsigned kWorkers = 2;

class TestQueues final : public TaskQueues {
 public:
  void post(unsigned worker, std::function<void()> task) override { queues_[worker].push_back(std::move(task)); }
  // Deadline ticks and rpc timeouts: never due in these tests.
  void post_after(unsigned, std::uint64_t, std::function<void()>) override {}

  std::size_t pending(unsigned worker) const { return queues_[worker].size(); }
  // Runs worker's tasks in order, and those they post to it, until none is left.
  void run(unsigned worker) {
    while (!queues_[worker].empty()) {
      std::function<void()> task = std::move(queues_[worker].front());
      queues_[worker].pop_front();
      task();
    }
  }
  void drop(unsigned worker) { queues_[worker].clear(); }

 private:
  std::deque<std::function<void()>> queues_[kWorkers];
};

// An answer an owner sent to a ReplyTo's callback.
struct Answer {
  AnswerKind kind;
  std::string data;
  protocol::ErrorCode code;  // for kError
};

class OwnerRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HubConfig config;
    NamespaceOptions with_presence;
    with_presence.pattern = "room:*";
    with_presence.presence = true;
    config.namespaces.push_back(with_presence);
    NamespaceOptions with_history;
    with_history.pattern = "feed:*";
    with_history.history_size = 3;
    with_history.history_ttl_s = 60;
    config.namespaces.push_back(with_history);
    node_ = std::make_shared<Node>(config);
    node_->start_roles(queues_, kWorkers, std::make_unique<broker::MemoryBroker>(kWorkers), 1u << 20);
  }

  void TearDown() override {
    for (unsigned worker = 0; worker < kWorkers; ++worker) queues_.drop(worker);
  }

  // A name of the given prefix that worker 0 owns: its posts then land in
  // queue 0, and the subscribers' (on worker 1) in queue 1.
  std::string owned_by_worker_0(const std::string& prefix) const {
    for (int i = 0;; ++i) {
      std::string name = prefix + std::to_string(i);
      if (node_->owner_of(name) == 0) return name;
    }
  }

  ReplyTo recorder() {
    ReplyTo to;
    to.callback = [this](AnswerKind kind, protocol::ErrorCode code, std::string data) {
      answers_.push_back({kind, std::move(data), code});
    };
    return to;
  }

  void subscribe(const std::string& channel, std::uint64_t client, std::shared_ptr<const Member> member = nullptr) {
    node_->post<&OwnerRole::subscribe>(0, channel, 1u, client, std::uint64_t{1}, std::move(member),
                                       std::uint64_t{client + 100}, StreamAsk{});
  }

  TestQueues queues_;
  std::shared_ptr<Node> node_;
  std::vector<Answer> answers_;
};

TEST_F(OwnerRoleTest, CountsASubscriptionOnlyWhenItsOwnerRunsIt) {
  const std::string channel = owned_by_worker_0("news");
  subscribe(channel, 11);
  EXPECT_EQ(node_->owner(0).channel_count(), 0u);
  EXPECT_EQ(queues_.pending(0), 1u);
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).channel_count(), 1u);
  // The memory broker is in place at once: the activation (and with it the
  // subscribe reply) is already on its way to the subscriber's worker.
  EXPECT_EQ(queues_.pending(1), 1u);
}

TEST_F(OwnerRoleTest, NumbersPublicationsAndFansOutOnlyToWorkersWithSubscribers) {
  const std::string channel = owned_by_worker_0("news");
  subscribe(channel, 11);
  queues_.run(0);
  ASSERT_EQ(queues_.pending(1), 1u);  // the activation
  for (int i = 0; i < 3; ++i) {
    node_->post<&OwnerRole::publish>(0, channel, std::string(R"({"n":1})"), std::uint64_t{0}, recorder());
  }
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 3u);
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    EXPECT_EQ(answers_[i].kind, AnswerKind::kReply);
    EXPECT_EQ(answers_[i].data, "{\"offset\":" + std::to_string(i + 1) + "}");
  }
  // Behind the activation, one fan-out per publication, to worker 1 only.
  EXPECT_EQ(queues_.pending(1), 4u);
  EXPECT_EQ(queues_.pending(0), 0u);
}

TEST_F(OwnerRoleTest, ForgetsAChannelWhenItsLastSubscriberLeaves) {
  const std::string channel = owned_by_worker_0("news");
  subscribe(channel, 11);
  subscribe(channel, 12);
  queues_.run(0);
  queues_.drop(1);
  node_->post<&OwnerRole::unsubscribe>(0, channel, 1u, std::uint64_t{11});
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).channel_count(), 1u);
  node_->post<&OwnerRole::unsubscribe>(0, channel, 1u, std::uint64_t{12});
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).channel_count(), 0u);
  // Published to nobody: accepted, not numbered, and nothing to fan out.
  node_->post<&OwnerRole::publish>(0, channel, std::string("1"), std::uint64_t{0}, recorder());
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].data, "{\"offset\":0}");
  EXPECT_EQ(queues_.pending(1), 0u);
}

TEST_F(OwnerRoleTest, ListsPresenceInClientOrderAndDropsWhoLeft) {
  const std::string channel = owned_by_worker_0("room:");
  subscribe(channel, 12, std::make_shared<const Member>(Member{"bo", "n12", ""}));
  subscribe(channel, 11, std::make_shared<const Member>(Member{"ada", "n11", R"({"a":1})"}));
  queues_.run(0);
  node_->post<&OwnerRole::presence>(0, channel, recorder());
  node_->post<&OwnerRole::unsubscribe>(0, channel, 1u, std::uint64_t{11});
  node_->post<&OwnerRole::presence>(0, channel, recorder());
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 2u);
  EXPECT_EQ(answers_[0].data, "{\"members\":[" + protocol::encode_member("ada", "n11", R"({"a":1})") + "," +
                                  protocol::encode_member("bo", "n12", "") + "]}");
  EXPECT_EQ(answers_[1].data, "{\"members\":[" + protocol::encode_member("bo", "n12", "") + "]}");
}

TEST_F(OwnerRoleTest, CountsAUsersConnectionsPerWorkerUntilTheLastGoes) {
  const std::string user = owned_by_worker_0("user");
  node_->post<&OwnerRole::user_online>(0, user, 0u);
  node_->post<&OwnerRole::user_online>(0, user, 1u);
  node_->post<&OwnerRole::user_online>(0, user, 1u);
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).user_count(), 1u);
  EXPECT_EQ(node_->owner(0).user_connections(user), 3u);
  node_->post<&OwnerRole::user_offline>(0, user, 1u);
  node_->post<&OwnerRole::user_offline>(0, user, 0u);
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).user_connections(user), 1u);
  node_->post<&OwnerRole::user_offline>(0, user, 1u);
  queues_.run(0);
  EXPECT_EQ(node_->owner(0).user_count(), 0u);
}

TEST_F(OwnerRoleTest, SendsToTheWorkersWhereTheUserIsAndSaysWhetherItWasOnline) {
  const std::string user = owned_by_worker_0("user");
  node_->post<&OwnerRole::send>(0, user, std::string("ada"), std::string("1"), recorder(), OnlineInReply::kShown);
  queues_.run(0);
  node_->post<&OwnerRole::user_online>(0, user, 1u);
  node_->post<&OwnerRole::send>(0, user, std::string("ada"), std::string("2"), recorder(), OnlineInReply::kShown);
  node_->post<&OwnerRole::send>(0, user, std::string("ada"), std::string("3"), recorder(), OnlineInReply::kHidden);
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 3u);
  EXPECT_EQ(answers_[0].data, "{\"online\":false}");
  EXPECT_EQ(answers_[1].data, "{\"online\":true}");
  EXPECT_EQ(answers_[2].data, "{}");
  EXPECT_EQ(queues_.pending(1), 2u);  // one delivery per message sent while online
  EXPECT_EQ(queues_.pending(0), 0u);
}

// The epoch of a publish reply on a stream channel, {"offset":K,"epoch":"E"}.
std::string epoch_in(const std::string& reply, std::uint64_t offset) {
  const std::string head = "{\"offset\":" + std::to_string(offset) + ",\"epoch\":\"";
  EXPECT_EQ(reply.rfind(head, 0), 0u) << reply;
  EXPECT_EQ(reply.size(), head.size() + 8 + 2) << reply;
  return reply.size() == head.size() + 10 ? reply.substr(head.size(), 8) : std::string();
}

TEST_F(OwnerRoleTest, NumbersAndKeepsPublicationsOnAStreamChannelWithoutSubscribers) {
  const std::string channel = owned_by_worker_0("feed:");
  for (int i = 0; i < 2; ++i) {
    node_->post<&OwnerRole::publish>(0, channel, std::string("1"), std::uint64_t{0}, recorder());
  }
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 2u);
  const std::string epoch = epoch_in(answers_[0].data, 1);
  EXPECT_EQ(epoch_in(answers_[1].data, 2), epoch);
  EXPECT_EQ(queues_.pending(1), 0u);               // nobody to fan out to
  EXPECT_EQ(node_->owner(0).channel_count(), 0u);  // the owner counts subscribed channels only
}

TEST_F(OwnerRoleTest, AnswersHistoryPagesOfTheStream) {
  const std::string channel = owned_by_worker_0("feed:");
  for (int n = 1; n <= 4; ++n) {
    node_->post<&OwnerRole::publish>(0, channel, std::to_string(n), std::uint64_t{0}, recorder());
  }
  queues_.run(0);
  const std::string epoch = epoch_in(answers_[0].data, 1);
  answers_.clear();
  broker::StreamQuery all;
  all.limit = SIZE_MAX;
  broker::StreamQuery newest_two;
  newest_two.limit = 2;
  newest_two.reverse = true;
  broker::StreamQuery after_two = all;
  after_two.has_since = true;
  after_two.since = {2, epoch};
  node_->post<&OwnerRole::history>(0, channel, all, recorder());
  node_->post<&OwnerRole::history>(0, channel, newest_two, recorder());
  node_->post<&OwnerRole::history>(0, channel, after_two, recorder());
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 3u);
  const std::string top = "{\"epoch\":\"" + epoch + "\",\"offset\":4,\"publications\":";
  // Size 3: the first is gone.
  EXPECT_EQ(answers_[0].data, top + R"([{"offset":2,"data":2},{"offset":3,"data":3},{"offset":4,"data":4}]})");
  EXPECT_EQ(answers_[1].data, top + R"([{"offset":4,"data":4},{"offset":3,"data":3}]})");
  EXPECT_EQ(answers_[2].data, top + R"([{"offset":3,"data":3},{"offset":4,"data":4}]})");
  for (const Answer& answer : answers_) EXPECT_EQ(answer.kind, AnswerKind::kReply);
}

TEST_F(OwnerRoleTest, RefusesHistoryFromAPlaceNoLongerKeptOrOfAnotherEpochAndWithoutHistory) {
  const std::string channel = owned_by_worker_0("feed:");
  for (int n = 1; n <= 4; ++n) {
    node_->post<&OwnerRole::publish>(0, channel, std::to_string(n), std::uint64_t{0}, recorder());
  }
  queues_.run(0);
  const std::string epoch = epoch_in(answers_[0].data, 1);
  answers_.clear();
  broker::StreamQuery trimmed;
  trimmed.limit = SIZE_MAX;
  trimmed.has_since = true;
  trimmed.since = {0, epoch};  // 1 is gone
  broker::StreamQuery other_epoch = trimmed;
  other_epoch.since = {3, "AAAAAAAA"};
  node_->post<&OwnerRole::history>(0, channel, trimmed, recorder());
  node_->post<&OwnerRole::history>(0, channel, other_epoch, recorder());
  node_->post<&OwnerRole::history>(0, owned_by_worker_0("news"), broker::StreamQuery{}, recorder());
  queues_.run(0);
  ASSERT_EQ(answers_.size(), 3u);
  for (const Answer& answer : answers_) EXPECT_EQ(answer.kind, AnswerKind::kError);
  EXPECT_EQ(answers_[0].code, protocol::ErrorCode::kUnrecoverablePosition);
  EXPECT_EQ(answers_[1].code, protocol::ErrorCode::kUnrecoverablePosition);
  EXPECT_EQ(answers_[2].code, protocol::ErrorCode::kHistoryDisabled);
}

}  // namespace
}  // namespace switchboard::hub
