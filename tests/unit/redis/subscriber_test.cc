// Subscriber against a real redis-server started by each test; messages are
// published through a Connection.
#include "redis/subscriber.h"

#include <signal.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "redis/connection.h"
#include "redis_server.h"

namespace switchboard::redis {
namespace {

using testing::RedisServer;
using testing::run_for;
using testing::run_until;

using Message = std::pair<std::string, std::string>;

class RedisSubscriber : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available())
      GTEST_SKIP() << "no " << testing::kRedisServer << " (run scripts/bootstrap)";
    ASSERT_TRUE(server_.start()) << "redis-server did not start on port " << server_.port();
  }

  static Options fast_retries() {
    Options options;
    options.backoff_min_ms = 50;
    options.backoff_max_ms = 200;
    return options;
  }

  std::unique_ptr<Subscriber> make_subscriber(Sharding sharding = Sharding::kNo) {
    auto subscriber = std::make_unique<Subscriber>(loop_, server_.endpoint(), options_, sharding);
    subscriber->on_message([this](std::string_view channel, std::string_view payload) {
      messages_.emplace_back(std::string(channel), std::string(payload));
    });
    return subscriber;
  }

  // Publishes and returns the server's count of receivers.
  long long publish(std::string_view verb, std::string_view channel, std::string_view payload) {
    long long receivers = -1;
    bool done = false;
    publisher_.command({verb, channel, payload}, [&](const Reply& reply) {
      EXPECT_FALSE(reply.is_error()) << reply.str;
      receivers = reply.integer;
      done = true;
    });
    EXPECT_TRUE(run_until(loop_, [&] { return done; }));
    return receivers;
  }

  bool settled(const Subscriber& subscriber, long long count) {
    return run_until(loop_, [&] {
      return subscriber.is_up() && subscriber.awaiting_confirmations() == 0 && subscriber.confirmed_count() == count;
    });
  }

  loop::EventLoop loop_;
  RedisServer server_;
  Options options_ = fast_retries();
  Connection publisher_{loop_, server_.endpoint(), options_};
  std::vector<Message> messages_;
};

