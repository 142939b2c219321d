// The C++ client against peers that misbehave on purpose, played by a
// blocking socket in the test: one that goes silent after the connect
// reply (heartbeat timeout), one that never answers the upgrade (connect
// timeout), one that refuses with 503 and Retry-After, one that answers
// without the subprotocol, one that closes 1013; the offline queue with no
// server at all, and the short delays after a refused connect.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/upgrade.h"
#include "integration/loopback_server.h"
#include "switchboard/client.h"

namespace switchboard {
namespace {

using namespace std::chrono_literals;

enum class Behaviour : std::uint8_t {
  kSilentAfterConnect,  // upgrade, answer `connect`, then read and never answer
  kSilentAtUpgrade,     // accept, read, never answer
  kBusy,                // 503 with Retry-After: 1
  kNoSubprotocol,       // 101 without Sec-WebSocket-Protocol
  kConnectError,        // upgrade, then answer `connect` with error 117
  kForbidden,           // 403
  kSlowConsumerClose,   // upgrade, answer `connect`, then close 1013 as the hub does a slow consumer
};

// A WebSocket peer that treats every connection the same way, and counts them.
class FakePeer {
 public:
  explicit FakePeer(Behaviour behaviour)
      : server_([behaviour](int fd, const std::atomic<bool>& stopping) { serve(behaviour, fd, stopping); }) {}

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(server_.port()) + "/"; }
  int connections() const { return server_.connections(); }

