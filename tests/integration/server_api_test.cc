// The embedding API (include/switchboard/server.h) end to end: callbacks,
// send statuses and backpressure, close and terminate, upgrade hooks,
// routes (request bodies, response headers, async answers), heartbeats,
// timeouts and the drain.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <any>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
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
    if (std::string_view state = request.header("X-State"); !state.empty()) {
      UpgradeDecision decision;
      decision.state = std::string(state);
      return decision;
    }
    for (auto name : offered) {
      if (name == "chat.v2") return {0, {}, "chat.v2"};
    }
    return {};
  }
  void on_open(Connection& connection, const HttpRequest& request) override {
    std::lock_guard lock(mutex_);
    events_.push_back("open " + std::string(request.path) + " " + std::string(request.header("X-Test")));
    const std::string* state =
        request.upgrade_state != nullptr ? std::any_cast<std::string>(request.upgrade_state) : nullptr;
    events_.push_back("upgrade-state " + (state != nullptr ? *state : std::string("none")));
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
    } else if (payload == "flood-target-then-close") {
      flood(*target_);
      target_->close(static_cast<CloseCode>(4000), "bye");
      const SendStatus late = target_->send_binary("late");
      std::lock_guard lock(mutex_);
      events_.push_back(late == SendStatus::kDropped ? "after close: dropped" : "after close: accepted");
    } else if (payload == "flood-target" || payload == "flood-me") {
      // Pushed to another connection, or answering our own message.
      flood(payload == "flood-me" ? connection : *target_);
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
  PingReply on_ping(Connection&, std::string_view payload) override {
    std::lock_guard lock(mutex_);
    events_.push_back("ping " + std::string(payload));
    changed_.notify_all();
    return payload == "refuse" ? PingReply::kIgnore : PingReply::kPong;
  }
  void on_drain(Connection&) override {
    std::lock_guard lock(mutex_);
    events_.push_back("drain");
    changed_.notify_all();
  }

  // 64 MiB in 1 MiB messages; records how many were accepted.
  void flood(Connection& victim) {
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
    events_.push_back("flood buffered>0:" + std::to_string(buffered > 0) + " dropped>0:" + std::to_string(dropped > 0));
  }

  // Waits until an event starting with prefix was recorded.
  bool wait_for(const std::string& prefix, std::chrono::milliseconds timeout = 15s) {
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
  // add_routes runs before start(), after the fixture's own /hello.
  void start(ServerConfig config = {}, const std::function<void(Server&)>& add_routes = {}) {
    config.host = "127.0.0.1";
    config.port = 0;
    if (config.workers == 0) config.workers = 2;
    config.handle_signals = HandleSignals::kNo;
    server_ = std::make_unique<Server>(config, handler_);
    server_->route("GET", "/hello", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", "hello " + std::string(request.header("X-Name"))};
    });
    if (add_routes) add_routes(*server_);
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
  // The handler learns the code the server sent, not 1006: the server
  // ended it, for the reason it gave.
  EXPECT_TRUE(handler_.wait_for("close 4000 close handshake timed out"));
}

TEST_F(ServerApiTest, ACloseWithAFullQueueComesAfterItAndTheQueueTakesNoMoreData) {
  ServerConfig config;
  config.workers = 1;  // the pusher's handler touches the target: same thread
  config.max_buffered_bytes = 4u << 20;
  start(config);
  RawClient target(port(), 20000);
  target.upgrade("/target");
  RawClient pusher(port());
  pusher.upgrade();
  ASSERT_TRUE(handler_.wait_for("open /target"));
  pusher.send_frame(Opcode::kText, "flood-target-then-close");
  ASSERT_TRUE(handler_.wait_for("flood buffered>0:1 dropped>0:1"));
  EXPECT_TRUE(handler_.wait_for("after close: dropped"));
  // Every accepted message whole, then the close: nothing cut, nothing after.
  const int accepted = handler_.flood_accepted();
  for (int i = 0; i < accepted; ++i) {
    auto frame = target.read_frame();
    ASSERT_TRUE(frame) << i;
    ASSERT_EQ(frame->opcode, Opcode::kBinary);
    ASSERT_EQ(frame->payload.size(), 1u << 20);
  }
  auto close = target.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code, 4000);
  EXPECT_EQ(close->payload, "bye");
  target.send_close(4000, "");
  EXPECT_TRUE(target.wait_for_eof());
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

TEST_F(ServerApiTest, WhatOnUpgradeDecidedReachesOnOpen) {
  start();
  RawClient alice(port());
  EXPECT_TRUE(alice.upgrade("/", {"X-State: alice"}).starts_with("HTTP/1.1 101"));
  EXPECT_TRUE(handler_.wait_for("upgrade-state alice"));
  RawClient nobody(port());
  EXPECT_TRUE(nobody.upgrade("/").starts_with("HTTP/1.1 101"));
  EXPECT_TRUE(handler_.wait_for("upgrade-state none"));
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

TEST_F(ServerApiTest, AnotherServerOnTheSamePortIsRefusedAndTheFirstKeepsServing) {
  start();
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = port();
  config.workers = 2;
  config.handle_signals = HandleSignals::kNo;
  RecordingHandler other_handler;
  Server other(config, other_handler);
  try {
    other.start();
    FAIL() << "a second server started on port " << port();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(port())), std::string::npos) << error.what();
  }
  for (int i = 0; i < 8; ++i) {
    RawClient client(port());
    EXPECT_TRUE(client.request("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 200"));
  }
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

TEST_F(ServerApiTest, PingHookMayLeaveAPingUnanswered) {
  start();
  RawClient client(port());
  client.upgrade();
  client.send_frame(Opcode::kPing, "refuse");
  client.send_frame(Opcode::kPing, "answer");
  auto frame = client.read_frame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, Opcode::kPong);
  EXPECT_EQ(frame->payload, "answer");  // the refused ping got nothing
  EXPECT_TRUE(handler_.wait_for("ping refuse"));
  EXPECT_TRUE(handler_.wait_for("ping answer"));
}

