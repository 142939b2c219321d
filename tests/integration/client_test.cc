// The C++ client (include/switchboard/client.h) against a real `switchboard
// serve` process (SWITCHBOARD_BIN), started and killed by each test on a
// free loopback port: pub/sub, 100 concurrent rpcs, reconnect after SIGKILL
// and restart, final closes, token refresh.
#include "switchboard/client.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth/jwt_sign.h"
#include "base/clock.h"
#include "integration/loopback_server.h"
#include "integration/raw_client.h"
#include "integration/server_process.h"

namespace switchboard {
namespace {

using namespace std::chrono_literals;

using testing::eventually;
using testing::kWaitMs;
using testing::ServerProcess;
using testing::Signal;

constexpr const char* kSecret = "client-test-secret-of-at-least-32-bytes!!";

std::string token_for(const std::string& user, std::int64_t ttl_s) {
  // The exact clock, as the server's: time(2) can be a second behind it.
  const std::int64_t now = base::wall_clock_s();
  return auth::sign_hmac(
      auth::Algorithm::kHS256, kSecret, "",
      "{\"sub\":\"" + user + "\",\"iat\":" + std::to_string(now) + ",\"exp\":" + std::to_string(now + ttl_s) + "}");
}

TEST(Client, PublishReachesTheSubscriber) {
  ServerProcess server({"--insecure-user-query"}, {});
  Client reader;
  Client writer;
  ASSERT_EQ(reader.connect(server.url("?user=reader")), "");
  ASSERT_EQ(writer.connect(server.url("?user=writer")), "");

  Signal signal;
  std::vector<std::pair<std::string, std::uint64_t>> received;
  bool subscribed = false;
  Subscription subscription = reader.subscribe(
      "news", {.on_message = [&](std::string_view data,
                                 std::uint64_t offset) { signal.notify([&] { received.emplace_back(data, offset); }); },
               .on_subscribed = [&](const SubscribedInfo&) { signal.notify([&] { subscribed = true; }); }});
  ASSERT_TRUE(signal.wait([&] { return subscribed; }));
  EXPECT_EQ(subscription.state(), SubscriptionState::kSubscribed);
  EXPECT_EQ(reader.state(), ClientState::kConnected);

  const Result first = writer.publish("news", R"({"text": "hello"})").get();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first.data(), R"({"offset":1})");
  ASSERT_TRUE(signal.wait([&] { return received.size() == 1; }));
  EXPECT_EQ(received[0].first, R"({"text":"hello"})");
  EXPECT_EQ(received[0].second, 1u);

  // Not JSON: refused before it is queued.
  const Result bad = writer.publish("news", "{text}").get();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ClientErrorKind::kInvalidArgument);

  // A server error keeps its code.
  const Result refused = writer.publish("bad name", "1").get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ClientErrorKind::kServer);
  EXPECT_EQ(refused.error().code, 106);

  subscription.unsubscribe();
  EXPECT_EQ(subscription.state(), SubscriptionState::kUnsubscribed);
  ASSERT_TRUE(reader.ping().get().ok());  // the unsubscribe went before it
  ASSERT_TRUE(writer.publish("news", "2").get().ok());
  ASSERT_TRUE(reader.ping().get().ok());
  std::lock_guard lock(signal.mutex());
  EXPECT_EQ(received.size(), 1u);
}

// An HTTP backend for --rpc-proxy-url that answers every call with its own
// request body, so each rpc's answer names the call it belongs to.
class EchoBackend {
 public:
  EchoBackend() : server_([this](int fd, const std::atomic<bool>&) { serve(fd); }) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/rpc"; }
  // How many "slow" calls reached the backend: a test waits on it to know
  // one is in flight.
  int slow_calls() const { return slow_calls_.load(); }

