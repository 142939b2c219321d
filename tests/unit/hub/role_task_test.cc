// Node::post<&Role::fn>'s task (role_task.h) against the hand-written post
// lambda it replaced: wrapped in the std::function Server::post takes, it
// costs the same number of allocations, and its capture is no larger than
// the lambda's plus the role pointer it holds instead of a worker index.
#include "hub/role_task.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "hub/reply_to.h"

namespace {

std::atomic<std::size_t> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
  throw std::bad_alloc();
}
void operator delete(void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }

namespace switchboard::hub {
namespace {

// Shaped like OwnerRole::publish and LocalRole::deliver_to_channel.
struct FakeRole {
  void publish(const std::string& channel, const std::string& data, std::uint64_t exclude, ReplyTo reply_to) {
    published += channel.size() + data.size() + exclude + reply_to.id;
  }
  void deliver(const std::string& channel, const std::shared_ptr<int>& frame, std::uint64_t exclude,
               std::uint64_t numbered_ns) {
    delivered += channel.size() + static_cast<std::size_t>(*frame) + exclude + numbered_ns;
  }
  std::size_t published = 0;
  std::size_t delivered = 0;
};

struct FakeNode {
  FakeRole roles[2];
};

// Allocations made by make(), then by wrapping its result in a std::function.
template <typename Make>
std::size_t allocations_of(Make make) {
  const std::size_t before = allocations.load();
  std::function<void()> task(make());
  const std::size_t made = allocations.load() - before;
  task();
  return made;
}

// A channel name past the small-string buffer: its copy allocates, in both.
const std::string kChannel = "a-channel-name-longer-than-sso";

TEST(RoleTask, PublishCostsTheAllocationsOfTheHandWrittenLambda) {
  auto node = std::make_shared<FakeNode>();
  const unsigned owner = 1;
  const std::uint64_t worker = 0, client = 7, id = 9;
  const std::size_t hand_written = allocations_of([&] {
    std::string data = R"({"text":"hello"})";
    return [hub = node, owner, channel = std::string(kChannel), data = std::move(data), exclude = client, worker,
            client, id] {
      hub->roles[owner].publish(channel, data, exclude, ReplyTo{static_cast<unsigned>(worker), client, id, {}});
    };
  });
  const std::size_t typed = allocations_of([&] {
    std::string data = R"({"text":"hello"})";
    return role_task<&FakeRole::publish>(std::shared_ptr<FakeNode>(node), &node->roles[owner], std::string(kChannel),
                                         std::move(data), client,
                                         ReplyTo{static_cast<unsigned>(worker), client, id, {}});
  });
  EXPECT_EQ(typed, hand_written);
  EXPECT_EQ(node->roles[owner].published, 2 * (kChannel.size() + 16 + client + id));
}

TEST(RoleTask, FanOutCostsTheAllocationsOfTheHandWrittenLambda) {
  auto node = std::make_shared<FakeNode>();
  const auto frame = std::make_shared<int>(3);
  const unsigned worker = 0;
  const std::uint64_t exclude = 0, numbered_ns = 5;
  const std::size_t hand_written = allocations_of([&] {
    return [hub = node, worker, channel = kChannel, frame, exclude, numbered_ns] {
      hub->roles[worker].deliver(channel, frame, exclude, numbered_ns);
    };
  });
  const std::size_t typed = allocations_of([&] {
    return role_task<&FakeRole::deliver>(std::shared_ptr<FakeNode>(node), &node->roles[worker], kChannel, frame,
                                         exclude, numbered_ns);
  });
  EXPECT_EQ(typed, hand_written);
  // The channel's copy and the std::function's block: neither fits the
  // std::function's small buffer (a shared_ptr is not trivially copyable).
  EXPECT_EQ(typed, 2u);
  EXPECT_EQ(node->roles[worker].delivered, 2 * (kChannel.size() + 3 + numbered_ns));
}

TEST(RoleTask, CaptureIsTheHandWrittenOnesWithARolePointerForTheWorkerIndex) {
  auto node = std::make_shared<FakeNode>();
  const unsigned worker = 0;
  const auto frame = std::make_shared<int>(3);
  const std::uint64_t exclude = 0, numbered_ns = 5;
  auto hand_written = [hub = node, worker, channel = kChannel, frame, exclude, numbered_ns] {
    hub->roles[worker].deliver(channel, frame, exclude, numbered_ns);
  };
  auto typed = role_task<&FakeRole::deliver>(std::shared_ptr<FakeNode>(node), &node->roles[worker], kChannel, frame,
                                             exclude, numbered_ns);
  EXPECT_LE(sizeof(typed), sizeof(hand_written) + sizeof(void*));
}

}  // namespace
}  // namespace switchboard::hub
