// A subscription on a channel with a stream, end to end through the roles
// on a real Worker (role_harness.h): the reply's position, what it
// recovers and its latest; and, with a broker whose stream reads answer
// later than the call (as a remote one would), that the frames published
// while a read is in flight reach the subscriber after its reply exactly
// when the read did not cover them (offset above the reply's), none lost,
// none twice, and never the subscriber's own exclude_self publication.
#include <cstdint>
#include <deque>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "broker/memory_broker.h"
#include "protocol/encode.h"
#include "role_harness.h"

namespace switchboard::hub {
namespace {

using harness::eventually;
using harness::Peer;

// The memory broker, except that stream reads are held while hold_reads is
// set: the test takes each held read's answer from the memory broker when
// it chooses (snapshot) and gives it to the hub later still (answer), with
// publications in between. Every call on the worker's thread.
class LateReadBroker final : public broker::Broker {
 public:
  bool hold_reads = false;

  std::size_t held() const { return held_.size(); }
  // The held read i, answered by the memory broker now.
  void snapshot(std::size_t i) {
    Held& read = held_.at(i);
    inner_.read_stream(read.owner, read.channel, read.query, [&read](broker::StreamAnswer answer) {
      read.answer = std::move(answer);
      read.taken = true;
    });
  }
  // What the hub asked in held read i.
  const broker::StreamQuery& query(std::size_t i) const { return held_.at(i).query; }
  // Held read i answered as a stream the memory broker does not have (one
  // under another epoch: Redis restarted empty) would answer it.
  void answer_with(std::size_t i, broker::StreamAnswer answer) {
    Held& read = held_.at(i);
    read.answer = std::move(answer);
    read.taken = true;
    this->answer(i);
  }
  // The broker's link came back: what it delivered may have gaps.
  void restore_link() { sink_->on_link_restored(0); }
  // Gives the hub held read i's answer (taken by snapshot).
  void answer(std::size_t i) {
    Held& read = held_.at(i);
    ASSERT_TRUE(read.taken);
    ASSERT_TRUE(read.done) << "answered twice";
    broker::StreamDone done = std::move(read.done);
    read.done = nullptr;
    done(std::move(read.answer));
  }

  // Live copies of publications (BrokerSink::on_publication) wait until
  // release_live(), as Redis pub/sub may bring them after a stream read
  // that already saw them.
  bool hold_live = false;
  void release_live() {
    for (const HeldLive& live : held_live_) {
      broker::Publication publication{live.channel, live.offset, live.data, live.exclude};
      publication.epoch = live.epoch;
      sink_->on_publication(live.owner, publication);
    }
    held_live_.clear();
  }
  // The held live copies never come (Redis pub/sub lost them).
  void drop_live() { held_live_.clear(); }
  // A live publication as another stream (Redis restarted empty) numbers it.
  void deliver_live(const std::string& channel, std::uint64_t offset, const std::string& data,
                    const std::string& epoch) {
    broker::Publication publication{channel, offset, data, 0};
    publication.epoch = epoch;
    sink_->on_publication(0, publication);
  }