TEST_F(ServerApiTest, FragmentedMessageNotFinishedInTimeGets1008) {
  ServerConfig config;
  config.fragment_timeout_ms = 300;
  start(config);
  RawClient client(port());
  client.upgrade();
  // Fragments and the pongs between them keep the heartbeat happy; the
  // message itself never ends.
  client.send_frame(Opcode::kText, "never", Fin::kNo);
  client.send_frame(Opcode::kContinuation, " finished", Fin::kNo);
  client.send_frame(Opcode::kPong, "");
  auto close = client.read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->close_code, 1008);
  EXPECT_EQ(close->payload, "message not finished in time");
  EXPECT_TRUE(client.wait_for_eof());
  EXPECT_TRUE(handler_.wait_for("close 1008 message not finished in time"));
}

TEST_F(ServerApiTest, FragmentedMessagesFinishedInTimeAreDeliveredAndTheHeartbeatGoesOn) {
  ServerConfig config;
  config.fragment_timeout_ms = 1000;
  config.ping_interval_ms = 200;
  start(config);
  RawClient client(port());
  client.upgrade();
  // Message after message, each finished well within its deadline, for
  // longer than one deadline: the deadline is per message, none is cut.
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; std::chrono::steady_clock::now() - started < 1500ms; ++i) {
    const std::string first = "message " + std::to_string(i);
    client.send_frame(Opcode::kText, first, Fin::kNo);
    std::this_thread::sleep_for(50ms);  // the message takes its time: pacing under test
    client.send_frame(Opcode::kContinuation, " end");
    std::optional<testing::Frame> frame;
    while ((frame = client.read_frame()) && frame->opcode == Opcode::kPing) client.send_frame(Opcode::kPong, "");
    ASSERT_TRUE(frame) << "message " << i;
    ASSERT_EQ(frame->opcode, Opcode::kText);
    EXPECT_EQ(frame->payload, first + " end");
  }
  // The deadline held the heartbeat back; once it passes, pings resume.
  for (int pings = 0; pings < 2; ++pings) {
    auto frame = client.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->opcode, Opcode::kPing);
    client.send_frame(Opcode::kPong, "");
  }
  client.send_frame(Opcode::kText, "whole");
  std::optional<testing::Frame> frame;
  while ((frame = client.read_frame()) && frame->opcode == Opcode::kPing) client.send_frame(Opcode::kPong, "");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "whole");
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

// ---- Plain HTTP: request bodies, response headers, async routes ----

