// A subscription's place in its stream: what it recovers from, what a
// reply means for the application, and which messages are duplicates.
#include "client/stream_tracker.h"

#include <gtest/gtest.h>

namespace switchboard::client {
namespace {

SubscribeReply stream_reply(std::string epoch, std::uint64_t offset) {
  SubscribeReply reply;
  reply.recoverable = true;
  reply.epoch = std::move(epoch);
  reply.offset = offset;
  return reply;
}

std::vector<std::uint64_t> offsets(const std::vector<Publication>& publications) {
  std::vector<std::uint64_t> out;
  for (const Publication& publication : publications) out.push_back(publication.offset);
  return out;
}

TEST(StreamTracker, NoPositionUntilAReplySaysRecoverable) {
  StreamTracker tracker;
  EXPECT_FALSE(tracker.recover_from().has_value());
  const StreamTracker::Outcome outcome = tracker.on_subscribed(SubscribeReply{}, false);
  EXPECT_FALSE(outcome.info.recoverable);
  EXPECT_FALSE(outcome.info.was_recovering);
  EXPECT_FALSE(tracker.recover_from().has_value());
  // Without a stream every message is delivered, offsets or not.
  EXPECT_EQ(tracker.on_message(0), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(5), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(5), Delivery::kDeliver);
}

TEST(StreamTracker, ThePositionFollowsTheReplyThenEveryMessage) {
  StreamTracker tracker;
  const StreamTracker::Outcome outcome = tracker.on_subscribed(stream_reply("E", 4), false);
  EXPECT_TRUE(outcome.info.recoverable);
  EXPECT_FALSE(outcome.info.was_recovering);
  EXPECT_FALSE(outcome.info.recovered);
  EXPECT_EQ(outcome.info.epoch, "E");
  EXPECT_EQ(outcome.info.offset, 4u);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 4}));
  EXPECT_EQ(tracker.on_message(5), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(6), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 6}));
  // A gap (a slow consumer's drop policy) moves the position on.
  EXPECT_EQ(tracker.on_message(9), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 9}));
}

TEST(StreamTracker, DuplicatesAtOrBelowThePositionAreDropped) {
  StreamTracker tracker;
  tracker.on_subscribed(stream_reply("E", 4), false);
  EXPECT_EQ(tracker.on_message(4), Delivery::kDuplicate);
  EXPECT_EQ(tracker.on_message(2), Delivery::kDuplicate);
  EXPECT_EQ(tracker.on_message(5), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(5), Delivery::kDuplicate);
}

TEST(StreamTracker, ARecoveryDeliversWhatFollowsThePositionInOrderOnce) {
  StreamTracker tracker(StreamPosition{"E", 3});
  SubscribeReply reply = stream_reply("E", 7);
  reply.recovered = true;
  // The server sends 4..7; a repeat, one at or below the position, and one
  // past the reply's offset would all be the server's mistakes: dropped.
  for (std::uint64_t offset : {2, 4, 5, 5, 6, 7, 8}) reply.publications.push_back({offset, std::to_string(offset)});
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), true);
  EXPECT_TRUE(outcome.info.was_recovering);
  EXPECT_TRUE(outcome.info.recovered);
  EXPECT_EQ(outcome.info.recovered_count, 4u);
  EXPECT_EQ(offsets(outcome.deliver), (std::vector<std::uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(outcome.deliver[0].data_json, "4");
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 7}));
  EXPECT_EQ(tracker.on_message(7), Delivery::kDuplicate);
  EXPECT_EQ(tracker.on_message(8), Delivery::kDeliver);
}

TEST(StreamTracker, AFailedRecoveryTakesTheRepliesPosition) {
  StreamTracker tracker(StreamPosition{"old", 50});
  SubscribeReply reply = stream_reply("new", 2);
  reply.recovered = false;
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), true);
  EXPECT_TRUE(outcome.info.was_recovering);
  EXPECT_FALSE(outcome.info.recovered);
  EXPECT_TRUE(outcome.deliver.empty());
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"new", 2}));
  // Offsets of the new epoch are below the old position: delivered.
  EXPECT_EQ(tracker.on_message(3), Delivery::kDeliver);
}