  void set_sink(broker::BrokerSink& sink) override {
    sink_ = &sink;
    inner_.set_sink(live_);
  }
  void subscribe(unsigned owner, std::string_view channel, std::function<void()> in_place) override {
    inner_.subscribe(owner, channel, std::move(in_place));
  }
  void unsubscribe(unsigned owner, std::string_view channel) override { inner_.unsubscribe(owner, channel); }
  void publish(unsigned owner, const broker::Publication& publication, broker::PublishDone done) override {
    inner_.publish(owner, publication, std::move(done));
  }
  void read_stream(unsigned owner, std::string_view channel, const broker::StreamQuery& query,
                   broker::StreamDone done) override {
    if (!hold_reads) {
      inner_.read_stream(owner, channel, query, std::move(done));
      return;
    }
    held_.push_back({owner, std::string(channel), query, std::move(done)});
  }
  bool keeps_streams() const override { return true; }
  void expire_streams(unsigned owner, std::int64_t now_ms) override { inner_.expire_streams(owner, now_ms); }
  std::uint64_t stream_bytes() const override { return inner_.stream_bytes(); }
  std::uint64_t stream_publications() const override { return inner_.stream_publications(); }
  void watch_user(unsigned owner, std::string_view user) override { inner_.watch_user(owner, user); }
  void unwatch_user(unsigned owner, std::string_view user) override { inner_.unwatch_user(owner, user); }
  void send_to_user(unsigned owner, const broker::UserMessage& message, broker::UserSendDone done) override {
    inner_.send_to_user(owner, message, std::move(done));
  }
  void presence_join(unsigned owner, std::string_view channel, const broker::PresenceEntry& entry) override {
    inner_.presence_join(owner, channel, entry);
  }
  void presence_leave(unsigned owner, std::string_view channel, std::string_view client) override {
    inner_.presence_leave(owner, channel, client);
  }
  void presence_elsewhere(unsigned owner, std::string_view channel, broker::PresenceDone done) override {
    inner_.presence_elsewhere(owner, channel, std::move(done));
  }
  void publish_event(unsigned owner, std::string_view channel, std::string_view frame) override {
    inner_.publish_event(owner, channel, frame);
  }
  void broadcast(std::string_view frame) override { inner_.broadcast(frame); }
  void ask_nodes(std::string_view question, broker::AskDone done) override {
    inner_.ask_nodes(question, std::move(done));
  }

 private:
  struct Held {
    unsigned owner;
    std::string channel;
    broker::StreamQuery query;
    broker::StreamDone done;
    broker::StreamAnswer answer = {};
    bool taken = false;
  };
  struct HeldLive {
    unsigned owner;
    std::string channel;
    std::uint64_t offset;
    std::string data;
    std::uint64_t exclude;
    std::string epoch;
  };
  // Between the memory broker and the hub: holds live copies while asked.
  struct LiveGate final : broker::BrokerSink {
    explicit LiveGate(LateReadBroker& broker) : broker(broker) {}
    void on_publication(unsigned owner, const broker::Publication& p) override {
      if (!broker.hold_live) {
        broker.sink_->on_publication(owner, p);
        return;
      }
      broker.held_live_.push_back(
          {owner, std::string(p.channel), p.offset, std::string(p.data_json), p.exclude_client, std::string(p.epoch)});
    }
    bool on_user_message(unsigned owner, const broker::UserMessage& m) override {
      return broker.sink_->on_user_message(owner, m);
    }
    void on_channel_event(unsigned owner, std::string_view channel, std::string_view frame) override {
      broker.sink_->on_channel_event(owner, channel, frame);
    }
    void on_question(std::string_view question, std::function<void(std::string)> answer) override {
      broker.sink_->on_question(question, std::move(answer));
    }
    void on_broadcast(std::string_view frame) override { broker.sink_->on_broadcast(frame); }
    LateReadBroker& broker;
  };
  broker::BrokerSink* sink_ = nullptr;
  LiveGate live_{*this};
  std::vector<HeldLive> held_live_;
  broker::MemoryBroker inner_{1};
  std::deque<Held> held_;  // a deque: snapshot's callback holds a reference
};

class StreamActivationTest : public harness::RoleHarness {
 protected:
  StreamActivationTest() {
    NamespaceOptions feeds;
    feeds.pattern = "feed:*";
    feeds.history_size = 10;
    feeds.history_ttl_s = 60;
    hub_config_.namespaces.push_back(feeds);
    NamespaceOptions cached = feeds;
    cached.pattern = "cached:*";
    cached.cache = true;
    hub_config_.namespaces.push_back(cached);
  }

  void start_with_late_reads() {
    make_broker_ = [this] {
      auto broker = std::make_unique<LateReadBroker>();
      late_ = broker.get();
      return broker;
    };
    start();
  }
  // On the worker's thread, as every broker call is.
  template <typename F>
  void on_worker(F&& f) {
    running_->on_worker(std::forward<F>(f));
  }
  std::size_t held_reads() {
    std::size_t held = 0;
    on_worker([&] { held = late_->held(); });
    return held;
  }