 private:
  // Keep-alive: requests one after another until the peer closes.
  void serve(int connection) {
    timeval timeout{5, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string buffer;
    char chunk[4096];
    while (true) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t size = ::recv(connection, chunk, sizeof chunk, 0);
        if (size <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(size));
      }
      std::size_t length = 0;
      const std::size_t field = buffer.find("Content-Length:");
      if (field != std::string::npos && field < head_end) length = std::stoul(buffer.substr(field + 15));
      while (buffer.size() < head_end + 4 + length) {
        const ssize_t size = ::recv(connection, chunk, sizeof chunk, 0);
        if (size <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(size));
      }
      const std::string body = buffer.substr(head_end + 4, length);
      buffer.erase(0, head_end + 4 + length);
      if (body.find("\"slow\"") != std::string::npos) {
        ++slow_calls_;
        std::this_thread::sleep_for(1500ms);  // the slow backend under test, not a wait for a result
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
      if (::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  std::atomic<int> slow_calls_{0};
  testing::LoopbackServer server_;  // last: its threads use slow_calls_
};

TEST(Client, HundredConcurrentRpcsResolveToTheirCallers) {
  EchoBackend backend;
  // Both forms together keep 200 calls in flight on one connection, more
  // than the server's default of 128 pending rpcs per connection.
  ServerProcess server({"--rpc-proxy-url", backend.url(), "--max-pending-rpcs-per-connection", "200"}, {});
  Client client;
  ASSERT_EQ(client.connect(server.url()), "");
  ASSERT_TRUE(client.wait_connected(kWaitMs));

  constexpr int kCalls = 100;
  std::vector<std::future<Result>> futures;
  for (int i = 0; i < kCalls; ++i) futures.push_back(client.rpc("echo", "{\"n\":" + std::to_string(i) + "}"));
  // The callback form, interleaved with the futures.
  Signal signal;
  std::vector<std::string> by_callback(kCalls);
  int callbacks = 0;
  for (int i = 0; i < kCalls; ++i) {
    client.rpc("echo", "[" + std::to_string(i) + "]", {}, [&, i](const Result& result) {
      signal.notify([&] {
        by_callback[i] = result.ok() ? result.data() : result.error().message;
        ++callbacks;
      });
    });
  }
  for (int i = 0; i < kCalls; ++i) {
    const Result result = futures[i].get();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_NE(result.data().find("\"data\":{\"n\":" + std::to_string(i) + "}"), std::string::npos) << result.data();
  }
  ASSERT_TRUE(signal.wait([&] { return callbacks == kCalls; }));
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_NE(by_callback[i].find("\"data\":[" + std::to_string(i) + "]"), std::string::npos) << by_callback[i];
  }
  // A request's own timeout, counted from sending.
  const Result slow = client.rpc("slow", "", {.timeout_ms = 300}).get();
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().kind, ClientErrorKind::kTimeout);
}

TEST(Client, ReconnectsAfterARestartResubscribesAndSendsTheQueueOnce) {
  EchoBackend backend;
  ServerProcess server({"--rpc-proxy-url", backend.url()}, {});
  const std::uint16_t port = server.port();

  Signal signal;
  std::vector<StateChange> changes;
  std::vector<std::string> received;
  int subscribed = 0;
  ClientOptions options;
  options.min_delay_ms = 100;
  options.max_delay_ms = 3200;
  options.jitter = 0.5;  // delays in [cap/2, cap]: growing, yet jittered
  options.on_state = [&](const StateChange& change) { signal.notify([&] { changes.push_back(change); }); };
  Client client(options);
  ASSERT_EQ(client.connect(server.url()), "");
  client.subscribe("feed", {.on_message = [&](std::string_view data,
                                              std::uint64_t) { signal.notify([&] { received.emplace_back(data); }); },
                            .on_subscribed = [&](const SubscribedInfo&) { signal.notify([&] { ++subscribed; }); }});
  ASSERT_TRUE(signal.wait([&] { return subscribed == 1; }));

  // In flight when the server dies: fails "disconnected", never re-sent.
  std::future<Result> in_flight = client.rpc("slow", "");
  ASSERT_TRUE(eventually([&] { return backend.slow_calls() == 1; }));
  server.stop(SIGKILL);
  const Result lost = in_flight.get();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind, ClientErrorKind::kDisconnected);

