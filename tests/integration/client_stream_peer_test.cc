// The C++ client's stream position against server messages the real server
// sends only when something went wrong (a `reset` after the stream's past
// was lost, a `message` with offset 0 published while the broker was
// unreachable), played by a scripted peer: what on_message and
// on_recovery_failed see, and the position the next recovery asks from.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/loopback_server.h"
#include "integration/peer_frames.h"
#include "switchboard/client.h"

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using testing::accept_upgrade;
using testing::command_id;
using testing::receive_some;
using testing::send_bytes;
using testing::server_frame;
using testing::take_client_frame;

// A server whose every connection answers `connect`, and answers the
// first `subscribe` of connection n with replies[n] followed by script[n]
// (then closes 1001 when more connections are scripted). It keeps every
// subscribe command it got.
class ScriptedPeer {
 public:
  struct Connection {
    std::string subscribe_reply_data;
    std::vector<std::string> then_send;
  };

  explicit ScriptedPeer(std::vector<Connection> script)
      : script_(std::move(script)),
        server_([this](int fd, const std::atomic<bool>& stopping) { serve(fd, stopping); }) {}

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(server_.port()) + "/"; }

  // The subscribe commands so far, in order.
  std::vector<std::string> subscribes() {
    std::lock_guard lock(mutex_);
    return subscribes_;
  }

 private:
  void serve(int connection, const std::atomic<bool>& stopping) {
    const std::size_t index = next_connection_++;
    std::string buffer;
    if (!accept_upgrade(connection, &buffer, stopping)) return;
    const auto receive = [&] { return receive_some(connection, &buffer); };
    bool subscribed = false;
    bool closing = false;  // this side sent its close frame
    while (!stopping) {
      std::uint8_t opcode = 0;
      std::string payload;
      if (!take_client_frame(&buffer, &opcode, &payload)) {
        if (!receive()) return;  // the client went
        continue;
      }
      if (opcode == 0x8) {
        if (!closing) send_bytes(connection, server_frame(0x8, payload.substr(0, 2)));
        closing = true;
        continue;  // the client closes the TCP connection next
      }
      const std::string id = std::to_string(command_id(payload));
      if (payload.find("\"type\":\"connect\"") != std::string::npos) {
        send_bytes(connection,
                   server_frame(0x1, R"({"type":"reply","id":)" + id + R"(,"data":{"client":"1","user":null}})"));
      } else if (payload.find("\"type\":\"subscribe\"") != std::string::npos && !subscribed) {
        subscribed = true;
        {
          std::lock_guard lock(mutex_);
          subscribes_.push_back(payload);
        }
        if (index >= script_.size()) continue;
        const Connection& scripted = script_[index];
        std::string out =
            server_frame(0x1, R"({"type":"reply","id":)" + id + ",\"data\":" + scripted.subscribe_reply_data + "}");
        for (const std::string& message : scripted.then_send) out += server_frame(0x1, message);
        // Going away: the client reconnects, and resubscribes.
        if (index + 1 < script_.size()) {
          out += server_frame(0x8, std::string("\x03\xE9", 2) + "restart");
          closing = true;
        }
        send_bytes(connection, out);
      }
    }
  }

  const std::vector<Connection> script_;
  std::atomic<std::size_t> next_connection_{0};
  std::mutex mutex_;
  std::vector<std::string> subscribes_;
  testing::LoopbackServer server_;  // last: its threads use the members above
};

// What a subscription's handlers were given, gathered from the loop thread.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::uint64_t, std::string>> messages;
  std::vector<SubscribedInfo> failures;
  std::vector<SubscribedInfo> subscribed;

  SubscriptionHandlers handlers() {
    SubscriptionHandlers handlers;
    handlers.on_message = [this](std::string_view data, std::uint64_t offset) {
      record([&] { messages.emplace_back(offset, std::string(data)); });
    };
    handlers.on_recovery_failed = [this](const SubscribedInfo& info) { record([&] { failures.push_back(info); }); };
    handlers.on_subscribed = [this](const SubscribedInfo& info) { record([&] { subscribed.push_back(info); }); };
    return handlers;
  }
  template <typename Change>
  void record(Change change) {
    {
      std::lock_guard lock(mutex);
      change();
    }
    changed.notify_all();
  }
  // Waits up to 10 s for `count` subscribe replies.
  bool wait_subscribed(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return subscribed.size() >= count; });
  }
};