  // Publishes data on channel from peer and returns the reply's epoch,
  // checking its offset.
  std::string publish(Peer& peer, const std::string& channel, int data, std::uint64_t offset, int id,
                      bool exclude_self = false) {
    send(peer, R"({"id":)" + std::to_string(id) + R"(,"type":"publish","channel":")" + channel + R"(","data":)" +
                   std::to_string(data) + (exclude_self ? R"(,"exclude_self":true})" : "}"));
    const std::string reply = next(peer);
    std::smatch match;
    const std::regex shape(
        R"re(\{"type":"reply","id":(\d+),"data":\{"offset":(\d+),"epoch":"([A-Za-z0-9_-]{8})"\}\})re");
    EXPECT_TRUE(std::regex_match(reply, match, shape)) << reply;
    if (match.empty()) return {};
    EXPECT_EQ(match[1].str(), std::to_string(id));
    EXPECT_EQ(match[2].str(), std::to_string(offset));
    return match[3].str();
  }
  static std::string message(const std::string& channel, std::uint64_t offset, int data) {
    return R"({"type":"message","channel":")" + channel + R"(","offset":)" + std::to_string(offset) + R"(,"data":)" +
           std::to_string(data) + "}";
  }
  static std::string since(std::uint64_t offset, const std::string& epoch) {
    return R"("since":{"offset":)" + std::to_string(offset) + R"(,"epoch":")" + epoch + R"("})";
  }

  // A new subscriber of feed:a, placed by its reply at offset 1 of epoch.
  Peer subscribed_at_one(const std::string& epoch) {
    Peer subscriber = open();
    send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
    EXPECT_EQ(next(subscriber),
              protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":1})"));
    return subscriber;
  }

  LateReadBroker* late_ = nullptr;  // the node's broker, when start_with_late_reads made it
};

TEST_F(StreamActivationTest, TheReplyGivesThePositionWhatIsRecoveredAndTheLatest) {
  start();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  EXPECT_EQ(publish(publisher, "feed:a", 2, 2, 2), epoch);
  EXPECT_EQ(publish(publisher, "feed:a", 3, 3, 3), epoch);
  const std::string position = R"("recoverable":true,"epoch":")" + epoch + R"(","offset":3)";

  Peer plain = open();
  send(plain, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  EXPECT_EQ(next(plain), protocol::encode_reply(1, "{" + position + "}"));

  Peer recovering = open();
  send(recovering, R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,)" + since(1, epoch) + "}");
  EXPECT_EQ(
      next(recovering),
      protocol::encode_reply(
          1, "{" + position + R"(,"recovered":true,"publications":[{"offset":2,"data":2},{"offset":3,"data":3}]})"));

  Peer at_top = open();
  send(at_top, R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,)" + since(3, epoch) + "}");
  EXPECT_EQ(next(at_top), protocol::encode_reply(1, "{" + position + R"(,"recovered":true,"publications":[]})"));

  Peer lost = open();
  send(lost,
       R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,"latest":true,)" + since(1, "AAAAAAAA") + "}");
  EXPECT_EQ(next(lost),
            protocol::encode_reply(1, "{" + position + R"(,"recovered":false,"latest":{"offset":3,"data":3}})"));

  // Live from the next offset on, for each of them.
  publish(publisher, "feed:a", 4, 4, 4);
  for (Peer* peer : {&plain, &recovering, &at_top, &lost}) {
    EXPECT_EQ(next(*peer), message("feed:a", 4, 4));
    expect_nothing_pending(*peer, 9);
  }
}