 private:
  static void serve(Behaviour behaviour, int connection, const std::atomic<bool>& stopping) {
    timeval timeout{0, 100'000};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string head;
    char chunk[4096];
    while (!stopping && head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t size = ::recv(connection, chunk, sizeof chunk, 0);
      if (size == 0) break;
      if (size > 0) head.append(chunk, static_cast<std::size_t>(size));
    }
    std::string answer;
    const std::size_t key_at = head.find("Sec-WebSocket-Key: ");
    const std::string key = key_at == std::string::npos ? "" : head.substr(key_at + 19, 24);
    const std::string switching =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        http::accept_key(key) + "\r\n";
    const std::string accepted = switching + "Sec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n";
    // One unmasked text frame (a server's), payload under 126 bytes.
    const auto text_frame = [](std::string_view payload) {
      return std::string{static_cast<char>(0x81), static_cast<char>(payload.size())} + std::string(payload);
    };
    switch (behaviour) {
      // The connect command is the client's first message: id 1.
      case Behaviour::kSilentAfterConnect:
        answer = accepted + text_frame(R"({"type":"reply","id":1,"data":{"client":"1","user":null}})");
        break;
      case Behaviour::kConnectError:
        answer = accepted + text_frame(R"({"type":"error","id":1,"code":117,"message":"unavailable"})");
        break;
      case Behaviour::kSlowConsumerClose: {
        const std::string close_payload = std::string("\x03\xF5", 2) + "slow consumer";  // 1013
        answer = accepted + text_frame(R"({"type":"reply","id":1,"data":{"client":"1","user":null}})") +
                 std::string{static_cast<char>(0x88), static_cast<char>(close_payload.size())} + close_payload;
        break;
      }
      case Behaviour::kForbidden:
        answer = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        break;
      case Behaviour::kSilentAtUpgrade:
        break;
      case Behaviour::kBusy:
        answer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
        break;
      case Behaviour::kNoSubprotocol:
        answer = switching + "\r\n";
        break;
    }
    if (!answer.empty()) ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
    // Read (and ignore) until the client goes or the test ends.
    while (!stopping) {
      const ssize_t size = ::recv(connection, chunk, sizeof chunk, 0);
      if (size == 0 || (size < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
    }
  }

  testing::LoopbackServer server_;
};

// The client's state changes, gathered from its loop thread.
struct StateLog {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<StateChange> changes;

  ClientOptions options() {
    ClientOptions options;
    options.on_state = [this](const StateChange& change) {
      {
        std::lock_guard lock(mutex);
        changes.push_back(change);
      }
      changed.notify_all();
    };
    return options;
  }
  // The first kDisconnected change (waiting up to 10 s for it).
  std::optional<StateChange> first_disconnect() {
    std::unique_lock lock(mutex);
    std::optional<StateChange> found;
    changed.wait_for(lock, 10s, [&] {
      for (const StateChange& change : changes) {
        if (change.state == ClientState::kDisconnected) found = change;
        if (found) return true;
      }
      return false;
    });
    return found;
  }
};

TEST(ClientPeer, HeartbeatTimeoutDropsAHalfOpenConnection) {
  FakePeer peer(Behaviour::kSilentAfterConnect);
  StateLog log;
  ClientOptions options = log.options();
  options.ping_interval_ms = 200;
  options.pong_timeout_ms = 300;
  options.min_delay_ms = 50;
  options.max_delay_ms = 50;
  Client client(options);
  ASSERT_EQ(client.connect(peer.url()), "");
  ASSERT_TRUE(client.wait_connected(15000));
  const auto connected_at = std::chrono::steady_clock::now();
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  const auto elapsed = std::chrono::steady_clock::now() - connected_at;
  EXPECT_NE(down->reason.find("heartbeat"), std::string::npos) << down->reason;
  EXPECT_GE(elapsed, 400ms);  // a ping at 200 ms, then 300 ms of silence (25 ms timer ticks)
  EXPECT_LT(elapsed, 5s);     // loaded-machine room, and half the 10 s default pong timeout
  // And it comes back.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (peer.connections() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // pacing the poll
  }
  EXPECT_GE(peer.connections(), 2);
}

TEST(ClientPeer, ConnectTimeoutCoversTheUpgrade) {
  FakePeer peer(Behaviour::kSilentAtUpgrade);
  StateLog log;
  ClientOptions options = log.options();
  options.connect_timeout_ms = 300;
  Client client(options);
  ASSERT_EQ(client.connect(peer.url()), "");
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, "connect timeout");
}

TEST(ClientPeer, AConnectErrorEndsTheAttemptAtOnce) {
  FakePeer peer(Behaviour::kConnectError);
  StateLog log;
  ClientOptions options = log.options();
  options.connect_timeout_ms = 10'000;
  Client client(options);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(client.connect(peer.url()), "");
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  EXPECT_NE(down->reason.find("connect refused: unavailable"), std::string::npos) << down->reason;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // not the 10 s connect timeout
}

// 1012-1014 are registered close codes (RFC 6455 §7.4.1, IANA): a server
// that closes 1013 (try again later) ends the connection normally, with its
// code and reason, not with a protocol error of the client's.
TEST(ClientPeer, ACloseWith1013IsReportedWithItsCodeAndReason) {
  FakePeer peer(Behaviour::kSlowConsumerClose);
  StateLog log;
  Client client(log.options());
  ASSERT_EQ(client.connect(peer.url()), "");
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  EXPECT_EQ(down->close_code, 1013);
  EXPECT_EQ(down->reason, "close 1013 slow consumer");
}

TEST(ClientPeer, AnUpgradeRefusedWith403IsFinal) {
  FakePeer peer(Behaviour::kForbidden);
  StateLog log;
  ClientOptions options = log.options();
  options.min_delay_ms = 10;
  options.max_delay_ms = 10;
  Client client(options);
  ASSERT_EQ(client.connect(peer.url()), "");
  EXPECT_FALSE(client.wait_connected(5000));  // returns at once when closed
  EXPECT_EQ(client.state(), ClientState::kClosed);
  std::this_thread::sleep_for(100ms);  // ten backoff delays: no second attempt (absence cannot be polled)
  EXPECT_EQ(peer.connections(), 1);
}

TEST(ClientPeer, RetryAfterIsAFloorOnTheNextDelay) {
  FakePeer peer(Behaviour::kBusy);
  StateLog log;
  ClientOptions options = log.options();
  options.min_delay_ms = 10;
  options.max_delay_ms = 10;
  Client client(options);
  ASSERT_EQ(client.connect(peer.url()), "");
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  EXPECT_NE(down->reason.find("503"), std::string::npos) << down->reason;
  EXPECT_GE(down->reconnect_delay_ms, 1000u);
}

TEST(ClientPeer, TheSubprotocolMustBeAccepted) {
  FakePeer peer(Behaviour::kNoSubprotocol);
  StateLog log;
  Client client(log.options());
  ASSERT_EQ(client.connect(peer.url()), "");
  const std::optional<StateChange> down = log.first_disconnect();
  ASSERT_TRUE(down);
  EXPECT_NE(down->reason.find("subprotocol"), std::string::npos) << down->reason;
}

TEST(ClientPeer, RefusedConnectionsBackOffAndNoReconnectIsFinal) {
  // A port nobody listens on: bind one, then close it.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(probe);
  const std::string url = "ws://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";

  StateLog log;
  ClientOptions options = log.options();
  options.reconnect = false;
  Client client(options);
  ASSERT_EQ(client.connect(url), "");
  std::unique_lock lock(log.mutex);
  ASSERT_TRUE(log.changed.wait_for(
      lock, 5s, [&] { return !log.changes.empty() && log.changes.back().state == ClientState::kClosed; }));
  EXPECT_NE(log.changes.back().reason.find("refused"), std::string::npos) << log.changes.back().reason;
}

// The delays of the first `count` kDisconnected changes (waiting up to 15 s).
std::vector<std::uint64_t> reconnect_delays(StateLog& log, std::size_t count) {
  std::vector<std::uint64_t> delays;
  std::unique_lock lock(log.mutex);
  log.changed.wait_for(lock, 15s, [&] {
    delays.clear();
    for (const StateChange& change : log.changes) {
      if (change.state == ClientState::kDisconnected) delays.push_back(change.reconnect_delay_ms);
    }
    return delays.size() >= count;
  });
  return delays;
}

// A free port that nobody listens on: connect(2) there is refused.
std::string refusing_url() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(probe);
  return "ws://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
}

// A refused connect (nothing listens: a node restarting) holds the delay
// at refused_max_delay_ms however many attempts failed; a server that
// listens but does not answer (connect timeout) keeps the exponential
// backoff.
TEST(ClientPeer, ARefusedConnectCapsTheDelayOtherFailuresKeepGrowing) {
  StateLog refused_log;
  ClientOptions options = refused_log.options();
  options.min_delay_ms = 20;
  options.max_delay_ms = 60'000;
  options.jitter = 0.0;  // the cap itself: the growth is visible
  options.refused_max_delay_ms = 80;
  Client refused(options);
  ASSERT_EQ(refused.connect(refusing_url()), "");
  EXPECT_EQ(reconnect_delays(refused_log, 6), (std::vector<std::uint64_t>{20, 40, 80, 80, 80, 80}));
  refused.close();

  FakePeer peer(Behaviour::kSilentAtUpgrade);
  StateLog error_log;
  ClientOptions error_options = error_log.options();
  error_options.connect_timeout_ms = 100;
  error_options.min_delay_ms = 20;
  error_options.max_delay_ms = 60'000;
  error_options.jitter = 0.0;
  error_options.refused_max_delay_ms = 80;
  Client erring(error_options);
  ASSERT_EQ(erring.connect(peer.url()), "");
  EXPECT_EQ(reconnect_delays(error_log, 5), (std::vector<std::uint64_t>{20, 40, 80, 160, 320}));
}

TEST(ClientPeer, TheOfflineQueueIsBoundedAndCloseFailsIt) {
  ClientOptions options;
  options.max_queued = 2;
  Client client(options);  // never connected
  std::future<Result> first = client.publish("a", "1");
  std::future<Result> second = client.rpc("m");
  const Result third = client.send("bob", "{}").get();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind, ClientErrorKind::kQueueFull);
  client.close();
  EXPECT_EQ(first.get().error().kind, ClientErrorKind::kClosed);
  EXPECT_EQ(second.get().error().kind, ClientErrorKind::kClosed);
  EXPECT_EQ(client.publish("a", "1").get().error().kind, ClientErrorKind::kClosed);
  EXPECT_NE(client.connect("ws://127.0.0.1:1/"), "");
  EXPECT_EQ(client.state(), ClientState::kClosed);
}

TEST(ClientPeer, BadUrlsAndArgumentsAreRefusedAtOnce) {
  Client client;
  EXPECT_NE(client.connect("http://127.0.0.1/"), "");
  EXPECT_NE(client.connect("ws://127.0.0.1:99999/"), "");
  EXPECT_EQ(client.publish("", "1").get().error().kind, ClientErrorKind::kInvalidArgument);
  EXPECT_EQ(client.send("bob", "").get().error().kind, ClientErrorKind::kInvalidArgument);
  EXPECT_EQ(client.rpc("m", "{").get().error().kind, ClientErrorKind::kInvalidArgument);
  ClientOptions options;
  options.headers = {"Bad Header"};
  Client headers(options);
  EXPECT_NE(headers.connect("ws://127.0.0.1:1/"), "");
}

}  // namespace
}  // namespace switchboard
