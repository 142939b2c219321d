// The embedding API (include/switchboard/server.h) end to end: callbacks,
// send statuses and backpressure, close and terminate, upgrade hooks,
// routes, heartbeats, timeouts and the drain.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "integration/raw_client.h"
#include "switchboard/server.h"

namespace switchboard {
namespace {

using testing::RawClient;
using namespace std::chrono_literals;

// Records what the server reports, from the worker threads.
class RecordingHandler : public WebSocketHandler {
 public:
  UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) override {
    if (request.header("X-Reject") == "yes") return {401, "no token", {}};
    for (auto name : offered) {
      if (name == "chat.v2") return {0, {}, "chat.v2"};
    }
    return {};
  }
  void on_open(Connection& connection, const HttpRequest& request) override {
    std::lock_guard lock(mutex_);
    events_.push_back("open " + std::string(request.path) + " " + std::string(request.header("X-Test")));
    if (request.path == "/target") target_ = &connection;
    changed_.notify_all();
  }
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override {
    {
      std::lock_guard lock(mutex_);
      events_.push_back("message " + std::string(payload));
    }
    if (payload == "close-me") {
      connection.close(static_cast<CloseCode>(4000), "bye");
    } else if (payload == "terminate-me") {
      connection.terminate();
    } else if (payload == "flood-target" || payload == "flood-me") {
      // 64 MiB: pushed to another connection, or answering our own message.
      Connection& victim = payload == "flood-me" ? connection : *target_;
      std::string chunk(1 << 20, 'f');
      int accepted = 0, buffered = 0, dropped = 0;
      for (int i = 0; i < 64; ++i) {
        SendStatus status = victim.send_binary(chunk);
        accepted += status != SendStatus::kDropped;
        buffered += status == SendStatus::kBuffered;
        dropped += status == SendStatus::kDropped;
      }
      std::lock_guard lock(mutex_);
      flood_accepted_ = accepted;
      events_.push_back("flood buffered>0:" + std::to_string(buffered > 0) +
                        " dropped>0:" + std::to_string(dropped > 0));
    } else {
      connection.send(payload, opcode);
    }
    changed_.notify_all();
  }
  void on_close(Connection&, CloseCode code, std::string_view reason) override {
    std::lock_guard lock(mutex_);
    events_.push_back("close " + std::to_string(static_cast<int>(code)) + " " + std::string(reason));
    changed_.notify_all();
  }
  void on_drain(Connection&) override {
    std::lock_guard lock(mutex_);
    events_.push_back("drain");
    changed_.notify_all();
  }

  // Waits until an event starting with prefix was recorded.
  bool wait_for(const std::string& prefix, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& event : events_) {
        if (event.starts_with(prefix)) return true;
      }
      return false;
    });
  }
  int flood_accepted() {
    std::lock_guard lock(mutex_);
    return flood_accepted_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
  Connection* target_ = nullptr;  // the connection opened on /target
  int flood_accepted_ = 0;
};

class ServerApiTest : public ::testing::Test {
 protected:
  void start(ServerConfig config = {}) {
    config.host = "127.0.0.1";
    config.port = 0;
    if (config.workers == 0) config.workers = 2;
    config.handle_signals = HandleSignals::kNo;
    server_ = std::make_unique<Server>(config, handler_);
    server_->route("GET", "/hello", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", "hello " + std::string(request.header("X-Name"))};
    });
    server_->start();
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
    }
  }
  std::uint16_t port() const { return server_->port(); }

  RecordingHandler handler_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerApiTest, OpenMessageAndPeerInitiatedClose) {
  start();
  RawClient client(port());
  std::string head = client.upgrade("/room?x=1", {"X-Test: yes"});
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101"));
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
  ASSERT_TRUE(handler_.wait_for("open /room yes"));
  client.send_frame(Opcode::kText, "hi");
  auto echo = client.read_frame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->opcode, Opcode::kText);
  EXPECT_EQ(echo->payload, "hi");
  client.send_close(1000, "done");
  auto close = client.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code, 1000);
  EXPECT_TRUE(client.wait_for_eof());
  EXPECT_TRUE(handler_.wait_for("close 1000 done"));
}

TEST_F(ServerApiTest, ServerInitiatedCloseWaitsForThePeersClose) {
  start();
  RawClient client(port());
  client.upgrade();
  client.send_frame(Opcode::kText, "close-me");
  auto close = client.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code, 4000);
  EXPECT_EQ(close->payload, "bye");
  client.send_close(4000, "");
  EXPECT_TRUE(client.wait_for_eof());
  EXPECT_TRUE(handler_.wait_for("close 4000"));
}

TEST_F(ServerApiTest, CloseTimeoutDropsAPeerThatNeverAnswers) {
  ServerConfig config;
  config.close_timeout_ms = 200;
  start(config);
  RawClient client(port());
  client.upgrade();
  client.send_frame(Opcode::kText, "close-me");
  ASSERT_TRUE(client.read_frame());
  EXPECT_TRUE(client.wait_for_eof());  // no answer from us: the server gives up
  EXPECT_TRUE(handler_.wait_for("close 1006"));
}

TEST_F(ServerApiTest, TerminateDropsTcpWithoutACloseFrame) {
  start();
  RawClient client(port());
  client.upgrade();
  client.send_frame(Opcode::kText, "terminate-me");
  EXPECT_FALSE(client.read_frame());
  EXPECT_TRUE(handler_.wait_for("close 1006 terminated"));
}