  // Made while down: queued, sent after the re-subscribe.
  std::vector<std::future<Result>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(client.publish("feed", std::to_string(i)));
  // Let a few attempts fail (refused), then bring the server back.
  ASSERT_TRUE(signal.wait([&] {
    int disconnected = 0;
    for (const StateChange& change : changes) disconnected += change.state == ClientState::kDisconnected;
    return disconnected >= 4;
  }));
  server.start(port);
  ASSERT_EQ(server.port(), port);
  ASSERT_TRUE(signal.wait([&] { return subscribed == 2 && received.size() >= 5; }));
  for (auto& result : queued) EXPECT_TRUE(result.get().ok());
  ASSERT_TRUE(client.ping().get().ok());
  std::lock_guard lock(signal.mutex());
  EXPECT_EQ(received, (std::vector<std::string>{"0", "1", "2", "3", "4"}));  // each exactly once, in order

  std::vector<const StateChange*> downs;
  for (const StateChange& change : changes) {
    if (change.state == ClientState::kDisconnected) downs.push_back(&change);
  }
  ASSERT_GE(downs.size(), 4u);
  for (std::size_t i = 0; i < downs.size(); ++i) {
    EXPECT_EQ(downs[i]->attempt, i + 1);
    // The first is the lost connection; the others are refused connects,
    // whose cap stops at refused_max_delay_ms (1 s).
    std::uint64_t cap = std::min<std::uint64_t>(3200, 100u << std::min<std::size_t>(i, 20));
    if (i > 0) cap = std::min<std::uint64_t>(cap, options.refused_max_delay_ms);
    EXPECT_LE(downs[i]->reconnect_delay_ms, cap);
    EXPECT_GE(downs[i]->reconnect_delay_ms, cap / 2);
  }
  EXPECT_EQ(changes.back().state, ClientState::kConnected);
}

// A node restarting refuses connections until it listens again: the
// client keeps its delays at about a second meanwhile (the exponential
// backoff would be at 16 s after the attempts waited for here) and is back
// within about a second of the server.
TEST(Client, AfterRefusedConnectsTheClientIsBackWithinASecondOfTheServer) {
  ServerProcess server({}, {});
  const std::uint16_t port = server.port();
  Signal signal;
  std::vector<StateChange> changes;
  ClientOptions options;  // the defaults: 500 ms doubling to 20 s, refused capped at 1 s
  options.on_state = [&](const StateChange& change) { signal.notify([&] { changes.push_back(change); }); };
  Client client(options);
  ASSERT_EQ(client.connect(server.url()), "");
  ASSERT_TRUE(client.wait_connected(kWaitMs));
  server.stop(SIGKILL);
  const auto downs = [&] {
    std::vector<StateChange> found;
    for (const StateChange& change : changes) {
      if (change.state == ClientState::kDisconnected) found.push_back(change);
    }
    return found;
  };
  ASSERT_TRUE(signal.wait([&] { return downs().size() >= 7; }, 20s));
  server.start(port);
  ASSERT_EQ(server.port(), port);
  const auto listening = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.wait_connected(kWaitMs));
  const auto back_after = std::chrono::steady_clock::now() - listening;
  // The last delay was at most 1 s; a loaded machine gets some slack.
  EXPECT_LT(back_after, 1500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(back_after).count() << " ms";
  std::lock_guard lock(signal.mutex());
  for (const StateChange& down : downs()) EXPECT_LE(down.reconnect_delay_ms, 1000u) << down.reason;
}

TEST(Client, AnInvalidTokenIsFinal) {
  ServerProcess server({}, {std::string("SWITCHBOARD_AUTH_HMAC_SECRET=") + kSecret});
  Signal signal;
  std::vector<ClientState> states;
  std::vector<ClientError> errors;
  ClientOptions options;
  options.token = "not.a.token";
  options.min_delay_ms = 50;
  options.on_state = [&](const StateChange& change) { signal.notify([&] { states.push_back(change.state); }); };
  options.on_error = [&](const ClientError& error) { signal.notify([&] { errors.push_back(error); }); };
  Client client(options);
  std::future<Result> queued = client.publish("news", "1");
  ASSERT_EQ(client.connect(server.url()), "");
  ASSERT_TRUE(signal.wait([&] { return !states.empty() && states.back() == ClientState::kClosed; }));
  EXPECT_EQ(queued.get().error().kind, ClientErrorKind::kClosed);
  // Several backoff periods: no new attempt (absence cannot be polled).
  std::this_thread::sleep_for(300ms);
  std::lock_guard lock(signal.mutex());
  EXPECT_EQ(states, (std::vector<ClientState>{ClientState::kConnecting, ClientState::kClosed}));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].kind, ClientErrorKind::kServer);
  EXPECT_EQ(errors[0].code, 120);
  EXPECT_EQ(errors.back().code, 4001);
}