TEST(StreamTracker, ARecoveryUnderAnotherEpochIsNoRecovery) {
  StreamTracker tracker(StreamPosition{"old", 5});
  SubscribeReply reply = stream_reply("new", 6);
  reply.recovered = true;
  reply.publications.push_back({6, "6"});
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), true);
  EXPECT_FALSE(outcome.info.recovered);
  EXPECT_TRUE(outcome.deliver.empty());
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"new", 6}));
}

TEST(StreamTracker, AChannelThatLostItsStreamForgetsThePosition) {
  StreamTracker tracker(StreamPosition{"E", 5});
  SubscribeReply reply;
  reply.recovered = false;
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), true);
  EXPECT_FALSE(outcome.info.recoverable);
  EXPECT_TRUE(outcome.info.was_recovering);
  EXPECT_FALSE(outcome.info.recovered);
  EXPECT_FALSE(tracker.recover_from().has_value());
}

// An unnumbered publication (offset 0: the server's broker was
// unreachable) on a stream: delivered every time, the position unmoved.
TEST(StreamTracker, OffsetZeroIsDeliveredAndLeavesThePosition) {
  StreamTracker tracker;
  tracker.on_subscribed(stream_reply("E", 4), false);
  EXPECT_EQ(tracker.on_message(0), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(0), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 4}));
  EXPECT_EQ(tracker.on_message(5), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(0), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 5}));
  EXPECT_EQ(tracker.on_message(5), Delivery::kDuplicate);
}

TEST(StreamTracker, AResetTakesItsPositionAndLaterOffsetsFollowIt) {
  StreamTracker tracker;
  tracker.on_subscribed(stream_reply("old", 40), false);
  EXPECT_EQ(tracker.on_message(41), Delivery::kDeliver);
  const SubscribedInfo info = tracker.on_reset("new", 2);
  EXPECT_TRUE(info.reset);
  EXPECT_TRUE(info.recoverable);
  EXPECT_FALSE(info.was_recovering);
  EXPECT_FALSE(info.recovered);
  EXPECT_EQ(info.epoch, "new");
  EXPECT_EQ(info.offset, 2u);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"new", 2}));
  // The new epoch's offsets are far below the old position: not duplicates.
  EXPECT_EQ(tracker.on_message(2), Delivery::kDuplicate);
  EXPECT_EQ(tracker.on_message(3), Delivery::kDeliver);
  EXPECT_EQ(tracker.on_message(4), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"new", 4}));
}

// The same epoch, further on (the node missed publications it could not
// recover): what the reset skips over is not waited for, nor redelivered.
TEST(StreamTracker, AResetInTheSameEpochMovesThePositionOn) {
  StreamTracker tracker;
  tracker.on_subscribed(stream_reply("E", 3), false);
  tracker.on_reset("E", 9);
  EXPECT_EQ(tracker.on_message(8), Delivery::kDuplicate);
  EXPECT_EQ(tracker.on_message(10), Delivery::kDeliver);
  EXPECT_EQ(tracker.recover_from(), (StreamPosition{"E", 10}));
  // A subscribe reply after it (a reconnect) recovers from the reset's line.
  SubscribeReply reply = stream_reply("E", 11);
  reply.recovered = true;
  reply.publications.push_back({11, "11"});
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), true);
  EXPECT_TRUE(outcome.info.recovered);
  EXPECT_FALSE(outcome.info.reset);
  EXPECT_EQ(offsets(outcome.deliver), (std::vector<std::uint64_t>{11}));
}

TEST(StreamTracker, TheLatestIsPassedOn) {
  StreamTracker tracker;
  SubscribeReply reply = stream_reply("E", 3);
  reply.latest = Publication{3, "\"x\""};
  const StreamTracker::Outcome outcome = tracker.on_subscribed(std::move(reply), false);
  ASSERT_TRUE(outcome.info.latest.has_value());
  EXPECT_EQ(outcome.info.latest->offset, 3u);
  EXPECT_TRUE(outcome.deliver.empty());  // the latest is not a message
}

}  // namespace
}  // namespace switchboard::client
