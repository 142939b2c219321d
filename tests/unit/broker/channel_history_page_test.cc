// ChannelHistory's pages (the `history` command) in both directions, from
// every kind of place (none, inside, the top, beyond it, trimmed), and its
// bounds changing under it (set_limits: a configuration reload). The clock
// is the test's: no sleeps.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/channel_history.h"

namespace switchboard::broker {
namespace {

using Direction = ChannelHistory::Direction;
using Offsets = std::vector<std::uint64_t>;

constexpr std::int64_t kStart = 1'000'000;  // an arbitrary monotonic time, ms
constexpr std::size_t kAll = 1'000'000;

std::string data_for(std::uint64_t n) { return "{\"n\":" + std::to_string(n) + "}"; }

// Publications 1..count at kStart, into a history of size (TTL 60 s).
ChannelHistory filled(std::uint64_t count, std::size_t size = 5) {
  ChannelHistory history({size, 60});
  for (std::uint64_t n = 1; n <= count; ++n) history.append(data_for(n), kStart);
  return history;
}

// The page's offsets (each entry's data checked against its offset), or
// nullopt when the place could not be read from.
std::optional<Offsets> page(ChannelHistory& history, std::optional<std::uint64_t> from, std::size_t limit,
                            Direction direction, std::int64_t now_ms = kStart) {
  std::optional<std::vector<HistoryEntry>> entries = history.page(from, limit, direction, now_ms);
  if (!entries) return std::nullopt;
  Offsets offsets;
  for (const HistoryEntry& entry : *entries) {
    EXPECT_EQ(entry.data_json, data_for(entry.offset));
    offsets.push_back(entry.offset);
  }
  return offsets;
}

// Every kept offset, oldest first.
Offsets kept(ChannelHistory& history, std::int64_t now_ms = kStart) {
  return page(history, std::nullopt, kAll, Direction::kOldestFirst, now_ms).value_or(Offsets{999});
}

TEST(ChannelHistoryPage, OldestFirstWithoutAPlaceStartsAtTheOldestKept) {
  ChannelHistory history = filled(12);  // keeps 8..12
  EXPECT_EQ(page(history, std::nullopt, kAll, Direction::kOldestFirst), (Offsets{8, 9, 10, 11, 12}));
  EXPECT_EQ(page(history, std::nullopt, 2, Direction::kOldestFirst), (Offsets{8, 9}));
  EXPECT_EQ(page(history, std::nullopt, 5, Direction::kOldestFirst), (Offsets{8, 9, 10, 11, 12}));
  EXPECT_EQ(page(history, std::nullopt, 0, Direction::kOldestFirst), Offsets{});
}

TEST(ChannelHistoryPage, NewestFirstWithoutAPlaceStartsAtTheNewest) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(page(history, std::nullopt, kAll, Direction::kNewestFirst), (Offsets{12, 11, 10, 9, 8}));
  EXPECT_EQ(page(history, std::nullopt, 2, Direction::kNewestFirst), (Offsets{12, 11}));
  EXPECT_EQ(page(history, std::nullopt, 0, Direction::kNewestFirst), Offsets{});
}

TEST(ChannelHistoryPage, OldestFirstFromAPlaceGivesWhatFollowsIt) {
  ChannelHistory history = filled(12);  // keeps 8..12
  EXPECT_EQ(page(history, 9, kAll, Direction::kOldestFirst), (Offsets{10, 11, 12}));
  EXPECT_EQ(page(history, 9, 2, Direction::kOldestFirst), (Offsets{10, 11}));
  EXPECT_EQ(page(history, 9, 0, Direction::kOldestFirst), Offsets{});
  // Just before the oldest kept: everything, nothing is missing.
  EXPECT_EQ(page(history, 7, kAll, Direction::kOldestFirst), (Offsets{8, 9, 10, 11, 12}));
  // The top: nothing follows yet.
  EXPECT_EQ(page(history, 12, kAll, Direction::kOldestFirst), Offsets{});
}

TEST(ChannelHistoryPage, OldestFirstFromATrimmedOrFuturePlaceCannotBeRead) {
  ChannelHistory history = filled(12);  // 7 and before are gone
  EXPECT_EQ(page(history, 6, kAll, Direction::kOldestFirst), std::nullopt);
  EXPECT_EQ(page(history, 0, kAll, Direction::kOldestFirst), std::nullopt);
  EXPECT_EQ(page(history, 6, 0, Direction::kOldestFirst), std::nullopt);  // even for nothing
  EXPECT_EQ(page(history, 13, kAll, Direction::kOldestFirst), std::nullopt);
  EXPECT_EQ(page(history, UINT64_MAX, kAll, Direction::kOldestFirst), std::nullopt);
}

TEST(ChannelHistoryPage, NewestFirstFromAPlaceGivesWhatPrecedesIt) {
  ChannelHistory history = filled(12);  // keeps 8..12
  EXPECT_EQ(page(history, 11, kAll, Direction::kNewestFirst), (Offsets{10, 9, 8}));
  EXPECT_EQ(page(history, 11, 2, Direction::kNewestFirst), (Offsets{10, 9}));
  EXPECT_EQ(page(history, 12, kAll, Direction::kNewestFirst), (Offsets{11, 10, 9, 8}));
  // Before the next offset to be given: from the newest.
  EXPECT_EQ(page(history, 13, kAll, Direction::kNewestFirst), (Offsets{12, 11, 10, 9, 8}));
  // Before the oldest kept: the end of the pages.
  EXPECT_EQ(page(history, 8, kAll, Direction::kNewestFirst), Offsets{});
}

TEST(ChannelHistoryPage, NewestFirstBeyondTheNextOffsetCannotBeRead) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(page(history, 14, kAll, Direction::kNewestFirst), std::nullopt);
  EXPECT_EQ(page(history, UINT64_MAX, kAll, Direction::kNewestFirst), std::nullopt);
}

