#include "hub/held_frames.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::hub {
namespace {

// A frame whose payload is its name padded to `size` bytes (header apart).
SharedMessage frame(const std::string& name, std::size_t size = 100) {
  std::string payload = name;
  payload.resize(size, '.');
  return SharedMessage::make(payload, Opcode::kText);
}

std::string name_of(const SharedMessage& message) {
  std::string_view bytes = message.frame();
  bytes.remove_prefix(bytes.size() > 125 + 2 ? 4 : 2);  // the frame header
  return std::string(bytes.substr(0, bytes.find('.')));
}

std::vector<std::string> held(const HeldFrames& frames) {
  std::vector<std::string> names;
  frames.for_each([&](const SharedMessage& message) { names.push_back(name_of(message)); });
  return names;
}

constexpr std::size_t kNoCap = std::size_t{1} << 40;

TEST(HeldFramesTest, HoldsPerChannelInOrderAndPushesOutTheChannelsOldest) {
  HeldBytesBudget node(kNoCap);
  HeldFrames frames(node, kNoCap);
  EXPECT_FALSE(frames.holds("a"));
  for (const char* name : {"a1", "a2", "a3"}) EXPECT_EQ(frames.hold("a", frame(name), 2).pushed_out, name[1] == '3');
  frames.hold("b", frame("b1"), 2);
  EXPECT_TRUE(frames.holds("a"));
  EXPECT_TRUE(frames.holds("b"));
  EXPECT_EQ(held(frames), (std::vector<std::string>{"a2", "a3", "b1"}));
  EXPECT_EQ(frames.bytes(), 3 * HeldFrames::cost(frame("x")));
  EXPECT_EQ(node.held(), frames.bytes());
}

TEST(HeldFramesTest, KeepLatestHoldsOnePerChannel) {
  HeldBytesBudget node(kNoCap);
  HeldFrames frames(node, kNoCap);
  for (const char* name : {"a1", "b1", "a2", "a3"}) frames.hold(std::string(1, name[0]), frame(name), 1);
  EXPECT_EQ(held(frames), (std::vector<std::string>{"a3", "b1"}));
}

TEST(HeldFramesTest, TheConnectionCapPushesOutItsOldestFramesAcrossChannels) {
  HeldBytesBudget node(kNoCap);
  const std::size_t cost = HeldFrames::cost(frame("x"));
  HeldFrames frames(node, 3 * cost);
  frames.hold("a", frame("a1"), 100);
  frames.hold("b", frame("b1"), 100);
  frames.hold("a", frame("a2"), 100);
  HeldFrames::HoldResult result = frames.hold("b", frame("b2"), 100);
  EXPECT_EQ(result.outcome, HeldFrames::Outcome::kHeld);
  EXPECT_EQ(result.pushed_out, 1u);
  EXPECT_TRUE(result.connection_cap_hit);
  EXPECT_FALSE(result.node_cap_hit);
  EXPECT_EQ(held(frames), (std::vector<std::string>{"a2", "b1", "b2"}));  // a1 was the oldest
  // A large frame pushes out as many as it needs.
  result = frames.hold("c", frame("c1", 2 * cost), 100);
  EXPECT_EQ(result.pushed_out, 3u);
  EXPECT_EQ(held(frames), (std::vector<std::string>{"c1"}));
  EXPECT_FALSE(frames.holds("a"));  // emptied: a's next frame may go out directly
  EXPECT_LE(frames.bytes(), 3 * cost);
  EXPECT_EQ(node.held(), frames.bytes());
}

TEST(HeldFramesTest, KeepLatestOnManyChannelsStaysWithinTheConnectionCap) {
  HeldBytesBudget node(kNoCap);
  const std::size_t cost = HeldFrames::cost(frame("x"));
  HeldFrames frames(node, 10 * cost);
  for (int channel = 0; channel < 50; ++channel) {
    frames.hold("c" + std::to_string(channel), frame("f" + std::to_string(channel)), 1);
  }
  EXPECT_EQ(frames.bytes(), 10 * cost);
  EXPECT_EQ(held(frames).front(), "f40");  // the ten newest channels
}

TEST(HeldFramesTest, AFrameLargerThanTheConnectionCapIsNotHeld) {
  HeldBytesBudget node(kNoCap);
  HeldFrames frames(node, 1000);
  frames.hold("a", frame("a1"), 100);
  const HeldFrames::HoldResult result = frames.hold("a", frame("big", 2000), 100);
  EXPECT_EQ(result.outcome, HeldFrames::Outcome::kLargerThanConnectionCap);
  EXPECT_EQ(held(frames), (std::vector<std::string>{"a1"}));  // what it held is left to the caller
}

TEST(HeldFramesTest, TheNodeCapPushesOutOwnFramesThenRefuses) {
  const std::size_t cost = HeldFrames::cost(frame("x"));
  HeldBytesBudget node(3 * cost);
  HeldFrames first(node, kNoCap);
  HeldFrames second(node, kNoCap);
  first.hold("a", frame("a1"), 100);
  first.hold("a", frame("a2"), 100);
  second.hold("b", frame("b1"), 100);
  // The node is full: the first makes room with its own oldest.
  HeldFrames::HoldResult result = first.hold("a", frame("a3"), 100);
  EXPECT_EQ(result.outcome, HeldFrames::Outcome::kHeld);
  EXPECT_TRUE(result.node_cap_hit);
  EXPECT_FALSE(result.connection_cap_hit);
  EXPECT_EQ(held(first), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_EQ(node.held(), 3 * cost);
  // A third with nothing held cannot take anyone else's room.
  HeldFrames third(node, kNoCap);
  result = third.hold("c", frame("c1"), 100);
  EXPECT_EQ(result.outcome, HeldFrames::Outcome::kNodeFull);
  EXPECT_TRUE(result.node_cap_hit);
  EXPECT_EQ(node.held(), 3 * cost);
}

TEST(HeldFramesTest, DiscardAndDestructionGiveTheBytesBack) {
  HeldBytesBudget node(kNoCap);
  {
    HeldFrames frames(node, kNoCap);
    frames.hold("a", frame("a1"), 100);
    frames.hold("b", frame("b1"), 100);
    frames.discard("a");
    EXPECT_FALSE(frames.holds("a"));
    EXPECT_EQ(held(frames), (std::vector<std::string>{"b1"}));
    EXPECT_EQ(node.held(), HeldFrames::cost(frame("x")));
  }
  EXPECT_EQ(node.held(), 0u);
}

TEST(HeldFramesTest, ReleaseLetsGoOfASliceInOrderAndGivesItsBytesBack) {
  HeldBytesBudget node(kNoCap);
  HeldFrames frames(node, kNoCap);
  for (const char* name : {"a1", "b1", "a2", "b2", "a3"}) frames.hold(std::string(1, name[0]), frame(name), 100);
  std::vector<std::string> sent;
  const auto send = [&](const SharedMessage& message) { sent.push_back(name_of(message)); };
  const std::size_t size = frame("x").frame().size();
  EXPECT_TRUE(frames.release(2 * size, send));  // two frames' worth
  EXPECT_EQ(sent, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(held(frames), (std::vector<std::string>{"a3", "b1", "b2"}));
  EXPECT_EQ(node.held(), 3 * HeldFrames::cost(frame("x")));
  EXPECT_TRUE(frames.release(0, send));  // at least one frame
  EXPECT_EQ(sent.back(), "a3");
  EXPECT_FALSE(frames.holds("a"));
  EXPECT_FALSE(frames.release(10 * size, send));  // the rest: nothing left
  EXPECT_EQ(sent, (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"}));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(node.held(), 0u);
  EXPECT_EQ(frames.releases(), 3u);
}

TEST(HeldBytesBudgetTest, TakesOnlyWhatFits) {
  HeldBytesBudget budget(100);
  EXPECT_TRUE(budget.try_take(60));
  EXPECT_FALSE(budget.try_take(41));
  EXPECT_TRUE(budget.try_take(40));
  EXPECT_FALSE(budget.try_take(1));
  budget.give_back(100);
  EXPECT_FALSE(budget.try_take(101));
  EXPECT_FALSE(budget.try_take(static_cast<std::size_t>(-1)));
  EXPECT_EQ(budget.held(), 0u);
}

}  // namespace
}  // namespace switchboard::hub