TEST_F(StreamActivationTest, ACacheNamespaceAlwaysGivesTheLatestAndAnEmptyStreamGivesNull) {
  start();
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"cached:x"})");
  const std::string reply = next(subscriber);
  const std::regex shape(
      R"re(\{"type":"reply","id":1,"data":\{"recoverable":true,"epoch":"([A-Za-z0-9_-]{8})","offset":0,"latest":null\}\})re");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(reply, match, shape)) << reply;
  Peer publisher = open();
  // The epoch the subscriber was given names the stream the publish goes to.
  EXPECT_EQ(publish(publisher, "cached:x", 7, 1, 1), match[1].str());
  EXPECT_EQ(next(subscriber), message("cached:x", 1, 7));
  Peer later = open();
  send(later, R"({"id":1,"type":"subscribe","channel":"cached:x"})");
  EXPECT_EQ(next(later), protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + match[1].str() +
                                                       R"(","offset":1,"latest":{"offset":1,"data":7}})"));
}

TEST_F(StreamActivationTest, AChannelWithoutAStreamSaysSoOnlyWhenAsked) {
  start();
  Peer peer = open();
  send(peer, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next(peer), protocol::encode_reply(1, "{}"));
  send(peer, R"({"id":2,"type":"subscribe","channel":"other","latest":true})");
  EXPECT_EQ(next(peer), protocol::encode_reply(2, R"({"recoverable":false})"));
  send(peer, R"({"id":3,"type":"subscribe","channel":"third","recover":true,)" + since(5, "AAAAAAAA") + "}");
  EXPECT_EQ(next(peer), protocol::encode_reply(3, R"({"recoverable":false,"recovered":false})"));
}

// The read answers with the stream at 4 while 3..6 are published around
// it: 3 and 4 come in the reply (recovered), 5 and 6 after it, 7 live.
TEST_F(StreamActivationTest, FramesPublishedDuringALateRecoveryFollowTheReplyWhenAboveItsOffset) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  publish(publisher, "feed:a", 2, 2, 2);
  on_worker([&] { late_->hold_reads = true; });
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,)" + since(2, epoch) + "}");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  publish(publisher, "feed:a", 3, 3, 3);
  publish(publisher, "feed:a", 4, 4, 4);
  on_worker([&] { late_->snapshot(0); });
  publish(publisher, "feed:a", 5, 5, 5);
  publish(publisher, "feed:a", 6, 6, 6);
  on_worker([&] { late_->answer(0); });
  publish(publisher, "feed:a", 7, 7, 7);
  EXPECT_EQ(
      next(subscriber),
      protocol::encode_reply(
          1, R"({"recoverable":true,"epoch":")" + epoch +
                 R"(","offset":4,"recovered":true,"publications":[{"offset":3,"data":3},{"offset":4,"data":4}]})"));
  for (int n = 5; n <= 7; ++n) EXPECT_EQ(next(subscriber), message("feed:a", n, n));
  expect_nothing_pending(subscriber, 2);
}

// Without recovery the reply's offset says where the subscriber is: what
// the read covered is not sent, what it did not is, once.
TEST_F(StreamActivationTest, FramesPublishedDuringALatePositionReadFollowTheReplyWhenAboveItsOffset) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  on_worker([&] { late_->hold_reads = true; });
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  publish(publisher, "feed:a", 2, 2, 2);
  on_worker([&] { late_->snapshot(0); });
  publish(publisher, "feed:a", 3, 3, 3);
  on_worker([&] { late_->answer(0); });
  publish(publisher, "feed:a", 4, 4, 4);
  EXPECT_EQ(next(subscriber),
            protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":2})"));
  EXPECT_EQ(next(subscriber), message("feed:a", 3, 3));
  EXPECT_EQ(next(subscriber), message("feed:a", 4, 4));
  expect_nothing_pending(subscriber, 2);
}