// As documented (channel_history.h), a trimmed place is no error going
// backwards: nothing before it is kept, so the page is empty.
TEST(ChannelHistoryPage, NewestFirstFromATrimmedPlaceIsEmpty) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(page(history, 3, kAll, Direction::kNewestFirst), Offsets{});
  EXPECT_EQ(page(history, 0, kAll, Direction::kNewestFirst), Offsets{});
}

TEST(ChannelHistoryPage, AnEmptyHistoryGivesEmptyPagesFromItsTop) {
  ChannelHistory fresh({5, 60});
  EXPECT_EQ(page(fresh, std::nullopt, kAll, Direction::kOldestFirst), Offsets{});
  EXPECT_EQ(page(fresh, std::nullopt, kAll, Direction::kNewestFirst), Offsets{});
  EXPECT_EQ(page(fresh, 0, kAll, Direction::kOldestFirst), Offsets{});
  EXPECT_EQ(page(fresh, 1, kAll, Direction::kNewestFirst), Offsets{});
  EXPECT_EQ(page(fresh, 1, kAll, Direction::kOldestFirst), std::nullopt);
  ChannelHistory continued({5, 60}, 40);
  EXPECT_EQ(page(continued, 40, kAll, Direction::kOldestFirst), Offsets{});
  EXPECT_EQ(page(continued, 39, kAll, Direction::kOldestFirst), std::nullopt);
  EXPECT_EQ(page(continued, 41, kAll, Direction::kNewestFirst), Offsets{});
}

TEST(ChannelHistoryPage, ALimitLargerThanWhatIsKeptGivesWhatIsKept) {
  ChannelHistory history = filled(3);
  EXPECT_EQ(page(history, std::nullopt, 4, Direction::kOldestFirst), (Offsets{1, 2, 3}));
  EXPECT_EQ(page(history, 0, SIZE_MAX, Direction::kOldestFirst), (Offsets{1, 2, 3}));
  EXPECT_EQ(page(history, std::nullopt, SIZE_MAX, Direction::kNewestFirst), (Offsets{3, 2, 1}));
}