std::string message(std::uint64_t offset, std::string_view data) {
  return R"({"type":"message","channel":"feed:a","offset":)" + std::to_string(offset) +
         ",\"data\":" + std::string(data) + "}";
}

TEST(ClientStreamPeer, AResetIsAFailedRecoveryAndTheNewEpochsMessagesFollowIt) {
  ScriptedPeer peer({
      {R"({"recoverable":true,"epoch":"A","offset":40})",
       {message(41, "41"), R"({"type":"reset","channel":"feed:a","epoch":"B","offset":2})", message(2, "\"dup\""),
        message(3, "3"), message(0, "\"u1\""), message(0, "\"u2\""), message(3, "\"dup\""), message(4, "4"),
        R"({"type":"reset","channel":"other","epoch":"X","offset":9})"}},
      {R"({"recoverable":true,"epoch":"B","offset":5,"recovered":true,"publications":[{"offset":5,"data":5}]})",
       {message(6, "6")}},
  });
  Seen seen;
  ClientOptions options;
  options.min_delay_ms = 10;
  options.max_delay_ms = 10;
  Client client(options);
  ASSERT_EQ(client.connect(peer.url()), "");
  client.subscribe("feed:a", seen.handlers());
  ASSERT_TRUE(seen.wait_subscribed(2));
  {
    std::unique_lock lock(seen.mutex);
    ASSERT_TRUE(seen.changed.wait_for(lock, 10s, [&] { return seen.messages.size() >= 7; }));
    // The old epoch's 41, then the new epoch from 3 on (2 is at the reset's
    // position), both unnumbered ones, and the recovery after the
    // reconnect: nothing of the new epoch dropped as below 41.
    EXPECT_EQ(seen.messages, (std::vector<std::pair<std::uint64_t, std::string>>{
                                 {41, "41"}, {3, "3"}, {0, "\"u1\""}, {0, "\"u2\""}, {4, "4"}, {5, "5"}, {6, "6"}}));
    ASSERT_EQ(seen.failures.size(), 1u);  // the reset; a reset of a channel not subscribed is ignored
    EXPECT_TRUE(seen.failures[0].reset);
    EXPECT_TRUE(seen.failures[0].recoverable);
    EXPECT_FALSE(seen.failures[0].was_recovering);
    EXPECT_EQ(seen.failures[0].epoch, "B");
    EXPECT_EQ(seen.failures[0].offset, 2u);
    EXPECT_TRUE(seen.subscribed[1].recovered);
    EXPECT_FALSE(seen.subscribed[1].reset);
  }
  // The resubscribe recovers from the new epoch's last numbered offset:
  // the unnumbered messages did not move the position.
  const std::vector<std::string> subscribes = peer.subscribes();
  ASSERT_EQ(subscribes.size(), 2u);
  EXPECT_EQ(subscribes[0].find("recover"), std::string::npos) << subscribes[0];
  EXPECT_NE(subscribes[1].find(R"("recover":true,"since":{"offset":4,"epoch":"B"})"), std::string::npos)
      << subscribes[1];
}

// Offset 0 right after the subscribe reply of a stream at offset 0 (a new
// stream), where it equals the position: still delivered.
TEST(ClientStreamPeer, AnUnnumberedMessageAtANewStreamIsDelivered) {
  ScriptedPeer peer({{R"({"recoverable":true,"epoch":"E","offset":0})", {message(0, "\"u\""), message(1, "1")}}});
  Seen seen;
  Client client;
  ASSERT_EQ(client.connect(peer.url()), "");
  client.subscribe("feed:a", seen.handlers());
  std::unique_lock lock(seen.mutex);
  ASSERT_TRUE(seen.changed.wait_for(lock, 10s, [&] { return seen.messages.size() >= 2; }));
  EXPECT_EQ(seen.messages, (std::vector<std::pair<std::uint64_t, std::string>>{{0, "\"u\""}, {1, "1"}}));
  EXPECT_TRUE(seen.failures.empty());
}

}  // namespace
}  // namespace switchboard