// The subscriber publishes with exclude_self while its read is in flight:
// its own publication is in the stream (a later recovery may give it) but
// never comes to it live; another's, published meanwhile, does (even with
// exclude_self: that excludes its own publisher only).
TEST_F(StreamActivationTest, TheSubscribersOwnExcludeSelfPublicationDuringALateReadDoesNotReachIt) {
  start_with_late_reads();
  Peer other = open();
  const std::string epoch = publish(other, "feed:a", 1, 1, 1);
  on_worker([&] { late_->hold_reads = true; });
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  on_worker([&] { late_->snapshot(0); });
  publish(subscriber, "feed:a", 2, 2, 2, /*exclude_self=*/true);
  publish(other, "feed:a", 3, 3, 3, /*exclude_self=*/true);  // excludes other, not the subscriber
  publish(subscriber, "feed:a", 4, 4, 4, /*exclude_self=*/false);
  on_worker([&] { late_->answer(0); });
  EXPECT_EQ(next(subscriber),
            protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":1})"));
  EXPECT_EQ(next(subscriber), message("feed:a", 3, 3));
  EXPECT_EQ(next(subscriber), message("feed:a", 4, 4));
  // Live, the same.
  publish(subscriber, "feed:a", 5, 5, 5, /*exclude_self=*/true);
  publish(other, "feed:a", 6, 6, 6);
  EXPECT_EQ(next(subscriber), message("feed:a", 6, 6));
  expect_nothing_pending(subscriber, 9);
  // The stream has them all.
  Peer recovering = open();
  send(recovering, R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,)" + since(1, epoch) + "}");
  ASSERT_TRUE(eventually([&] { return held_reads() == 2; }));
  on_worker([&] {
    late_->snapshot(1);
    late_->answer(1);
  });
  const std::string reply = next(recovering);
  EXPECT_NE(
      reply.find(
          R"("publications":[{"offset":2,"data":2},{"offset":3,"data":3},{"offset":4,"data":4},{"offset":5,"data":5},{"offset":6,"data":6}])"),
      std::string::npos)
      << reply;
}

// Two subscriptions in flight at once, answered in the other order: each
// gets what its own read did not cover, once.
TEST_F(StreamActivationTest, TwoLateReadsEachGetWhatTheirOwnReadDidNotCover) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  on_worker([&] { late_->hold_reads = true; });
  Peer first = open();
  send(first, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  on_worker([&] { late_->snapshot(0); });  // at 1
  publish(publisher, "feed:a", 2, 2, 2);
  Peer second = open();
  send(second, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  ASSERT_TRUE(eventually([&] { return held_reads() == 2; }));
  publish(publisher, "feed:a", 3, 3, 3);
  on_worker([&] { late_->snapshot(1); });  // at 3
  publish(publisher, "feed:a", 4, 4, 4);
  on_worker([&] {
    late_->answer(1);
    late_->answer(0);
  });
  publish(publisher, "feed:a", 5, 5, 5);
  EXPECT_EQ(next(first), protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":1})"));
  for (int n = 2; n <= 5; ++n) EXPECT_EQ(next(first), message("feed:a", n, n));
  expect_nothing_pending(first, 2);
  EXPECT_EQ(next(second), protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":3})"));
  for (int n = 4; n <= 5; ++n) EXPECT_EQ(next(second), message("feed:a", n, n));
  expect_nothing_pending(second, 2);
}

// Unsubscribed before the read answered: the reply is still owed, and
// nothing follows it.
TEST_F(StreamActivationTest, ASubscriberThatLeftBeforeALateReadAnsweredGetsItsReplyAndNothingElse) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  on_worker([&] { late_->hold_reads = true; });
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a"})");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  on_worker([&] { late_->snapshot(0); });
  send(subscriber, R"({"id":2,"type":"unsubscribe","channel":"feed:a"})");
  EXPECT_EQ(next(subscriber), protocol::encode_reply(2, "{}"));
  publish(publisher, "feed:a", 2, 2, 2);
  on_worker([&] { late_->answer(0); });
  publish(publisher, "feed:a", 3, 3, 3);
  EXPECT_EQ(next(subscriber),
            protocol::encode_reply(1, R"({"recoverable":true,"epoch":")" + epoch + R"(","offset":1})"));
  expect_nothing_pending(subscriber, 3);
}