TEST_F(ServerApiTest, PushedSendsAreBufferedThenDroppedAndDrainFires) {
  ServerConfig config;
  config.workers = 1;  // the pusher's handler may touch the target: same thread
  config.max_buffered_bytes = 8u << 20;
  start(config);
  RawClient target(port(), 20000);
  target.upgrade("/target");
  RawClient pusher(port());
  pusher.upgrade();
  ASSERT_TRUE(handler_.wait_for("open /target"));
  pusher.send_frame(Opcode::kText, "flood-target");  // 64 MiB at a client that is not reading yet
  EXPECT_TRUE(handler_.wait_for("flood buffered>0:1 dropped>0:1"));
  // Now read: every accepted message arrives whole, then on_drain fires.
  int accepted = handler_.flood_accepted();
  EXPECT_GE(accepted, 8);
  EXPECT_LT(accepted, 64);
  for (int i = 0; i < accepted; ++i) {
    auto frame = target.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->payload.size(), 1u << 20);
  }
  EXPECT_TRUE(handler_.wait_for("drain"));
}

TEST_F(ServerApiTest, AnswersToOwnInputAreNeverDropped) {
  ServerConfig config;
  config.max_buffered_bytes = 1u << 20;
  start(config);
  RawClient client(port(), 20000);
  client.upgrade();
  client.send_frame(Opcode::kText, "flood-me");
  EXPECT_TRUE(handler_.wait_for("flood buffered>0:1 dropped>0:0"));
  for (int i = 0; i < 64; ++i) {
    auto frame = client.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->payload.size(), 1u << 20);
  }
}

TEST_F(ServerApiTest, UpgradeHookRejectsAndPicksSubprotocol) {
  start();
  {
    RawClient client(port());
    std::string head = client.upgrade("/", {"X-Reject: yes"});
    EXPECT_TRUE(head.starts_with("HTTP/1.1 401"));
  }
  RawClient client(port());
  std::string head = client.upgrade("/", {"Sec-WebSocket-Protocol: chat.v1, chat.v2"});
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101"));
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: chat.v2\r\n"), std::string::npos);
}

TEST_F(ServerApiTest, OriginAllowList) {
  ServerConfig config;
  config.allowed_origins = {"https://good.example"};
  start(config);
  {
    RawClient client(port());
    EXPECT_TRUE(client.upgrade("/", {"Origin: https://evil.example"}).starts_with("HTTP/1.1 403"));
  }
  RawClient client(port());
  EXPECT_TRUE(client.upgrade("/", {"Origin: https://good.example"}).starts_with("HTTP/1.1 101"));
}

TEST_F(ServerApiTest, RoutesAnswerWith200And404And405AndHead) {
  start();
  {
    RawClient client(port());
    std::string answer = client.request("GET /hello HTTP/1.1\r\nHost: x\r\nX-Name: ada\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
    EXPECT_TRUE(answer.ends_with("\r\n\r\nhello ada"));
  }
  {
    RawClient client(port());
    std::string answer = client.request("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
    EXPECT_TRUE(answer.ends_with("\r\n\r\n"));
  }
  {
    RawClient client(port());
    EXPECT_TRUE(client.request("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 404"));
  }
  {
    RawClient client(port());
    std::string answer = client.request("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 405"));
    EXPECT_NE(answer.find("Allow: GET"), std::string::npos);
  }
  {
    RawClient client(port());
    EXPECT_TRUE(client.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 200"));
  }
}

TEST_F(ServerApiTest, HeartbeatDropsAPeerThatNeverAnswersPings) {
  ServerConfig config;
  config.ping_interval_ms = 100;
  config.missed_pongs_allowed = 2;
  start(config);
  RawClient silent(port());
  silent.upgrade();
  RawClient polite(port());
  polite.upgrade();
  // The polite client answers every ping; the silent one never does.
  auto deadline = std::chrono::steady_clock::now() + 1500ms;
  int pings = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = polite.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->opcode, Opcode::kPing);
    polite.send_frame(Opcode::kPong, frame->payload);
    ++pings;
  }
  EXPECT_GE(pings, 5);
  EXPECT_TRUE(silent.wait_for_eof());
  EXPECT_TRUE(handler_.wait_for("close 1006 ping timeout"));
  polite.send_frame(Opcode::kText, "still here");
  std::optional<testing::Frame> frame;
  do {
    frame = polite.read_frame();
  } while (frame && frame->opcode == Opcode::kPing);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "still here");
}

TEST_F(ServerApiTest, HandshakeTimeoutAnswers408AndCloses) {
  ServerConfig config;
  config.handshake_timeout_ms = 150;
  start(config);
  RawClient client(port());
  std::string answer = client.request("GET / HTTP/1.1\r\n");  // never finishes its head
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408"));
}

TEST_F(ServerApiTest, StopClosesEveryConnectionWith1001) {
  start();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(clients.back()->upgrade().starts_with("HTTP/1.1 101"));
  }
  std::thread stopper([&] {
    server_->stop();
    server_->wait();
  });
  for (auto& client : clients) {
    auto close = client->read_frame();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->close_code, 1001);
    client->send_close(1001, "");
  }
  stopper.join();
  server_.reset();
  for (auto& client : clients) EXPECT_TRUE(client->wait_for_eof());
}

}  // namespace
}  // namespace switchboard
