// MemoryBroker's streams: a channel whose namespace keeps history numbers
// and keeps its publications with or without subscribers, under an epoch
// that lasts as long as the stream (subscribed, or active within its TTL);
// read_stream in every mode; a namespace turning history off or changing
// its bounds; the memory counters. The broker reads the monotonic clock
// itself, so "later" is an expire_streams call with a time past the TTL.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/clock.h"
#include "broker/memory_broker.h"

namespace switchboard::broker {
namespace {

constexpr HistoryLimits kKeep10 = {10, 60};
constexpr HistoryLimits kNone = {};

struct RecordingSink : BrokerSink {
  std::vector<std::uint64_t> offsets;  // of the publications that came back
  void on_publication(unsigned, const Publication& p) override { offsets.push_back(p.offset); }
  bool on_user_message(unsigned, const UserMessage&) override { return false; }
  void on_channel_event(unsigned, std::string_view, std::string_view) override {}
  void on_question(std::string_view, std::function<void(std::string)> answer) override { answer({}); }
  void on_broadcast(std::string_view) override {}
};

// A time at which everything stored so far, and every stream idle since,
// is past a TTL of ttl_s.
std::int64_t after_ttl(std::uint64_t ttl_s) {
  return static_cast<std::int64_t>(base::monotonic_ms() + ttl_s * 1000 + 1);
}

class MemoryBrokerStreams : public ::testing::Test {
 protected:
  MemoryBrokerStreams() { broker_.set_sink(sink_); }