// Redis can answer a stream read that saw offsets 2 and 3 before their live
// copies reach the owner: the new subscriber, whose reply covered them,
// must not get them again live; a subscriber that was there before gets
// them once; the next offset reaches both.
TEST_F(StreamActivationTest, LiveCopiesArrivingAfterALateReadThatSawThemAreNotSentAgain) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  Peer earlier = subscribed_at_one(epoch);
  on_worker([&] {
    late_->hold_reads = true;
    late_->hold_live = true;
  });
  Peer subscriber = open();
  send(subscriber, R"({"id":1,"type":"subscribe","channel":"feed:a","recover":true,)" + since(1, epoch) + "}");
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  publish(publisher, "feed:a", 2, 2, 2);
  publish(publisher, "feed:a", 3, 3, 3);
  on_worker([&] {
    late_->snapshot(0);
    late_->answer(0);
  });
  EXPECT_EQ(
      next(subscriber),
      protocol::encode_reply(
          1, R"({"recoverable":true,"epoch":")" + epoch +
                 R"(","offset":3,"recovered":true,"publications":[{"offset":2,"data":2},{"offset":3,"data":3}]})"));
  on_worker([&] {
    late_->hold_live = false;
    late_->release_live();
  });
  publish(publisher, "feed:a", 4, 4, 4);
  EXPECT_EQ(next(subscriber), message("feed:a", 4, 4));
  expect_nothing_pending(subscriber, 2);
  for (int n = 2; n <= 4; ++n) EXPECT_EQ(next(earlier), message("feed:a", n, n));
  expect_nothing_pending(earlier, 2);
}

// Live copies that never come (pub/sub lost them while a link was down):
// the next publication shows the gap, the owner reads what it missed from
// the stream and fans it out first, in order, once.
TEST_F(StreamActivationTest, AGapInLivePublicationsIsFilledFromTheStreamInOrder) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  Peer subscriber = subscribed_at_one(epoch);
  on_worker([&] { late_->hold_live = true; });
  publish(publisher, "feed:a", 2, 2, 2);
  publish(publisher, "feed:a", 3, 3, 3);
  on_worker([&] {
    late_->drop_live();
    late_->hold_live = false;
  });
  publish(publisher, "feed:a", 4, 4, 4);
  for (int n = 2; n <= 4; ++n) EXPECT_EQ(next(subscriber), message("feed:a", n, n));
  expect_nothing_pending(subscriber, 2);
}

// A new epoch on the live stream (Redis restarted empty): subscribers get
// `reset` with the new place, then the publication; a gap the stream
// cannot fill (the read is unavailable) is a reset too.
TEST_F(StreamActivationTest, ANewEpochOrAGapThatCannotBeFilledIsAReset) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  Peer subscriber = subscribed_at_one(epoch);
  on_worker([&] { late_->deliver_live("feed:a", 1, "10", "NEWEPOCH"); });
  EXPECT_EQ(next(subscriber), protocol::encode_reset("feed:a", "NEWEPOCH", 0));
  EXPECT_EQ(next(subscriber), message("feed:a", 1, 10));
  on_worker([&] { late_->deliver_live("feed:a", 2, "11", "NEWEPOCH"); });
  EXPECT_EQ(next(subscriber), message("feed:a", 2, 11));
  // Offsets 3..6 never came and the stream (the memory broker's, under
  // another epoch) cannot give them: a reset at 6, then 7.
  on_worker([&] { late_->deliver_live("feed:a", 7, "16", "NEWEPOCH"); });
  EXPECT_EQ(next(subscriber), protocol::encode_reset("feed:a", "NEWEPOCH", 6));
  EXPECT_EQ(next(subscriber), message("feed:a", 7, 16));
  // A repeat of what was delivered is not sent again.
  on_worker([&] { late_->deliver_live("feed:a", 7, "16", "NEWEPOCH"); });
  on_worker([&] { late_->deliver_live("feed:a", 8, "17", "NEWEPOCH"); });
  EXPECT_EQ(next(subscriber), message("feed:a", 8, 17));
  expect_nothing_pending(subscriber, 2);
}