// The body of a whole HTTP answer (after the empty line).
std::string body_of(const std::string& answer) {
  std::size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : answer.substr(end + 4);
}

// A bare blocking TCP client for what RawClient does not do: read an exact
// number of bytes (an interim answer), or vanish with a reset.
class PlainSocket {
 public:
  explicit PlainSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~PlainSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  PlainSocket(const PlainSocket&) = delete;
  PlainSocket& operator=(const PlainSocket&) = delete;

  bool connected() const { return connected_; }
  void send(std::string_view bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Exactly size bytes, or fewer on EOF or timeout.
  std::string receive(std::size_t size) {
    std::string out(size, '\0');
    std::size_t got = 0;
    while (got < size) {
      ssize_t n = ::recv(fd_, out.data() + got, size - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
  }
  // Everything until the server closes.
  std::string receive_all() {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0) out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }
  // Closes with RST (SO_LINGER 0): gone without a goodbye.
  void reset() {
    linger abort_on_close{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string post(std::string_view path, std::string_view body, std::string_view extra_headers = "") {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Echoes the body back, with its size and the request's Content-Type.
void add_echo(Server& server) {
  server.route("POST", "/echo", [](const HttpRequest& request) {
    return HttpResponse{200,
                        std::string(request.header("Content-Type")),
                        std::string(request.body),
                        {{"X-Body-Size", std::to_string(request.body.size())}}};
  });
}

TEST_F(ServerApiTest, PostBodyIsEchoedByARoute) {
  start({}, add_echo);
  RawClient client(port());
  const std::string json = R"({"channel":"news","data":{"text":"h\u00e9llo"}})";
  std::string answer = client.request(post("/echo", json));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(answer.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(answer.find("\r\nX-Body-Size: " + std::to_string(json.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(body_of(answer), json);
}

TEST_F(ServerApiTest, BodyAtTheLimitAndEmptyBodies) {
  ServerConfig config;
  config.max_body_size = 100'000;
  start(config, add_echo);
  {
    RawClient client(port());
    const std::string big(100'000, 'b');
    EXPECT_EQ(body_of(client.request(post("/echo", big))), big);
  }
  {
    RawClient client(port());
    std::string answer = client.request("POST /echo HTTP/1.1\r\nHost: x\r\n\r\n");  // no Content-Length: no body
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
    EXPECT_NE(answer.find("X-Body-Size: 0\r\n"), std::string::npos);
  }
}

TEST_F(ServerApiTest, BodySplitAcrossWritesWithPauses) {
  start({}, add_echo);
  RawClient client(port());
  const std::string body = R"({"pieces":["one","two","three","four"]})";
  const std::string whole = post("/echo", body);
  const std::size_t head = whole.size() - body.size();
  // Head alone, then its last bytes with the body's start, then the body a
  // few bytes at a time, pausing so each lands in a read of its own.
  client.send_raw(whole.substr(0, head - 3));
  std::this_thread::sleep_for(30ms);  // pacing the pieces, the test's point
  client.send_raw(whole.substr(head - 3, 6));
  for (std::size_t offset = head + 3; offset < whole.size(); offset += 7) {
    std::this_thread::sleep_for(20ms);  // pacing the pieces
    client.send_raw(whole.substr(offset, 7));
  }
  std::string answer = client.request("");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(answer), body);
}

TEST_F(ServerApiTest, ExpectContinueGets100ThenTheAnswer) {
  start({}, add_echo);
  PlainSocket client(port());
  client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_EQ(client.receive(interim.size()), interim);  // before any body byte
  client.send("ok");
  std::string answer = client.receive_all();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(answer), "ok");
}

TEST_F(ServerApiTest, TooLargeContentLengthGets413WithoutSendingTheBody) {
  ServerConfig config;
  config.max_body_size = 1024;
  start(config, add_echo);
  RawClient client(port());
  // Only the head: the answer must not wait for 1 MB that never comes.
  const auto before = std::chrono::steady_clock::now();
  std::string answer = client.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 Content Too Large\r\n"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);  // no timeout involved
}

TEST_F(ServerApiTest, BadOrConflictingContentLengthGets400) {
  start({}, add_echo);
  for (const char* lengths : {"Content-Length: abc\r\n", "Content-Length: -1\r\n", "Content-Length: 1, 1\r\n",
                              "Content-Length: 2\r\nContent-Length: 3\r\n"}) {
    SCOPED_TRACE(lengths);
    RawClient client(port());
    std::string answer = client.request("POST /echo HTTP/1.1\r\nHost: x\r\n" + std::string(lengths) + "\r\nabc");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  }
  // Repeated but agreeing is one length (RFC 9110 §8.6).
  RawClient client(port());
  std::string answer =
      client.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(answer), "ok");
}

TEST_F(ServerApiTest, TransferEncodingGets501) {
  start({}, add_echo);
  RawClient client(port());
  std::string answer =
      client.request("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 501 Not Implemented\r\n"));
  EXPECT_NE(body_of(answer).find("chunked"), std::string::npos);
}

TEST_F(ServerApiTest, UpgradeWithABodyGets400) {
  start();
  RawClient client(port());
  std::string head = client.upgrade("/", {"Content-Length: 5"});
  EXPECT_TRUE(head.starts_with("HTTP/1.1 400"));
}

TEST_F(ServerApiTest, HandshakeTimeoutCoversTheBody) {
  ServerConfig config;
  config.handshake_timeout_ms = 200;
  start(config, add_echo);
  RawClient client(port());
  std::string answer = client.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nonly5");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408"));
}

TEST_F(ServerApiTest, ResponseHeadersAreSent) {
  start({}, [](Server& server) {
    server.route("GET", "/limited", [](const HttpRequest&) {
      return HttpResponse{429,
                          "text/plain",
                          "slow down\n",
                          {{"Retry-After", "30"},
                           {"WWW-Authenticate", R"(Bearer realm="api", error="invalid_token")"},
                           {"Cache-Control", "no-store"}}};
    });
  });
  RawClient client(port());
  std::string answer = client.request("GET /limited HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
  EXPECT_NE(answer.find("\r\nRetry-After: 30\r\n"), std::string::npos);
  EXPECT_NE(answer.find("\r\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\r\n"), std::string::npos);
  EXPECT_NE(answer.find("\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(body_of(answer), "slow down\n");
}

TEST_F(ServerApiTest, CrLfInAResponseHeaderGives500) {
  start({}, [](Server& server) {
    server.route("GET", "/split", [](const HttpRequest& request) {
      // A value taken from the request: the classic response-splitting bug.
      return HttpResponse{200,
                          "text/plain",
                          "x",
                          {{"Location", "/next\r\nSet-Cookie: session=" + std::string(request.header("X-Id"))}}};
    });
    server.route("GET", "/split-name", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain", "x", {{"X-A\r\nX-B", "1"}}};
    });
  });
  for (const char* path : {"/split", "/split-name"}) {
    SCOPED_TRACE(path);
    RawClient client(port());
    std::string answer = client.request("GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nX-Id: evil\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 500"));
    EXPECT_EQ(answer.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(answer.find("X-B"), std::string::npos);
  }
}

TEST_F(ServerApiTest, RoutesCannotBeRegisteredTwiceOrAfterStart) {
  start({}, [](Server& server) {
    server.route_async("POST", "/api", [](const HttpRequest&, HttpResponder) {});
    EXPECT_THROW(server.route("POST", "/api", [](const HttpRequest&) { return HttpResponse{}; }), std::logic_error);
    EXPECT_THROW(server.route_async("POST", "/api", [](const HttpRequest&, HttpResponder) {}), std::logic_error);
    EXPECT_THROW(server.route("GET", "/hello", [](const HttpRequest&) { return HttpResponse{}; }), std::logic_error);
    // The built-in health check gives way to the embedder's.
    server.route("GET", "/healthz", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "mine"}; });
  });
  EXPECT_THROW(server_->route("GET", "/late", [](const HttpRequest&) { return HttpResponse{}; }), std::logic_error);
  EXPECT_THROW(server_->route_async("GET", "/late", [](const HttpRequest&, HttpResponder) {}), std::logic_error);
  RawClient client(port());
  EXPECT_EQ(body_of(client.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), "mine");
}

// One plain request on its own connection (every answer closes it).
std::string ask(std::uint16_t port, std::string_view raw) {
  RawClient client(port);
  return client.request(raw);
}

constexpr std::string_view kGetHealthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(ServerApiTest, HealthChecksAreAnsweredPastThePerAddressCap) {
  ServerConfig config;
  config.max_connections_per_address = 2;
  start(config, [](Server& server) {
    server.health_route("/ready", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "ready"}; });
  });
  RawClient first(port());
  RawClient second(port());
  ASSERT_TRUE(first.upgrade().starts_with("HTTP/1.1 101"));
  ASSERT_TRUE(second.upgrade().starts_with("HTTP/1.1 101"));
  // The address is at its cap: another WebSocket, or another route, is refused...
  RawClient third(port());
  EXPECT_TRUE(third.upgrade().starts_with("HTTP/1.1 429"));
  EXPECT_TRUE(ask(port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 429"));
  // ...but a health check is answered: the built-in one and the embedder's.
  EXPECT_TRUE(ask(port(), kGetHealthz).starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(ask(port(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(ask(port(), "GET /ready?from=lb HTTP/1.1\r\nHost: x\r\n\r\n")), "ready");
  // Only a plain GET: not an upgrade on a health path, another method, or a body.
  RawClient sneaky(port());
  EXPECT_TRUE(sneaky.upgrade("/healthz").starts_with("HTTP/1.1 429"));
  EXPECT_TRUE(
      ask(port(), "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").starts_with("HTTP/1.1 429"));
  EXPECT_TRUE(
      ask(port(), "GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").starts_with("HTTP/1.1 429"));
  // The refusals counted are the ones answered 429.
  EXPECT_EQ(server_->stats().refused_per_address, 5u);
}

TEST_F(ServerApiTest, HealthChecksAreAnsweredPastTheNewConnectionRate) {
  ServerConfig config;
  config.workers = 1;
  config.max_new_connections_per_s = 1;  // one now, then one a second
  start(config);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(ask(port(), kGetHealthz).starts_with("HTTP/1.1 200")) << i;
  // WebSockets are still held to the rate.
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    RawClient client(port());
    admitted += client.upgrade().starts_with("HTTP/1.1 101");
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  EXPECT_LE(admitted, 1 + seconds.count());
  EXPECT_GE(server_->stats().refused_new_connections, static_cast<std::uint64_t>(10 - admitted));
}

TEST_F(ServerApiTest, HealthChecksHoldNoPerAddressSlot) {
  ServerConfig config;
  config.max_connections_per_address = 1;
  start(config);
  // Answered, and still open on our side (the server lingers for our FIN).
  RawClient probe(port());
  ASSERT_TRUE(probe.request(kGetHealthz).starts_with("HTTP/1.1 200"));
  RawClient client(port());
  EXPECT_TRUE(client.upgrade().starts_with("HTTP/1.1 101"));
}

TEST_F(ServerApiTest, HealthChecksThroughATrustedProxyAreAnsweredPastTheCap) {
  ServerConfig config;
  config.max_connections_per_address = 1;
  config.trusted_proxies = {"127.0.0.1"};
  start(config);
  RawClient ann(port());
  ASSERT_TRUE(ann.upgrade("/", {"X-Forwarded-For: 198.51.100.1"}).starts_with("HTTP/1.1 101"));
  RawClient again(port());
  EXPECT_TRUE(again.upgrade("/", {"X-Forwarded-For: 198.51.100.1"}).starts_with("HTTP/1.1 429"));
  EXPECT_TRUE(ask(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n")
                  .starts_with("HTTP/1.1 200"));
  // The proxy's own probes (no X-Forwarded-For) take none of its slot either.
  RawClient probe(port());
  ASSERT_TRUE(probe.request(kGetHealthz).starts_with("HTTP/1.1 200"));
  RawClient proxy_itself(port());
  EXPECT_TRUE(proxy_itself.upgrade().starts_with("HTTP/1.1 101"));
}

// Hands the responders of an async route to the test thread.
class ResponderQueue {
 public:
  AsyncRouteHandler handler() {
    return [this](const HttpRequest& request, HttpResponder responder) {
      std::lock_guard lock(mutex_);
      // The request's views die with the call: keep copies.
      waiting_.push_back({std::string(request.method), std::string(request.body), std::move(responder)});
      changed_.notify_all();
    };
  }
  struct Waiting {
    std::string method;
    std::string body;
    HttpResponder responder;
  };
  std::optional<Waiting> next(std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return !waiting_.empty(); })) return std::nullopt;
    Waiting waiting = std::move(waiting_.front());
    waiting_.pop_front();
    return waiting;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Waiting> waiting_;
};

TEST_F(ServerApiTest, AsyncRouteAnsweredFromAnotherThreadLater) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  std::chrono::steady_clock::duration waited{};
  std::thread answerer([&] {
    std::optional<ResponderQueue::Waiting> job = queue.next();
    ASSERT_TRUE(job);
    EXPECT_EQ(job->body, R"({"job":1})");
    const auto before = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(50ms);  // answering later is the test
    job->responder.respond(
        HttpResponse{202, "application/json", R"({"accepted":)" + job->body + "}", {{"Location", "/jobs/1"}}});
    job->responder.respond(HttpResponse{500, "text/plain", "ignored", {}});  // once only
    waited = std::chrono::steady_clock::now() - before;
  });
  RawClient client(port());
  const auto before = std::chrono::steady_clock::now();
  std::string answer = client.request(post("/jobs", R"({"job":1})"));
  const auto elapsed = std::chrono::steady_clock::now() - before;
  answerer.join();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 202 Accepted\r\n"));
  EXPECT_NE(answer.find("\r\nLocation: /jobs/1\r\n"), std::string::npos);
  EXPECT_EQ(body_of(answer), R"({"accepted":{"job":1}})");
  EXPECT_GE(elapsed, 50ms);
  EXPECT_GE(waited, 50ms);
}

TEST_F(ServerApiTest, AsyncRouteAnsweredInsideTheHandler) {
  start({}, [](Server& server) {
    server.route_async("GET", "/now", [](const HttpRequest& request, HttpResponder responder) {
      responder.respond(HttpResponse{200, "text/plain", "now " + std::string(request.header("X-Name")), {}});
    });
  });
  RawClient client(port());
  std::string answer = client.request("GET /now HTTP/1.1\r\nHost: x\r\nX-Name: ada\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(answer), "now ada");
}

TEST_F(ServerApiTest, AsyncRoutesGetHead404And405LikeSyncOnes) {
  start({}, [](Server& server) {
    server.route_async("GET", "/doc", [](const HttpRequest&, HttpResponder responder) {
      std::thread([responder] {
        responder.respond(HttpResponse{200, "text/plain", "document", {{"ETag", "\"1\""}}});
      }).join();
    });
    server.route_async("PUT", "/doc", [](const HttpRequest&, HttpResponder responder) { responder.respond({}); });
  });
  {
    RawClient client(port());
    std::string answer = client.request("HEAD /doc HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
    EXPECT_NE(answer.find("\r\nContent-Length: 8\r\n"), std::string::npos);
    EXPECT_NE(answer.find("\r\nETag: \"1\"\r\n"), std::string::npos);
    EXPECT_TRUE(answer.ends_with("\r\n\r\n"));
  }
  {
    RawClient client(port());
    std::string answer = client.request(post("/doc", "{}"));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 405"));
    EXPECT_NE(answer.find("\r\nAllow: GET, PUT\r\n"), std::string::npos);
  }
  {
    RawClient client(port());
    EXPECT_TRUE(client.request("GET /doc/ HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 404"));
  }
}

TEST_F(ServerApiTest, AsyncRouteThatNeverAnswersGets504) {
  ServerConfig config;
  config.route_timeout_ms = 300;
  config.handshake_timeout_ms = 100;  // the route's deadline replaces it
  ResponderQueue queue;
  start(config, [&](Server& server) { server.route_async("POST", "/slow", queue.handler()); });
  RawClient client(port());
  const auto before = std::chrono::steady_clock::now();
  std::string answer = client.request(post("/slow", "{}"));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 504"));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 250ms);
  std::optional<ResponderQueue::Waiting> job = queue.next();
  ASSERT_TRUE(job);
  job->responder.respond(HttpResponse{200, "text/plain", "too late", {}});  // dropped
  RawClient again(port());
  EXPECT_TRUE(again.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 200"));
}

// Waits until the server counts `count` connections (they close a little
// after their answer: linger).
bool wait_for_connections(const Server& server, std::size_t count, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (server.connection_count() != count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);  // pacing the poll
  }
  return true;
}

TEST_F(ServerApiTest, AsyncRouteWhoseClientResetsBeforeTheAnswer) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  PlainSocket client(port());
  ASSERT_TRUE(client.connected());
  client.send(post("/jobs", "1"));
  std::optional<ResponderQueue::Waiting> job = queue.next();
  ASSERT_TRUE(job);
  client.reset();
  // Not read while waiting, but a reset still wakes the connection: it is
  // freed before the answer, which then finds nobody.
  EXPECT_TRUE(wait_for_connections(*server_, 0));
  std::thread([&] { job->responder.respond(HttpResponse{200, "text/plain", "for nobody", {}}); }).join();
  PlainSocket next(port());
  next.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(next.receive_all().starts_with("HTTP/1.1 200"));
}

TEST_F(ServerApiTest, AsyncRouteWhoseClientClosesBeforeTheAnswer) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  std::optional<ResponderQueue::Waiting> job;
  {
    PlainSocket client(port());
    client.send(post("/jobs", "2"));
    job = queue.next();
    ASSERT_TRUE(job);
  }                                   // FIN: a half-closed client may still read, so the request still waits
  std::this_thread::sleep_for(20ms);  // room for a wrong early close: absence cannot be polled
  EXPECT_EQ(server_->connection_count(), 1u);
  std::thread([&] { job->responder.respond(HttpResponse{200, "text/plain", "for nobody", {}}); }).join();
  EXPECT_TRUE(wait_for_connections(*server_, 0));  // written, refused by the peer (RST), closed
}

TEST_F(ServerApiTest, StopLetsAWaitingAsyncRequestFinish) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  std::string answer;
  std::thread client_thread([&] {
    RawClient client(port());
    answer = client.request(post("/jobs", "3"));
  });
  std::optional<ResponderQueue::Waiting> job = queue.next();
  ASSERT_TRUE(job);
  server_->stop();                    // the drain waits for the answer (up to drain_timeout_ms)
  std::this_thread::sleep_for(50ms);  // answering after the stop began is the test
  std::thread([&] { job->responder.respond(HttpResponse{200, "text/plain", "finished", {}}); }).join();
  client_thread.join();
  server_->wait();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(answer), "finished");
}

TEST_F(ServerApiTest, AsyncAnswerAfterTheServerIsDestroyed) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  std::string answer;
  std::thread client_thread([&] {
    RawClient client(port());
    answer = client.request(post("/jobs", "4"));
  });
  std::optional<ResponderQueue::Waiting> job = queue.next();
  ASSERT_TRUE(job);
  const auto before = std::chrono::steady_clock::now();
  server_.reset();  // no stop() first: the waiting request can get no answer now
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);  // no drain deadline wait (10 s)
  client_thread.join();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503"));
  // The responder outlives the server: answering is a no-op, from any thread.
  HttpResponder copy = job->responder;
  std::thread([copy] { copy.respond(HttpResponse{200, "text/plain", "too late", {}}); }).join();
  job->responder.respond(HttpResponse{200, "text/plain", "too late", {}});
}

TEST_F(ServerApiTest, ManyAsyncRequestsAnsweredFromManyThreads) {
  ResponderQueue queue;
  start({}, [&](Server& server) { server.route_async("POST", "/jobs", queue.handler()); });
  constexpr int kClients = 16;
  std::vector<std::string> answers(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      RawClient client(port());
      answers[i] = client.request(post("/jobs", std::to_string(i)));
    });
  }
  std::vector<std::thread> answerers;
  for (int i = 0; i < kClients; ++i) {
    std::optional<ResponderQueue::Waiting> job = queue.next();
    if (!job) {
      ADD_FAILURE() << "only " << i << " requests reached the route";
      break;  // the clients time out; join them all the same
    }
    answerers.emplace_back([job = std::move(*job)] {
      // Answers out of order, on purpose.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(job.body) % 5));
      job.responder.respond(HttpResponse{200, "text/plain", "job " + job.body, {}});
    });
  }
  for (auto& thread : answerers) thread.join();
  for (auto& thread : clients) thread.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(body_of(answers[i]), "job " + std::to_string(i));
}

}  // namespace
}  // namespace switchboard
