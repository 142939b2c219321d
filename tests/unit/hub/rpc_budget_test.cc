#include "hub/rpc_budget.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::hub {
namespace {

using Verdict = RpcBudget::Verdict;

TEST(RpcBudget, RefusesTheCallOverTheCountAndTakesOneAgainOnceAnswered) {
  RpcBudget budget(3, 1000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(budget.try_take(10), Verdict::kTaken);
  EXPECT_EQ(budget.try_take(10), Verdict::kTooManyRpcs);
  EXPECT_EQ(budget.rpcs(), 3u);
  EXPECT_EQ(budget.bytes(), 30u);
  budget.give_back(10);
  EXPECT_EQ(budget.try_take(10), Verdict::kTaken);
}

TEST(RpcBudget, RefusesTheCallWhoseBytesWouldGoOverAndKeepsNothingOfIt) {
  RpcBudget budget(100, 1000);
  EXPECT_EQ(budget.try_take(600), Verdict::kTaken);
  EXPECT_EQ(budget.try_take(400), Verdict::kTaken);  // exactly the cap
  EXPECT_EQ(budget.try_take(1), Verdict::kTooManyBytes);
  EXPECT_EQ(budget.rpcs(), 2u);
  EXPECT_EQ(budget.bytes(), 1000u);
  budget.give_back(600);
  EXPECT_EQ(budget.try_take(500), Verdict::kTaken);
}

TEST(RpcBudget, OneCallLargerThanTheCapPassesWhenNothingElseHoldsBytes) {
  RpcBudget budget(100, 1000);
  EXPECT_EQ(budget.try_take(5000), Verdict::kTaken);
  EXPECT_EQ(budget.try_take(1), Verdict::kTooManyBytes);
  budget.give_back(5000);
  EXPECT_EQ(budget.try_take(1), Verdict::kTaken);
}

TEST(RpcBudget, ResetForgetsEverything) {
  RpcBudget budget(1, 10);
  EXPECT_EQ(budget.try_take(5), Verdict::kTaken);
  budget.reset();
  EXPECT_EQ(budget.rpcs(), 0u);
  EXPECT_EQ(budget.bytes(), 0u);
  EXPECT_EQ(budget.try_take(5), Verdict::kTaken);
}

// Workers take and give back at once: never more than the cap is taken, and
// everything returns to zero.
TEST(RpcBudget, ThreadsNeverTakeMoreThanTheCap) {
  constexpr std::uint64_t kCap = 8;
  RpcBudget budget(kCap, 1u << 30);
  std::atomic<std::uint64_t> holding{0};
  std::atomic<std::uint64_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.try_take(7) != Verdict::kTaken) continue;
        const std::uint64_t now = holding.fetch_add(1) + 1;
        for (std::uint64_t seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        holding.fetch_sub(1);
        budget.give_back(7);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most.load(), kCap);
  EXPECT_EQ(budget.rpcs(), 0u);
  EXPECT_EQ(budget.bytes(), 0u);
}

}  // namespace
}  // namespace switchboard::hub