// Stream reads as a Redis that restarted empty answers them: the new
// epoch NEW holds offsets 1..top.
broker::StreamAnswer new_epoch_answer(std::uint64_t top, std::uint64_t first, bool complete) {
  broker::StreamAnswer answer;
  answer.top = {top, "NEW"};
  answer.complete = complete;
  if (complete) {
    for (std::uint64_t offset = first; offset <= top; ++offset) {
      answer.publications.push_back({offset, std::to_string(100 + offset)});
    }
  }
  return answer;
}

// The new epoch already numbered publications this node never saw (other
// nodes published them while its link was down): the first live one of
// the new epoch is not offset 1. The owner reads the new epoch from its
// start, then subscribers get `reset` at 0 and every publication of the
// new epoch, once, in order.
TEST_F(StreamActivationTest, ANewEpochSeenLateIsReadFromItsStartAfterTheReset) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  Peer subscriber = subscribed_at_one(epoch);
  on_worker([&] {
    late_->hold_reads = true;
    late_->deliver_live("feed:a", 3, "103", "NEW");
  });
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  on_worker([&] {
    EXPECT_EQ(late_->query(0).mode, broker::StreamQuery::Mode::kRecover);
    EXPECT_EQ(late_->query(0).since.epoch, "NEW");
    EXPECT_EQ(late_->query(0).since.offset, 0U);
    late_->deliver_live("feed:a", 4, "104", "NEW");  // waits behind the read
    late_->answer_with(0, new_epoch_answer(3, 1, true));
  });
  EXPECT_EQ(next(subscriber), protocol::encode_reset("feed:a", "NEW", 0));
  for (int n = 1; n <= 4; ++n) EXPECT_EQ(next(subscriber), message("feed:a", n, 100 + n));
  expect_nothing_pending(subscriber, 2);
}

// The broker's link comes back and the read from the subscribers' place
// finds another epoch: the owner reads that epoch from its start too.
// When its start is gone (trimmed), the reset is at the stream's top.
TEST_F(StreamActivationTest, ALinkRestoredOnANewEpochDeliversItFromItsStartOrResetsAtItsTop) {
  start_with_late_reads();
  Peer publisher = open();
  const std::string epoch = publish(publisher, "feed:a", 1, 1, 1);
  Peer subscriber = subscribed_at_one(epoch);
  on_worker([&] {
    late_->hold_reads = true;
    late_->restore_link();
  });
  ASSERT_TRUE(eventually([&] { return held_reads() == 1; }));
  on_worker([&] {
    EXPECT_EQ(late_->query(0).since.epoch, epoch);
    late_->answer_with(0, new_epoch_answer(2, 1, false));  // another epoch: incomplete
  });
  ASSERT_TRUE(eventually([&] { return held_reads() == 2; }));
  on_worker([&] {
    EXPECT_EQ(late_->query(1).since.epoch, "NEW");
    EXPECT_EQ(late_->query(1).since.offset, 0U);
    late_->answer_with(1, new_epoch_answer(2, 1, true));
  });
  EXPECT_EQ(next(subscriber), protocol::encode_reset("feed:a", "NEW", 0));
  EXPECT_EQ(next(subscriber), message("feed:a", 1, 101));
  EXPECT_EQ(next(subscriber), message("feed:a", 2, 102));
  expect_nothing_pending(subscriber, 2);

  // Again, and this time the new epoch's start was trimmed away: one reset
  // at its top, and nothing before it.
  on_worker([&] { late_->restore_link(); });
  ASSERT_TRUE(eventually([&] { return held_reads() == 3; }));
  broker::StreamAnswer newer = new_epoch_answer(40, 1, false);
  newer.top.epoch = "NEWER";
  on_worker([&] { late_->answer_with(2, newer); });
  ASSERT_TRUE(eventually([&] { return held_reads() == 4; }));
  on_worker([&] { late_->answer_with(3, newer); });
  EXPECT_EQ(next(subscriber), protocol::encode_reset("feed:a", "NEWER", 40));
  expect_nothing_pending(subscriber, 2);
}

}  // namespace
}  // namespace switchboard::hub
