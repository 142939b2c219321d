// ChannelHistory: contiguous numbering, trimming by count and by age (the
// clock is the test's: no sleeps), since() at every boundary (whole or not
// recoverable, never partial), memory accounting, and the epoch's format.
#include "broker/channel_history.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::broker {
namespace {

constexpr std::int64_t kStart = 1'000'000;  // an arbitrary monotonic time, ms
constexpr std::size_t kNoLimit = 1'000'000;

std::vector<std::uint64_t> offsets_of(const SinceResult& result) {
  std::vector<std::uint64_t> offsets;
  for (const HistoryEntry& entry : result.publications) offsets.push_back(entry.offset);
  return offsets;
}

std::string data_for(std::uint64_t n) { return "{\"n\":" + std::to_string(n) + "}"; }

// A history of size 5 (TTL 60 s) after publications 1..count at kStart.
ChannelHistory filled(std::uint64_t count, std::size_t size = 5) {
  ChannelHistory history({size, 60});
  for (std::uint64_t n = 1; n <= count; ++n) history.append(data_for(n), kStart);
  return history;
}

TEST(ChannelHistory, NumbersFromOneContiguously) {
  ChannelHistory history({5, 60});
  EXPECT_EQ(history.top_offset(), 0u);
  EXPECT_FALSE(history.latest(kStart).has_value());
  for (std::uint64_t n = 1; n <= 12; ++n) EXPECT_EQ(history.append(data_for(n), kStart), n);
  EXPECT_EQ(history.top_offset(), 12u);
}

TEST(ChannelHistory, ContinuesAfterTheTopItIsGiven) {
  ChannelHistory history({5, 60}, 41);
  EXPECT_EQ(history.top_offset(), 41u);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.append("{}", kStart), 42u);
}

TEST(ChannelHistory, KeepsOnlyTheNewestUpToItsSize) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(history.size(), 5u);
  const SinceResult result = history.since(7, kNoLimit, kStart);
  ASSERT_EQ(result.recovery, Recovery::kComplete);
  EXPECT_EQ(offsets_of(result), (std::vector<std::uint64_t>{8, 9, 10, 11, 12}));
  for (const HistoryEntry& entry : result.publications) {
    EXPECT_EQ(entry.data_json, data_for(entry.offset));
    EXPECT_EQ(entry.stored_ms, kStart);
  }
}

TEST(ChannelHistory, LatestIsTheNewest) {
  ChannelHistory history = filled(7);
  const auto latest = history.latest(kStart + 5);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->offset, 7u);
  EXPECT_EQ(latest->data_json, data_for(7));
  EXPECT_EQ(latest->stored_ms, kStart);
}