TEST(Client, ADisconnectWithoutReconnectIsFinal) {
  ServerProcess server({"--insecure-user-query"}, {"SWITCHBOARD_API_KEY=client-test-api-key"});
  Signal signal;
  std::vector<StateChange> changes;
  ClientOptions options;
  options.min_delay_ms = 50;
  options.on_state = [&](const StateChange& change) { signal.notify([&] { changes.push_back(change); }); };
  Client client(options);
  ASSERT_EQ(client.connect(server.url("?user=mallory")), "");
  ASSERT_TRUE(client.wait_connected(kWaitMs));

  const std::string body = R"({"user":"mallory","reason":"banned","reconnect":false})";
  testing::RawClient http(server.port());
  const std::string answer = http.request(
      "POST /api/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: apikey client-test-api-key\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_NE(answer.find(" 200 "), std::string::npos) << answer;
  ASSERT_TRUE(signal.wait([&] { return !changes.empty() && changes.back().state == ClientState::kClosed; }));
  std::this_thread::sleep_for(300ms);  // several backoff periods: no reconnect (absence cannot be polled)
  std::lock_guard lock(signal.mutex());
  EXPECT_EQ(changes.back().state, ClientState::kClosed);
  EXPECT_EQ(changes.back().close_code, 4004);
  EXPECT_NE(changes.back().reason.find("banned"), std::string::npos) << changes.back().reason;
}

TEST(Client, TheProviderRefreshesAnExpiringToken) {
  ServerProcess server({}, {std::string("SWITCHBOARD_AUTH_HMAC_SECRET=") + kSecret, "SWITCHBOARD_AUTH_LEEWAY_S=0",
                            "SWITCHBOARD_AUTH_REFRESH_GRACE_MS=1000"});
  Signal signal;
  int provided = 0;
  std::vector<ClientState> states;
  ClientOptions options;
  options.token_provider = [&] {
    signal.notify([&] { ++provided; });
    // Expires within two or three seconds: enough for the upgrade on a
    // loaded machine (a token that expired by then is refused with 401).
    return token_for("ivy", 2);
  };
  options.on_state = [&](const StateChange& change) { signal.notify([&] { states.push_back(change.state); }); };
  Client client(options);
  ASSERT_EQ(client.connect(server.url()), "");
  ASSERT_TRUE(client.wait_connected(kWaitMs));
  // Each expiry asks for a refresh; the provider answers it, and the
  // connection stays (no 4002).
  ASSERT_TRUE(signal.wait([&] { return provided >= 3; }));
  ASSERT_TRUE(client.ping().get().ok());
  {
    std::lock_guard lock(signal.mutex());
    EXPECT_EQ(states, (std::vector<ClientState>{ClientState::kConnecting, ClientState::kConnected}));
  }

  // A static token has nobody to refresh it: 4002 is final.
  std::vector<StateChange> static_changes;
  ClientOptions fixed;
  fixed.token = token_for("ivy", 2);
  fixed.on_state = [&](const StateChange& change) { signal.notify([&] { static_changes.push_back(change); }); };
  Client once(fixed);
  ASSERT_EQ(once.connect(server.url()), "");
  ASSERT_TRUE(
      signal.wait([&] { return !static_changes.empty() && static_changes.back().state == ClientState::kClosed; }));
  std::lock_guard lock(signal.mutex());
  EXPECT_EQ(static_changes.back().close_code, 4002);
}

}  // namespace
}  // namespace switchboard
