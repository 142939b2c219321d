// The C++ client across a server's drain, played by a scripted peer: the
// first connection answers `connect` and the first publish, then says
// `disconnect` (reconnect: true, with or without answered: true) and
// closes 1001 while two more publishes wait; the second connection answers
// every publish. After answered: true the two are sent again, in order,
// and succeed; without it they fail kDisconnected. A peer that drains
// every connection at once shows that a drain is no failure for the
// backoff: moved again and again, the client waits the first step's delay.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
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

constexpr std::size_t kPublishes = 3;

class DrainingPeer {
 public:
  // at_connect: every connection is drained right after its `connect` reply.
  explicit DrainingPeer(std::string notice, bool at_connect = false)
      : notice_(std::move(notice)),
        at_connect_(at_connect),
        server_([this](int fd, const std::atomic<bool>& stopping) { serve(fd, stopping); }) {}

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(server_.port()) + "/"; }
  // The publishes' data as the second connection got them, in order.
  std::vector<std::string> resent() {
    std::lock_guard lock(mutex_);
    return resent_;
  }

 private:
  void serve(int connection, const std::atomic<bool>& stopping) {
    const std::size_t index = next_connection_++;
    std::string buffer;
    if (!accept_upgrade(connection, &buffer, stopping)) return;
    const auto receive = [&] { return receive_some(connection, &buffer); };
    std::size_t publishes = 0;
    bool closing = false;
    while (!stopping) {
      std::uint8_t opcode = 0;
      std::string payload;
      if (!take_client_frame(&buffer, &opcode, &payload)) {
        if (!receive()) return;
        continue;
      }
      if (opcode == 0x8) {
        if (!closing) send_bytes(connection, server_frame(0x8, payload.substr(0, 2)));
        closing = true;
        continue;
      }
      const std::string id = std::to_string(command_id(payload));
      if (payload.find("\"type\":\"connect\"") != std::string::npos) {
        send_bytes(connection,
                   server_frame(0x1, R"({"type":"reply","id":)" + id + R"(,"data":{"client":"1","user":null}})"));
        if (at_connect_) {
          send_bytes(connection, going_away());
          closing = true;
        }
        continue;
      }
      if (payload.find("\"type\":\"publish\"") == std::string::npos || closing) continue;
      ++publishes;
      const std::string reply = server_frame(0x1, R"({"type":"reply","id":)" + id + R"(,"data":{"offset":1}})");
      if (index > 0) {
        {
          std::lock_guard lock(mutex_);
          resent_.push_back(payload.substr(payload.find("\"data\":") + 7, 1));
        }
        send_bytes(connection, reply);
      } else if (publishes == 1) {
        send_bytes(connection, reply);
      } else if (publishes == kPublishes) {
        // The drain: the first was answered, these two were read and not run.
        send_bytes(connection, going_away());
        closing = true;
      }
    }
  }

  std::string going_away() const {
    return server_frame(0x1, notice_) + server_frame(0x8, std::string("\x03\xE9", 2) + "server shutting down");
  }

  const std::string notice_;
  const bool at_connect_;
  std::atomic<std::size_t> next_connection_{0};
  std::mutex mutex_;
  std::vector<std::string> resent_;
  testing::LoopbackServer server_;  // last: its threads use the members above
};

// The publishes' outcomes and the client's state changes, from its loop thread.
struct Outcomes {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<Result>> results{kPublishes};
  std::vector<StateChange> changes;

  ClientOptions options() {
    ClientOptions options;
    options.min_delay_ms = 50;
    options.max_delay_ms = 5'000;
    options.jitter = 0;
    options.ping_interval_ms = 0;
    options.on_state = [this](const StateChange& change) { record([&] { changes.push_back(change); }); };
    return options;
  }
  ResultCallback for_publish(std::size_t index) {
    return [this, index](const Result& result) { record([&] { results[index] = result; }); };
  }
  template <typename Change>
  void record(Change change) {
    {
      std::lock_guard lock(mutex);
      change();
    }
    changed.notify_all();
  }
  bool wait_all() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] {
      for (const auto& result : results)
        if (!result) return false;
      return true;
    });
  }
  // The reconnect delays of the first `count` disconnects (waiting up to 10 s).
  std::vector<std::uint64_t> delays(std::size_t count) {
    std::unique_lock lock(mutex);
    std::vector<std::uint64_t> found;
    changed.wait_for(lock, 10s, [&] {
      found.clear();
      for (const StateChange& change : changes)
        if (change.state == ClientState::kDisconnected) found.push_back(change.reconnect_delay_ms);
      return found.size() >= count;
    });
    found.resize(std::min(found.size(), count));
    return found;
  }
};

const std::string kNotice = R"({"type":"disconnect","code":1001,"reason":"server shutting down","reconnect":true)";

void publish_three(Client& client, Outcomes& outcomes) {
  for (std::size_t i = 0; i < kPublishes; ++i) {
    client.publish("chat:a", std::to_string(i + 1), {}, outcomes.for_publish(i));
  }
}

TEST(ClientDrainPeer, AfterADrainThatAnsweredEverythingTheUnansweredPublishesGoAgainInOrder) {
  DrainingPeer peer(kNotice + R"(,"answered":true})");
  Outcomes outcomes;
  Client client(outcomes.options());
  ASSERT_EQ(client.connect(peer.url()), "");
  ASSERT_TRUE(client.wait_connected(10'000));
  publish_three(client, outcomes);
  ASSERT_TRUE(outcomes.wait_all());
  std::lock_guard lock(outcomes.mutex);
  for (const auto& result : outcomes.results) EXPECT_TRUE(result->ok()) << result->error().message;
  EXPECT_EQ(peer.resent(), (std::vector<std::string>{"2", "3"}));
}

TEST(ClientDrainPeer, WithoutAnsweredTheUnansweredPublishesFailDisconnected) {
  DrainingPeer peer(kNotice + "}");
  Outcomes outcomes;
  Client client(outcomes.options());
  ASSERT_EQ(client.connect(peer.url()), "");
  ASSERT_TRUE(client.wait_connected(10'000));
  publish_three(client, outcomes);
  ASSERT_TRUE(outcomes.wait_all());
  std::lock_guard lock(outcomes.mutex);
  EXPECT_TRUE(outcomes.results[0]->ok());
  for (std::size_t i = 1; i < kPublishes; ++i) {
    ASSERT_FALSE(outcomes.results[i]->ok());
    EXPECT_EQ(outcomes.results[i]->error().kind, ClientErrorKind::kDisconnected);
  }
  EXPECT_TRUE(peer.resent().empty());
}

TEST(ClientDrainPeer, ADrainIsNoFailureForTheBackoff) {
  DrainingPeer peer(kNotice + R"(,"answered":true})", /*at_connect=*/true);
  Outcomes outcomes;
  Client client(outcomes.options());
  ASSERT_EQ(client.connect(peer.url()), "");
  // Failures would wait 50, 100, 200 ms (min_delay_ms 50, factor 2, no jitter).
  EXPECT_EQ(outcomes.delays(3), (std::vector<std::uint64_t>{50, 50, 50}));
}

}  // namespace
}  // namespace switchboard