  PublishResult publish(std::string_view channel, std::string_view data, HistoryLimits limits = kKeep10,
                        unsigned owner = 0) {
    PublishResult result{PublishStatus::kUnavailable, 999, "unset"};
    int calls = 0;
    broker_.publish(owner, Publication{channel, 0, data, 0, limits}, [&](PublishResult r) {
      result = std::move(r);
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    return result;
  }
  // Publications "1".."count" on channel.
  std::string publish_many(std::string_view channel, int count, HistoryLimits limits = kKeep10) {
    std::string epoch;
    for (int n = 1; n <= count; ++n) epoch = publish(channel, std::to_string(n), limits).epoch;
    return epoch;
  }

  // Answered in the call, as the Broker contract says MemoryBroker does.
  StreamAnswer read(std::string_view channel, StreamQuery query, unsigned owner = 0) {
    StreamAnswer answer;
    answer.status = StreamStatus::kUnavailable;
    int calls = 0;
    broker_.read_stream(owner, channel, query, [&](StreamAnswer a) {
      answer = std::move(a);
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    return answer;
  }
  static StreamQuery recover(std::uint64_t offset, std::string epoch, std::size_t limit = 100,
                             HistoryLimits limits = kKeep10) {
    StreamQuery query{.history = limits, .mode = StreamQuery::Mode::kRecover, .has_since = true};
    query.since = {offset, std::move(epoch)};
    query.limit = limit;
    return query;
  }
  static StreamQuery position(bool latest = false, HistoryLimits limits = kKeep10) {
    return StreamQuery{.history = limits, .mode = StreamQuery::Mode::kPosition, .latest = latest};
  }
  static std::vector<std::uint64_t> offsets_of(const StreamAnswer& answer) {
    std::vector<std::uint64_t> offsets;
    for (const StoredPublication& publication : answer.publications) {
      EXPECT_EQ(publication.data_json, std::to_string(publication.offset));
      offsets.push_back(publication.offset);
    }
    return offsets;
  }
  std::string epoch_of(std::string_view channel) { return read(channel, position()).top.epoch; }

  RecordingSink sink_;
  MemoryBroker broker_{2};
};

TEST_F(MemoryBrokerStreams, KeepsAndNumbersPublicationsNobodySubscribesTo) {
  const PublishResult first = publish("s", "1");
  EXPECT_EQ(first.status, PublishStatus::kAccepted);
  EXPECT_EQ(first.offset, 1u);
  EXPECT_EQ(first.epoch.size(), 8u);
  EXPECT_EQ(publish("s", "2").offset, 2u);
  const PublishResult third = publish("s", "3");
  EXPECT_EQ(third.offset, 3u);
  EXPECT_EQ(third.epoch, first.epoch);
  EXPECT_TRUE(sink_.offsets.empty());  // kept, delivered to no one
  EXPECT_EQ(broker_.channel_count(0), 1u);
  EXPECT_EQ(broker_.stream_publications(), 3u);
  EXPECT_GT(broker_.stream_bytes(), sizeof(ChannelHistory));
  const StreamAnswer all = read("s", recover(0, first.epoch));
  EXPECT_TRUE(all.complete);
  EXPECT_EQ(offsets_of(all), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST_F(MemoryBrokerStreams, DeliversASubscribedStreamsPublicationsNumbered) {
  broker_.subscribe(0, "s", [] {});
  publish_many("s", 3);
  EXPECT_EQ(sink_.offsets, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST_F(MemoryBrokerStreams, AStreamWithoutSubscribersGoesOnceIdlePastItsTtlAndComesBackUnderANewEpoch) {
  const std::string epoch = publish_many("s", 3);
  broker_.expire_streams(0, static_cast<std::int64_t>(base::monotonic_ms()));
  EXPECT_EQ(epoch_of("s"), epoch);  // still within its TTL
  EXPECT_EQ(broker_.channel_count(0), 1u);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.channel_count(0), 0u);
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  EXPECT_EQ(broker_.stream_publications(), 0u);
  const PublishResult again = publish("s", "1");
  EXPECT_EQ(again.offset, 1u);
  EXPECT_NE(again.epoch, epoch);
  // The old position means nothing under the new epoch.
  EXPECT_FALSE(read("s", recover(3, epoch)).complete);
}

TEST_F(MemoryBrokerStreams, ASubscribedStreamLivesPastItsTtlAndOutlivesItsLastSubscriberByIt) {
  broker_.subscribe(0, "s", [] {});
  const std::string epoch = publish_many("s", 3);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.channel_count(0), 1u);
  EXPECT_EQ(broker_.stream_publications(), 0u);  // its publications expired
  const PublishResult next = publish("s", "4");
  EXPECT_EQ(next.offset, 4u);
  EXPECT_EQ(next.epoch, epoch);
  broker_.unsubscribe(0, "s");
  broker_.expire_streams(0, static_cast<std::int64_t>(base::monotonic_ms()));
  EXPECT_EQ(broker_.channel_count(0), 1u);  // a subscriber may come back to recover
  EXPECT_EQ(epoch_of("s"), epoch);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.channel_count(0), 0u);
  EXPECT_EQ(broker_.stream_bytes(), 0u);
}

TEST_F(MemoryBrokerStreams, PositionGivesTheTopAndTheLatestIfAsked) {
  const std::string epoch = publish_many("s", 3);
  const StreamAnswer plain = read("s", position());
  EXPECT_EQ(plain.status, StreamStatus::kRead);
  EXPECT_EQ(plain.top.offset, 3u);
  EXPECT_EQ(plain.top.epoch, epoch);
  EXPECT_TRUE(plain.complete);
  EXPECT_TRUE(plain.publications.empty());
  EXPECT_FALSE(plain.has_latest);
  const StreamAnswer latest = read("s", position(true));
  ASSERT_TRUE(latest.has_latest);
  EXPECT_EQ(latest.latest.offset, 3u);
  EXPECT_EQ(latest.latest.data_json, "3");
}

TEST_F(MemoryBrokerStreams, APositionReadMakesAStreamThatLastsItsTtl) {
  const StreamAnswer fresh = read("new", position(true));
  EXPECT_EQ(fresh.status, StreamStatus::kRead);
  EXPECT_EQ(fresh.top.offset, 0u);
  EXPECT_EQ(fresh.top.epoch.size(), 8u);
  EXPECT_FALSE(fresh.has_latest);
  EXPECT_EQ(broker_.channel_count(0), 1u);
  // The epoch a reader was given still names the stream when it publishes.
  EXPECT_EQ(publish("new", "1").epoch, fresh.top.epoch);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.channel_count(0), 0u);
}

TEST_F(MemoryBrokerStreams, RecoverGivesEverythingAfterThePositionOrNothing) {
  const std::string epoch = publish_many("s", 5);
  const StreamAnswer from_two = read("s", recover(2, epoch));
  EXPECT_TRUE(from_two.complete);
  EXPECT_EQ(from_two.top.offset, 5u);
  EXPECT_EQ(offsets_of(from_two), (std::vector<std::uint64_t>{3, 4, 5}));
  const StreamAnswer at_top = read("s", recover(5, epoch));
  EXPECT_TRUE(at_top.complete);
  EXPECT_TRUE(at_top.publications.empty());
  // Exactly the limit, one more than it.
  EXPECT_TRUE(read("s", recover(2, epoch, 3)).complete);
  const StreamAnswer over_limit = read("s", recover(2, epoch, 2));
  EXPECT_FALSE(over_limit.complete);
  EXPECT_TRUE(over_limit.publications.empty());
  EXPECT_EQ(over_limit.top.offset, 5u);
  // Another epoch, a future position.
  const StreamAnswer other_epoch = read("s", recover(2, "AAAAAAAA"));
  EXPECT_FALSE(other_epoch.complete);
  EXPECT_TRUE(other_epoch.publications.empty());
  EXPECT_EQ(other_epoch.top.epoch, epoch);
  EXPECT_FALSE(read("s", recover(6, epoch)).complete);
}

TEST_F(MemoryBrokerStreams, RecoverFromATrimmedPositionIsNotComplete) {
  constexpr HistoryLimits kKeep3 = {3, 60};
  const std::string epoch = publish_many("s", 6, kKeep3);  // keeps 4..6
  EXPECT_FALSE(read("s", recover(2, epoch, 100, kKeep3)).complete);
  const StreamAnswer from_three = read("s", recover(3, epoch, 100, kKeep3));
  EXPECT_TRUE(from_three.complete);
  EXPECT_EQ(offsets_of(from_three), (std::vector<std::uint64_t>{4, 5, 6}));
  // With the latest too.
  StreamQuery with_latest = recover(5, epoch, 100, kKeep3);
  with_latest.latest = true;
  const StreamAnswer both = read("s", with_latest);
  EXPECT_EQ(offsets_of(both), (std::vector<std::uint64_t>{6}));
  ASSERT_TRUE(both.has_latest);
  EXPECT_EQ(both.latest.offset, 6u);
}

TEST_F(MemoryBrokerStreams, PagesInBothDirectionsFromAPlaceOfThisEpoch) {
  const std::string epoch = publish_many("s", 5);
  StreamQuery query{.history = kKeep10, .mode = StreamQuery::Mode::kPage, .limit = 2};
  StreamAnswer answer = read("s", query);
  EXPECT_TRUE(answer.complete);
  EXPECT_EQ(answer.top.offset, 5u);
  EXPECT_EQ(offsets_of(answer), (std::vector<std::uint64_t>{1, 2}));
  query.reverse = true;
  EXPECT_EQ(offsets_of(read("s", query)), (std::vector<std::uint64_t>{5, 4}));
  query.has_since = true;
  query.since = {4, epoch};
  EXPECT_EQ(offsets_of(read("s", query)), (std::vector<std::uint64_t>{3, 2}));
  query.reverse = false;
  query.since = {2, epoch};
  EXPECT_EQ(offsets_of(read("s", query)), (std::vector<std::uint64_t>{3, 4}));
  // Another epoch, or a place never given.
  query.since = {2, "AAAAAAAA"};
  answer = read("s", query);
  EXPECT_FALSE(answer.complete);
  EXPECT_TRUE(answer.publications.empty());
  EXPECT_EQ(answer.top.epoch, epoch);
  query.since = {6, epoch};
  EXPECT_FALSE(read("s", query).complete);
  // A page never carries the latest unless asked (the hub never asks).
  EXPECT_FALSE(read("s", query).has_latest);
}

TEST_F(MemoryBrokerStreams, PageFromATrimmedPlaceIsNotComplete) {
  constexpr HistoryLimits kKeep3 = {3, 60};
  const std::string epoch = publish_many("s", 6, kKeep3);  // keeps 4..6
  StreamQuery query{.history = kKeep3, .mode = StreamQuery::Mode::kPage, .has_since = true, .limit = 100};
  query.since = {2, epoch};
  EXPECT_FALSE(read("s", query).complete);
  query.since = {3, epoch};
  EXPECT_EQ(offsets_of(read("s", query)), (std::vector<std::uint64_t>{4, 5, 6}));
}

TEST_F(MemoryBrokerStreams, AChannelWithoutHistoryHasNoStream) {
  broker_.subscribe(0, "plain", [] {});
  publish("plain", "1", kNone);
  const StreamAnswer answer = read("plain", position(true, kNone));
  EXPECT_EQ(answer.status, StreamStatus::kNoStream);
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  // Not even an entry for a channel nobody subscribes to.
  EXPECT_EQ(read("nobody", position(false, kNone)).status, StreamStatus::kNoStream);
  EXPECT_EQ(broker_.channel_count(0), 1u);
}

TEST_F(MemoryBrokerStreams, ANamespaceTurningHistoryOffDropsTheStreamAndKeepsTheNumbering) {
  broker_.subscribe(0, "s", [] {});
  const std::string epoch = publish_many("s", 3);
  const PublishResult plain = publish("s", "4", kNone);
  EXPECT_EQ(plain.offset, 4u);
  EXPECT_EQ(plain.epoch, "");
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  EXPECT_EQ(broker_.stream_publications(), 0u);
  EXPECT_EQ(read("s", position(false, kNone)).status, StreamStatus::kNoStream);
  EXPECT_EQ(publish("s", "5", kNone).offset, 5u);
  EXPECT_EQ(sink_.offsets, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  // On again: a new stream (its past was lost) going on from the numbering.
  const StreamAnswer back = read("s", position());
  EXPECT_EQ(back.top.offset, 5u);
  EXPECT_NE(back.top.epoch, epoch);
  EXPECT_FALSE(read("s", recover(3, epoch)).complete);
  const PublishResult six = publish("s", "6");
  EXPECT_EQ(six.offset, 6u);
  EXPECT_EQ(six.epoch, back.top.epoch);
}

TEST_F(MemoryBrokerStreams, AStreamNobodySubscribesToIsKeptUntilItsTtlWhenHistoryIsTurnedOff) {
  const std::string epoch = publish_many("s", 3);
  const PublishResult plain = publish("s", "4", kNone);
  EXPECT_EQ(plain.offset, 0u);  // nobody listens and nothing keeps it
  EXPECT_EQ(broker_.stream_publications(), 3u);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.channel_count(0), 0u);
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  EXPECT_EQ(broker_.stream_publications(), 0u);
}

TEST_F(MemoryBrokerStreams, NewBoundsApplyToTheStreamUnderTheSameEpoch) {
  const std::string epoch = publish_many("s", 6);
  const std::uint64_t bytes_of_six = broker_.stream_bytes();
  constexpr HistoryLimits kKeep3 = {3, 60};
  // A read with the namespace's new bounds trims the stream at once.
  const StreamAnswer shrunk = read("s", recover(3, epoch, 100, kKeep3));
  EXPECT_TRUE(shrunk.complete);
  EXPECT_EQ(offsets_of(shrunk), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(shrunk.top.epoch, epoch);
  EXPECT_EQ(broker_.stream_publications(), 3u);
  EXPECT_LT(broker_.stream_bytes(), bytes_of_six);
  EXPECT_FALSE(read("s", recover(2, epoch, 100, kKeep3)).complete);
  // So does a publish; and bounds that grow keep more from then on.
  const PublishResult seven = publish("s", "7", {5, 60});
  EXPECT_EQ(seven.offset, 7u);
  EXPECT_EQ(seven.epoch, epoch);
  publish("s", "8", {5, 60});
  EXPECT_EQ(broker_.stream_publications(), 5u);
  EXPECT_EQ(offsets_of(read("s", recover(3, epoch, 100, {5, 60}))), (std::vector<std::uint64_t>{4, 5, 6, 7, 8}));
}

TEST_F(MemoryBrokerStreams, CountsEveryWorkersStreamsAndGoesBackToZero) {
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  const std::string big(1'000, 'x');
  publish("a", big, kKeep10, 0);
  publish("b", big, kKeep10, 1);
  publish("b", big, kKeep10, 1);
  EXPECT_EQ(broker_.stream_publications(), 3u);
  EXPECT_GE(broker_.stream_bytes(), 3 * big.size());
  EXPECT_EQ(broker_.channel_count(0), 1u);
  EXPECT_EQ(broker_.channel_count(1), 1u);
  // Only worker 0's go on its timer.
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.stream_publications(), 2u);
  EXPECT_GE(broker_.stream_bytes(), 2 * big.size());
  broker_.expire_streams(1, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.stream_publications(), 0u);
  EXPECT_EQ(broker_.stream_bytes(), 0u);
  EXPECT_EQ(broker_.channel_count(0), 0u);
  EXPECT_EQ(broker_.channel_count(1), 0u);
}

TEST_F(MemoryBrokerStreams, CountsFollowTrimmingWhileTheStreamLives) {
  broker_.subscribe(0, "s", [] {});
  const std::string big(1'000, 'x');
  for (int i = 0; i < 25; ++i) publish("s", big);
  EXPECT_EQ(broker_.stream_publications(), 10u);  // its size
  const std::uint64_t full = broker_.stream_bytes();
  EXPECT_GE(full, 10 * big.size());
  EXPECT_LT(full, 11 * big.size() + 4096);
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));  // its entries expire, the stream stays
  EXPECT_EQ(broker_.stream_publications(), 0u);
  EXPECT_EQ(broker_.stream_bytes(), sizeof(ChannelHistory));
  broker_.unsubscribe(0, "s");
  broker_.expire_streams(0, after_ttl(kKeep10.ttl_s));
  EXPECT_EQ(broker_.stream_bytes(), 0u);
}

// The node's cap for streams: the channel that publishes gives up its own
// oldest publications (never its newest), an idle channel keeps its past,
// a recovery from a dropped place fails whole, and the trimmed ones are
// counted.
TEST(MemoryBrokerStreamCap, ThePublishingChannelDropsItsOwnOldestToStayWithinTheCap) {
  constexpr HistoryLimits kKeep1000 = {1000, 600};
  const std::string data(1000, 'x');  // on the heap: dropping one frees it
  RecordingSink sink;
  MemoryBroker unlimited(1);
  unlimited.set_sink(sink);
  // What one idle channel of 20 publications costs, to size the cap by.
  for (int n = 0; n < 20; ++n) unlimited.publish(0, Publication{"idle", 0, data, 0, kKeep1000}, [](PublishResult) {});
  const std::uint64_t idle_bytes = unlimited.stream_bytes();

  MemoryBroker broker(2, idle_bytes + 40 * 1100);
  broker.set_sink(sink);
  std::string idle_epoch;
  for (int n = 0; n < 20; ++n) {
    broker.publish(1, Publication{"idle", 0, data, 0, kKeep1000}, [&](PublishResult r) { idle_epoch = r.epoch; });
  }
  std::string busy_epoch;
  for (int n = 0; n < 500; ++n) {
    broker.publish(0, Publication{"busy", 0, data, 0, kKeep1000}, [&](PublishResult r) { busy_epoch = r.epoch; });
    EXPECT_LE(broker.stream_bytes(), idle_bytes + 40 * 1100 + 2 * 1100) << n;
  }
  EXPECT_GT(broker.stream_trimmed(), 400u);
  EXPECT_EQ(broker.stream_publications(), 520u - broker.stream_trimmed());

  const auto read = [&](unsigned owner, std::string_view channel, std::uint64_t since, const std::string& epoch) {
    StreamAnswer answer;
    StreamQuery query{.history = kKeep1000, .mode = StreamQuery::Mode::kRecover, .has_since = true};
    query.since = {since, epoch};
    query.limit = 1000;
    broker.read_stream(owner, channel, query, [&](StreamAnswer a) { answer = std::move(a); });
    return answer;
  };
  // The idle channel lost nothing.
  const StreamAnswer idle = read(1, "idle", 0, idle_epoch);
  EXPECT_TRUE(idle.complete);
  EXPECT_EQ(idle.publications.size(), 20u);
  // The busy one keeps its newest; from its start it is not recoverable.
  EXPECT_FALSE(read(0, "busy", 0, busy_epoch).complete);
  const StreamAnswer newest = read(0, "busy", 499, busy_epoch);
  EXPECT_TRUE(newest.complete);
  ASSERT_EQ(newest.publications.size(), 1u);
  EXPECT_EQ(newest.publications[0].offset, 500u);
}

TEST(MemoryBrokerStreamCap, ShortPublicationsGiveBackTheirSlots) {
  // Data short enough to live inside a slot: only shrinking the ring frees
  // memory, and the cap still holds.
  constexpr HistoryLimits kKeep10000 = {10000, 600};
  RecordingSink sink;
  MemoryBroker broker(1, 16 * 1024);
  broker.set_sink(sink);
  for (int n = 0; n < 5000; ++n) broker.publish(0, Publication{"tick", 0, "1", 0, kKeep10000}, [](PublishResult) {});
  EXPECT_LE(broker.stream_bytes(), 2 * 16 * 1024u);
  EXPECT_GT(broker.stream_trimmed(), 0u);
  EXPECT_EQ(broker.stream_publications() + broker.stream_trimmed(), 5000u);
}

}  // namespace
}  // namespace switchboard::broker