TEST_F(RedisSubscriber, ReceivesPublishedMessagesUntilUnsubscribed) {
  auto subscriber = make_subscriber();
  subscriber->subscribe("news");  // while connecting: sent once up
  ASSERT_TRUE(settled(*subscriber, 1));

  EXPECT_EQ(publish("PUBLISH", "news", "hello"), 1);
  EXPECT_EQ(publish("PUBLISH", "other", "not for us"), 0);
  ASSERT_TRUE(run_until(loop_, [&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0], (Message{"news", "hello"}));

  subscriber->unsubscribe("news");
  EXPECT_FALSE(subscriber->wants("news"));
  ASSERT_TRUE(settled(*subscriber, 0));
  EXPECT_EQ(publish("PUBLISH", "news", "after"), 0);
  run_for(loop_, 100);  // room for a wrong late delivery: absence cannot be polled
  EXPECT_EQ(messages_.size(), 1u);
}

TEST_F(RedisSubscriber, QuickSubscribeUnsubscribeEndsInTheLastCallsState) {
  auto subscriber = make_subscriber();
  ASSERT_TRUE(run_until(loop_, [&] { return subscriber->is_up(); }));
  for (int i = 0; i < 3; ++i) {
    subscriber->subscribe("a");
    subscriber->subscribe("a");  // no-op: already wanted
    subscriber->unsubscribe("a");
    subscriber->unsubscribe("a");  // no-op: not wanted
  }
  subscriber->subscribe("a");
  subscriber->subscribe("b");
  subscriber->unsubscribe("b");
  ASSERT_TRUE(settled(*subscriber, 1));
  EXPECT_EQ(publish("PUBLISH", "a", "1"), 1);
  EXPECT_EQ(publish("PUBLISH", "b", "2"), 0);
  ASSERT_TRUE(run_until(loop_, [&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0], (Message{"a", "1"}));
}

TEST_F(RedisSubscriber, ResubscribesByItselfAfterTheServerRestarts) {
  auto subscriber = make_subscriber();
  std::vector<bool> states;
  subscriber->on_state([&](Availability availability) { states.push_back(availability == Availability::kUp); });
  subscriber->subscribe("news");
  subscriber->subscribe("sport");
  ASSERT_TRUE(settled(*subscriber, 2));

  server_.stop(SIGKILL);
  ASSERT_TRUE(run_until(loop_, [&] { return !subscriber->is_up() && !publisher_.is_up(); }));
  EXPECT_EQ(subscriber->confirmed_count(), 0);
  EXPECT_EQ(subscriber->wanted_count(), 2u);  // the wanted set survives

  ASSERT_TRUE(server_.start());  // same port, empty server: no subscriptions
  ASSERT_TRUE(settled(*subscriber, 2));
  ASSERT_TRUE(run_until(loop_, [&] { return publisher_.is_up(); }));
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(publish("PUBLISH", "sport", "goal"), 1);
  ASSERT_TRUE(run_until(loop_, [&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0], (Message{"sport", "goal"}));
}

TEST_F(RedisSubscriber, SettledOncePerConnectAfterEveryResubscriptionIsConfirmed) {
  auto subscriber = make_subscriber();
  int settles = 0;
  long long confirmed_when_settled = -1;
  subscriber->on_settled([&] {
    ++settles;
    confirmed_when_settled = subscriber->confirmed_count();
  });
  ASSERT_TRUE(run_until(loop_, [&] { return settles == 1; }));  // nothing wanted: at once
  EXPECT_EQ(confirmed_when_settled, 0);
  for (const char* channel : {"a", "b", "c"}) subscriber->subscribe(channel);
  ASSERT_TRUE(settled(*subscriber, 3));
  EXPECT_EQ(settles, 1);  // subscribing later is not a settle

  server_.stop(SIGKILL);
  ASSERT_TRUE(run_until(loop_, [&] { return !subscriber->is_up(); }));
  ASSERT_TRUE(server_.start());
  ASSERT_TRUE(run_until(loop_, [&] { return settles == 2; }));
  EXPECT_EQ(confirmed_when_settled, 3);  // not before the last confirmation
}

TEST_F(RedisSubscriber, ShardedPubSubOnAStandaloneServer) {
  auto subscriber = make_subscriber(Sharding::kYes);
  subscriber->subscribe("user:42");
  subscriber->subscribe("user:43");
  ASSERT_TRUE(settled(*subscriber, 2));
  EXPECT_EQ(publish("SPUBLISH", "user:42", "ping"), 1);
  ASSERT_TRUE(run_until(loop_, [&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0], (Message{"user:42", "ping"}));

  subscriber->unsubscribe("user:42");
  ASSERT_TRUE(settled(*subscriber, 1));
  EXPECT_EQ(publish("SPUBLISH", "user:42", "gone"), 0);
  EXPECT_EQ(publish("SPUBLISH", "user:43", "still"), 1);
  ASSERT_TRUE(run_until(loop_, [&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[1], (Message{"user:43", "still"}));
}

TEST_F(RedisSubscriber, DestroyedFromAMessageCallbackRunsNoMoreCallbacks) {
  auto subscriber = make_subscriber();
  int calls = 0;
  subscriber->on_message([&](std::string_view, std::string_view) {
    ++calls;
    subscriber.reset();
  });
  subscriber->subscribe("news");
  ASSERT_TRUE(settled(*subscriber, 1));
  // Two messages likely arrive in one read: the second must not be delivered.
  publisher_.command({"PUBLISH", "news", "1"}, nullptr);
  publisher_.command({"PUBLISH", "news", "2"}, nullptr);
  ASSERT_TRUE(run_until(loop_, [&] { return calls >= 1; }));
  run_for(loop_, 100);  // room for a wrong second callback: absence cannot be polled
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace switchboard::redis