TEST(ChannelHistory, DropsEntriesOlderThanTheTtl) {
  ChannelHistory history({100, 10});    // 10 s
  history.append("a", kStart);          // 1
  history.append("b", kStart + 4'000);  // 2
  history.append("c", kStart + 8'000);  // 3
  // Kept while younger than 10 s, gone at exactly 10 s.
  EXPECT_EQ(history.since(0, kNoLimit, kStart + 9'999).recovery, Recovery::kComplete);
  const SinceResult after_first = history.since(0, kNoLimit, kStart + 10'000);
  EXPECT_EQ(after_first.recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.size(), 2u);
  EXPECT_EQ(offsets_of(history.since(1, kNoLimit, kStart + 10'000)), (std::vector<std::uint64_t>{2, 3}));
  // latest() expires too.
  EXPECT_EQ(history.latest(kStart + 14'000)->offset, 3u);
  EXPECT_EQ(history.size(), 1u);
  EXPECT_FALSE(history.latest(kStart + 18'000).has_value());
  EXPECT_EQ(history.size(), 0u);
  // The numbering goes on when everything expired.
  EXPECT_EQ(history.top_offset(), 3u);
  EXPECT_EQ(history.since(3, kNoLimit, kStart + 18'000).recovery, Recovery::kComplete);
  EXPECT_EQ(history.since(2, kNoLimit, kStart + 18'000).recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.append("d", kStart + 20'000), 4u);
}

TEST(ChannelHistory, ExpireDropsWithoutAnAccess) {
  ChannelHistory history({100, 1});
  history.append("a", kStart);
  history.append("b", kStart + 500);
  history.expire(kStart + 999);
  EXPECT_EQ(history.size(), 2u);
  history.expire(kStart + 1'000);
  EXPECT_EQ(history.size(), 1u);
  history.expire(kStart + 1'500);
  EXPECT_EQ(history.size(), 0u);
}

TEST(ChannelHistory, AClockSteppingBackDoesNotReorderExpiry) {
  ChannelHistory history({100, 10});
  history.append("a", kStart + 5'000);
  history.append("b", kStart);  // stored as kStart + 5000
  EXPECT_EQ(history.latest(kStart + 5'000)->stored_ms, kStart + 5'000);
  history.expire(kStart + 15'000);
  EXPECT_EQ(history.size(), 0u);
}

TEST(ChannelHistory, SinceTheTopIsCompleteAndEmpty) {
  ChannelHistory history = filled(12);
  const SinceResult result = history.since(12, kNoLimit, kStart);
  EXPECT_EQ(result.recovery, Recovery::kComplete);
  EXPECT_TRUE(result.publications.empty());
  EXPECT_EQ(result.top_offset, 12u);
}

TEST(ChannelHistory, SinceOneBeforeTheTopGivesTheNewest) {
  ChannelHistory history = filled(12);
  const SinceResult result = history.since(11, kNoLimit, kStart);
  ASSERT_EQ(result.recovery, Recovery::kComplete);
  EXPECT_EQ(offsets_of(result), (std::vector<std::uint64_t>{12}));
}

TEST(ChannelHistory, SinceOneBeforeTheOldestKeptIsComplete) {
  ChannelHistory history = filled(12);  // keeps 8..12
  const SinceResult result = history.since(7, kNoLimit, kStart);
  ASSERT_EQ(result.recovery, Recovery::kComplete);
  EXPECT_EQ(offsets_of(result), (std::vector<std::uint64_t>{8, 9, 10, 11, 12}));
}

TEST(ChannelHistory, SinceOlderThanTheOldestKeptIsNotRecoverable) {
  ChannelHistory history = filled(12);  // keeps 8..12; 7 is gone
  const SinceResult result = history.since(6, kNoLimit, kStart);
  EXPECT_EQ(result.recovery, Recovery::kNotRecoverable);
  EXPECT_TRUE(result.publications.empty());
  EXPECT_EQ(result.top_offset, 12u);
  EXPECT_EQ(history.since(0, kNoLimit, kStart).recovery, Recovery::kNotRecoverable);
}

TEST(ChannelHistory, SinceZeroIsCompleteWhileNothingWasTrimmed) {
  ChannelHistory history = filled(3);
  EXPECT_EQ(offsets_of(history.since(0, kNoLimit, kStart)), (std::vector<std::uint64_t>{1, 2, 3}));
  ChannelHistory empty({5, 60});
  EXPECT_EQ(empty.since(0, kNoLimit, kStart).recovery, Recovery::kComplete);
}

TEST(ChannelHistory, SinceTheFutureIsNotRecoverable) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(history.since(13, kNoLimit, kStart).recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.since(UINT64_MAX, kNoLimit, kStart).recovery, Recovery::kNotRecoverable);
}

TEST(ChannelHistory, MoreThanTheLimitIsNotRecoverable) {
  ChannelHistory history = filled(12);
  EXPECT_EQ(history.since(9, 3, kStart).recovery, Recovery::kComplete);  // exactly the limit
  EXPECT_EQ(history.since(8, 3, kStart).recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.since(12, 0, kStart).recovery, Recovery::kComplete);
  EXPECT_EQ(history.since(11, 0, kStart).recovery, Recovery::kNotRecoverable);
}

TEST(ChannelHistory, WrapsManyTimesInOrder) {
  ChannelHistory history({7, 60});
  for (std::uint64_t n = 1; n <= 1'000; ++n) {
    history.append(data_for(n), kStart);
    const SinceResult result = history.since(n > 7 ? n - 7 : 0, kNoLimit, kStart);
    ASSERT_EQ(result.recovery, Recovery::kComplete) << n;
    ASSERT_EQ(result.publications.back().offset, n);
    ASSERT_EQ(result.publications.front().data_json, data_for(result.publications.front().offset));
  }
}

TEST(ChannelHistory, MemoryGrowsWithEntriesAndShrinksWhenTheyGo) {
  ChannelHistory history({1'000, 10});
  const std::size_t empty = history.memory_bytes();
  EXPECT_EQ(empty, sizeof(ChannelHistory));
  const std::string big(1'000, 'x');
  history.append(big, kStart);
  const std::size_t one = history.memory_bytes();
  EXPECT_GE(one, empty + big.size());
  for (int i = 0; i < 99; ++i) history.append(big, kStart + 5'000);
  const std::size_t hundred = history.memory_bytes();
  EXPECT_GE(hundred, empty + 100 * big.size());
  EXPECT_LT(hundred, empty + 100 * (big.size() + 200));  // slots grow geometrically, not to 1000
  history.expire(kStart + 10'000);                       // the first goes
  EXPECT_LT(history.memory_bytes(), hundred);
  EXPECT_GE(history.memory_bytes(), hundred - big.size() - 1);
  history.expire(kStart + 15'000);  // all go
  EXPECT_EQ(history.memory_bytes(), empty);
}

TEST(ChannelHistory, MemoryStaysBoundedWhenTheRingWraps) {
  ChannelHistory history({10, 60});
  const std::string big(500, 'y');
  for (int i = 0; i < 10; ++i) history.append(big, kStart);
  const std::size_t full = history.memory_bytes();
  for (int i = 0; i < 1'000; ++i) history.append(big, kStart);
  EXPECT_EQ(history.memory_bytes(), full);
}

TEST(ChannelHistory, ResetForgetsEntriesAndContinuesNumbering) {
  ChannelHistory history = filled(12);
  history.reset(100);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.top_offset(), 100u);
  EXPECT_EQ(history.memory_bytes(), sizeof(ChannelHistory));
  EXPECT_FALSE(history.latest(kStart).has_value());
  EXPECT_EQ(history.since(100, kNoLimit, kStart).recovery, Recovery::kComplete);
  EXPECT_EQ(history.since(99, kNoLimit, kStart).recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.since(12, kNoLimit, kStart).recovery, Recovery::kNotRecoverable);
  EXPECT_EQ(history.append("{}", kStart), 101u);
  EXPECT_EQ(offsets_of(history.since(100, kNoLimit, kStart)), (std::vector<std::uint64_t>{101}));
}

TEST(MakeEpoch, IsEightUrlSafeCharacters) {
  for (int i = 0; i < 100; ++i) {
    const std::string epoch = make_epoch();
    ASSERT_EQ(epoch.size(), 8u);
    for (char c : epoch) {
      const bool url_safe =
          (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      ASSERT_TRUE(url_safe) << epoch;
    }
  }
}

TEST(MakeEpoch, FromTheCallersBitsUsesTheLow48) {
  EXPECT_EQ(make_epoch(0), "AAAAAAAA");
  EXPECT_EQ(make_epoch(0xffff'ffff'ffffull), "________");
  EXPECT_EQ(make_epoch(0xffff'0000'0000'0000ull), "AAAAAAAA");  // the bits above 48 are not used
  EXPECT_EQ(make_epoch(1), "BAAAAAAA");                         // six bits per character, lowest first
  EXPECT_NE(make_epoch(1), make_epoch(2));
}

TEST(MakeEpoch, DiffersEveryTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(make_epoch());
  EXPECT_EQ(seen.size(), 10'000u);
}

}  // namespace
}  // namespace switchboard::broker