TEST(ChannelHistoryPage, ExpiresBeforeItReads) {
  ChannelHistory history({100, 10});
  history.append(data_for(1), kStart);
  history.append(data_for(2), kStart + 4'000);
  history.append(data_for(3), kStart + 8'000);
  // At 10 s the first is gone: a page from 0 would miss it.
  EXPECT_EQ(page(history, std::nullopt, kAll, Direction::kOldestFirst, kStart + 10'000), (Offsets{2, 3}));
  EXPECT_EQ(history.size(), 2u);
  EXPECT_EQ(page(history, 0, kAll, Direction::kOldestFirst, kStart + 10'000), std::nullopt);
  EXPECT_EQ(page(history, 1, kAll, Direction::kOldestFirst, kStart + 10'000), (Offsets{2, 3}));
  EXPECT_EQ(page(history, 3, kAll, Direction::kNewestFirst, kStart + 10'000), (Offsets{2}));
  // All gone: empty pages from the top, which stays.
  EXPECT_EQ(page(history, std::nullopt, kAll, Direction::kNewestFirst, kStart + 18'000), Offsets{});
  EXPECT_EQ(page(history, 3, kAll, Direction::kOldestFirst, kStart + 18'000), Offsets{});
  EXPECT_EQ(page(history, 2, kAll, Direction::kOldestFirst, kStart + 18'000), std::nullopt);
  EXPECT_EQ(page(history, 4, kAll, Direction::kNewestFirst, kStart + 18'000), Offsets{});
  EXPECT_EQ(history.memory_bytes(), sizeof(ChannelHistory));
}

TEST(ChannelHistoryPage, ReadsInOrderAcrossTheRingsWrap) {
  ChannelHistory history({7, 60});
  for (std::uint64_t n = 1; n <= 100; ++n) {
    history.append(data_for(n), kStart);
    const std::uint64_t oldest = n > 7 ? n - 6 : 1;
    Offsets oldest_first;
    for (std::uint64_t k = oldest; k <= n; ++k) oldest_first.push_back(k);
    ASSERT_EQ(kept(history), oldest_first) << n;
    const Offsets newest_first(oldest_first.rbegin(), oldest_first.rend());
    ASSERT_EQ(page(history, std::nullopt, kAll, Direction::kNewestFirst), newest_first) << n;
  }
}

TEST(ChannelHistoryLimits, ShrinkingKeepsTheNewestInOrder) {
  ChannelHistory history = filled(12, 10);  // keeps 3..12
  history.set_limits({4, 60});
  EXPECT_EQ(history.limits(), (HistoryLimits{4, 60}));
  EXPECT_EQ(history.size(), 4u);
  EXPECT_EQ(history.top_offset(), 12u);
  EXPECT_EQ(kept(history), (Offsets{9, 10, 11, 12}));
  EXPECT_EQ(page(history, std::nullopt, kAll, Direction::kNewestFirst), (Offsets{12, 11, 10, 9}));
  // Appending goes on from the top, within the new size.
  EXPECT_EQ(history.append(data_for(13), kStart), 13u);
  EXPECT_EQ(history.append(data_for(14), kStart), 14u);
  EXPECT_EQ(history.size(), 4u);
  EXPECT_EQ(kept(history), (Offsets{11, 12, 13, 14}));
  for (std::uint64_t n = 15; n <= 40; ++n) history.append(data_for(n), kStart);
  EXPECT_EQ(kept(history), (Offsets{37, 38, 39, 40}));
}

TEST(ChannelHistoryLimits, ShrinkingAWrappedRingKeepsTheNewestInOrder) {
  ChannelHistory history = filled(13, 5);  // the ring wrapped: keeps 9..13
  history.set_limits({3, 60});
  EXPECT_EQ(kept(history), (Offsets{11, 12, 13}));
  history.append(data_for(14), kStart);
  EXPECT_EQ(kept(history), (Offsets{12, 13, 14}));
  // To exactly what is kept: nothing goes.
  history.set_limits({3, 30});
  EXPECT_EQ(kept(history), (Offsets{12, 13, 14}));
}

TEST(ChannelHistoryLimits, GrowingKeepsEverythingAndThenKeepsMore) {
  ChannelHistory history = filled(12, 5);  // full and wrapped: keeps 8..12
  const std::size_t before = history.memory_bytes();
  history.set_limits({8, 60});
  EXPECT_EQ(history.memory_bytes(), before);  // no slot is made before it is needed
  EXPECT_EQ(kept(history), (Offsets{8, 9, 10, 11, 12}));
  for (std::uint64_t n = 13; n <= 15; ++n) EXPECT_EQ(history.append(data_for(n), kStart), n);
  EXPECT_EQ(kept(history), (Offsets{8, 9, 10, 11, 12, 13, 14, 15}));
  history.append(data_for(16), kStart);
  EXPECT_EQ(kept(history), (Offsets{9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(history.since(8, kAll, kStart).publications.size(), 8u);
}

TEST(ChannelHistoryLimits, ShrinkingFreesTheMemoryOfWhatGoes) {
  const std::string big(1'000, 'z');
  ChannelHistory history({16, 60});
  for (int i = 0; i < 16; ++i) history.append(big, kStart);
  const std::size_t full = history.memory_bytes();
  history.set_limits({4, 60});
  // Twelve entries' data and twelve slots go.
  EXPECT_LE(history.memory_bytes(), full - 12 * big.size());
  // Exactly what a history that only ever held those four holds.
  ChannelHistory four({4, 60});
  for (int i = 0; i < 4; ++i) four.append(big, kStart);
  EXPECT_EQ(history.memory_bytes(), four.memory_bytes());
  // And it stays so as the smaller ring wraps.
  for (int i = 0; i < 100; ++i) history.append(big, kStart);
  EXPECT_EQ(history.memory_bytes(), four.memory_bytes());
}

TEST(ChannelHistoryLimits, ShrinkingAnEmptyHistoryHoldsNothing) {
  ChannelHistory history({10, 60}, 7);
  history.set_limits({2, 60});
  EXPECT_EQ(history.memory_bytes(), sizeof(ChannelHistory));
  EXPECT_EQ(history.append("{}", kStart), 8u);
}

TEST(ChannelHistoryLimits, AShorterTtlAppliesAtTheNextAccess) {
  ChannelHistory history({10, 60});
  history.append(data_for(1), kStart);
  history.append(data_for(2), kStart + 20'000);
  history.set_limits({10, 30});
  EXPECT_EQ(history.size(), 2u);  // nothing yet
  EXPECT_EQ(kept(history, kStart + 30'000), (Offsets{2}));
  EXPECT_EQ(kept(history, kStart + 50'000), Offsets{});
  // A longer one keeps them longer.
  history.append(data_for(3), kStart + 50'000);
  history.set_limits({10, 100});
  EXPECT_EQ(kept(history, kStart + 149'999), (Offsets{3}));
  EXPECT_EQ(kept(history, kStart + 150'000), Offsets{});
}

}  // namespace
}  // namespace switchboard::broker
