// The Hub's C++ API end to end over loopback: rpc handlers (answered at
// once, later from another thread, failing, throwing, never, with bad JSON,
// many in flight), the authenticator, the subprotocol requirement, stats that
// return to zero, and publish / send_to_user from outside the workers.
#include <simdjson.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/raw_client.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard {
namespace {

using testing::RawClient;
using namespace std::chrono_literals;

const std::vector<std::string> kProtocolHeader{"Sec-WebSocket-Protocol: switchboard.v1.json"};

class HubApiTest : public ::testing::Test {
 protected:
  void start(HubConfig config = {}) {
    hub_ = std::make_unique<Hub>(std::move(config));
    for (auto& [method, handler] : handlers_) hub_->on_rpc(method, handler);
    hub_->set_authenticator([](const HttpRequest& request) -> std::optional<Principal> {
      if (request.header("X-Deny") == "yes") return std::nullopt;
      Principal principal;
      principal.user = std::string(request.header("X-User"));
      return principal;
    });
    ServerConfig server_config;
    server_config.host = "127.0.0.1";
    server_config.port = 0;
    server_config.workers = 2;
    server_config.handle_signals = HandleSignals::kNo;
    server_config.max_buffered_bytes = max_buffered_bytes_;
    server_ = std::make_unique<Server>(server_config, *hub_);
    server_->start();
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
      server_.reset();
    }
    for (std::thread& thread : threads_) thread.join();
  }

  // A protocol connection (101 checked), optionally as `user`.
  std::unique_ptr<RawClient> open(const std::string& user = "") {
    auto client = std::make_unique<RawClient>(server_->port());
    std::vector<std::string> headers = kProtocolHeader;
    if (!user.empty()) headers.push_back("X-User: " + user);
    const std::string head = client->upgrade("/", headers);
    EXPECT_NE(head.find(" 101 "), std::string::npos) << head;
    EXPECT_NE(head.find("switchboard.v1.json"), std::string::npos) << head;
    return client;
  }

  static std::string next_text(RawClient& client) {
    std::optional<testing::Frame> frame = client.read_frame();
    if (!frame) return "<nothing>";
    return frame->payload;
  }

  // Polls stats() until it matches (counts change on the workers' threads).
  bool stats_become(std::size_t connections, std::size_t users, std::size_t channels) {
    for (auto deadline = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < deadline;) {
      const HubStats stats = hub_->stats();
      if (stats.connections == connections && stats.users == users && stats.channels == channels) return true;
      std::this_thread::sleep_for(10ms);
    }
    const HubStats stats = hub_->stats();
    ADD_FAILURE() << "stats " << stats.connections << "/" << stats.users << "/" << stats.channels << ", expected "
                  << connections << "/" << users << "/" << channels;
    return false;
  }

  std::size_t max_buffered_bytes_ = 4u << 20;
  std::vector<std::pair<std::string, RpcHandler>> handlers_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
};

TEST_F(HubApiTest, SubprotocolIsRequiredUnlessConfiguredOtherwise) {
  start();
  RawClient plain(server_->port());
  EXPECT_NE(plain.upgrade("/").find(" 400 "), std::string::npos);
  open();  // with the subprotocol: 101
  RawClient denied(server_->port());
  std::vector<std::string> headers = kProtocolHeader;
  headers.push_back("X-Deny: yes");
  EXPECT_NE(denied.upgrade("/", headers).find(" 401 "), std::string::npos);
}

TEST_F(HubApiTest, PlainHandshakeAcceptedWhenNotRequired) {
  HubConfig config;
  config.require_subprotocol = false;
  start(config);
  RawClient plain(server_->port());
  const std::string head = plain.upgrade("/");
  EXPECT_NE(head.find(" 101 "), std::string::npos) << head;
  plain.send_frame(Opcode::kText, R"({"id":1,"type":"ping"})");
  EXPECT_EQ(next_text(plain), R"({"type":"pong","id":1})");
}

TEST_F(HubApiTest, RpcAnsweredInsideTheHandler) {
  std::string seen;
  handlers_.emplace_back("getUser", [&seen](const RpcCall& call, RpcReply reply) {
    seen = std::string(call.method) + " " + std::string(call.data_json) + " " + std::string(call.user) + " " +
           std::string(call.client.empty() ? "no client" : "client");
    reply.ok(R"({"name":"Ada"})");
  });
  start();
  auto client = open("alice");
  client->send_frame(Opcode::kText, R"({"id":1,"type":"rpc","method":"getUser","data":{"id":42}})");
  EXPECT_EQ(next_text(*client), R"({"type":"reply","id":1,"data":{"name":"Ada"}})");
  EXPECT_EQ(seen, R"(getUser {"id":42} alice client)");
}

TEST_F(HubApiTest, RpcAnsweredLaterFromAnotherThread) {
  handlers_.emplace_back("slow", [this](const RpcCall&, RpcReply reply) {
    threads_.emplace_back([reply] {
      std::this_thread::sleep_for(50ms);
      reply.ok("[1,2,3]");
    });
  });
  start();
  auto client = open();
  client->send_frame(Opcode::kText, R"({"id":7,"type":"rpc","method":"slow"})");
  EXPECT_EQ(next_text(*client), R"({"type":"reply","id":7,"data":[1,2,3]})");
}

TEST_F(HubApiTest, RpcFailureThrowAndBadJson) {
  handlers_.emplace_back("fails", [](const RpcCall&, RpcReply reply) { reply.fail("nope"); });
  handlers_.emplace_back("throws", [](const RpcCall&, RpcReply) { throw std::runtime_error("boom"); });
  handlers_.emplace_back("garbage", [](const RpcCall&, RpcReply reply) { reply.ok("{not json"); });
  start();
  auto client = open();
  client->send_frame(Opcode::kText, R"({"id":1,"type":"rpc","method":"fails"})");
  EXPECT_EQ(next_text(*client), R"({"type":"error","id":1,"code":115,"message":"nope"})");
  client->send_frame(Opcode::kText, R"({"id":2,"type":"rpc","method":"throws"})");
  EXPECT_EQ(next_text(*client), R"({"type":"error","id":2,"code":100,"message":"the rpc handler failed"})");
  client->send_frame(Opcode::kText, R"({"id":3,"type":"rpc","method":"garbage"})");
  EXPECT_EQ(next_text(*client),
            R"({"type":"error","id":3,"code":100,"message":"the rpc handler answered with invalid JSON"})");
  client->send_frame(Opcode::kText, R"({"id":4,"type":"rpc","method":"missing"})");
  EXPECT_EQ(next_text(*client), R"({"type":"error","id":4,"code":113,"message":"unknown rpc method"})");
}

TEST_F(HubApiTest, RpcTimeoutThenTheLateAnswerIsDropped) {
  std::mutex mutex;
  std::vector<RpcReply> kept;
  handlers_.emplace_back("never", [&](const RpcCall&, RpcReply reply) {
    std::lock_guard lock(mutex);
    kept.push_back(reply);
  });
  HubConfig config;
  config.rpc_timeout_ms = 200;
  start(config);
  auto client = open();
  const auto sent = std::chrono::steady_clock::now();
  client->send_frame(Opcode::kText, R"({"id":9,"type":"rpc","method":"never"})");
  EXPECT_EQ(next_text(*client), R"({"type":"error","id":9,"code":114,"message":"no answer within 200 ms"})");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 150ms);
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(kept.size(), 1u);
    kept[0].ok("\"too late\"");
    kept[0].ok("\"twice\"");
  }
  client->send_frame(Opcode::kText, R"({"id":10,"type":"ping"})");
  EXPECT_EQ(next_text(*client), R"({"type":"pong","id":10})");  // and nothing for id 9 before it
}

TEST_F(HubApiTest, ManyRpcsInFlightAnsweredOutOfOrder) {
  std::mutex mutex;
  std::vector<std::pair<std::string, RpcReply>> pending;
  handlers_.emplace_back("echo", [&](const RpcCall& call, RpcReply reply) {
    std::lock_guard lock(mutex);
    pending.emplace_back(std::string(call.data_json), reply);
  });
  start();
  auto client = open();
  constexpr int kCalls = 20;
  for (int i = 1; i <= kCalls; ++i) {
    client->send_frame(Opcode::kText, R"({"id":)" + std::to_string(i) + R"(,"type":"rpc","method":"echo","data":)" +
                                          std::to_string(i * 100) + "}");
  }
  for (auto deadline = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < deadline;) {
    {
      std::lock_guard lock(mutex);
      if (pending.size() == kCalls) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(pending.size(), static_cast<std::size_t>(kCalls));
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) it->second.ok("{\"got\":" + it->first + "}");
  }
  simdjson::dom::parser parser;
  std::vector<bool> seen(kCalls + 1, false);
  for (int i = 0; i < kCalls; ++i) {
    const std::string text = next_text(*client);
    simdjson::dom::element reply;
    ASSERT_EQ(parser.parse(text).get(reply), simdjson::SUCCESS) << text;
    const std::int64_t id = reply["id"].get_int64().value();
    EXPECT_EQ(reply["data"]["got"].get_int64().value(), id * 100) << text;
    ASSERT_TRUE(id >= 1 && id <= kCalls && !seen[id]) << text;
    seen[id] = true;
  }
}

// A client that pipelines commands without reading: the replies come back
// to its worker after on_message returned, and must all arrive although
// they overflow the kernel's socket buffers and the output-buffer cap many
// times over (the server stops reading from the client instead).
TEST_F(HubApiTest, EveryCommandIsAnsweredWhenTheClientDoesNotRead) {
  const std::string big = "\"" + std::string(64 * 1024, 'b') + "\"";
  handlers_.emplace_back("big", [&big](const RpcCall&, RpcReply reply) { reply.ok(big); });
  max_buffered_bytes_ = 64 * 1024;
  start();
  auto client = open();
  constexpr int kCommands = 400;  // 26 MB of replies
  for (int i = 1; i <= kCommands; ++i) {
    client->send_frame(Opcode::kText, R"({"id":)" + std::to_string(i) + R"(,"type":"rpc","method":"big"})");
  }
  std::this_thread::sleep_for(300ms);  // let the replies pile up unread
  for (int i = 1; i <= kCommands; ++i) {
    const std::string expected = R"({"type":"reply","id":)" + std::to_string(i) + R"(,"data":)" + big + "}";
    const std::string got = next_text(*client);
    ASSERT_EQ(got.size(), expected.size()) << "reply " << i << " of " << kCommands << ": " << got.substr(0, 60);
    ASSERT_EQ(got, expected) << "reply " << i;
  }
}

TEST_F(HubApiTest, StatsCountConnectionsUsersChannelsAndReturnToZero) {
  start();
  {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (const char* user : {"alice", "alice", "alice", "bob", ""}) clients.push_back(open(user));
    int id = 0;
    for (auto& client : clients) {
      for (const char* channel : {"a", "b"}) {
        client->send_frame(Opcode::kText,
                           R"({"id":)" + std::to_string(++id) + R"(,"type":"subscribe","channel":")" + channel + "\"}");
        EXPECT_EQ(next_text(*client), R"({"type":"reply","id":)" + std::to_string(id) + R"(,"data":{}})");
      }
    }
    clients[0]->send_frame(Opcode::kText, R"({"id":99,"type":"subscribe","channel":"c"})");
    EXPECT_EQ(next_text(*clients[0]), R"({"type":"reply","id":99,"data":{}})");
    EXPECT_TRUE(stats_become(5, 2, 3));
    clients[0].reset();  // TCP gone without a close handshake
    EXPECT_TRUE(stats_become(4, 2, 2));
  }
  EXPECT_TRUE(stats_become(0, 0, 0));
}

TEST_F(HubApiTest, PublishSendToUserAndBroadcastFromOutside) {
  start();
  auto reader = open();
  reader->send_frame(Opcode::kText, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next_text(*reader), R"({"type":"reply","id":1,"data":{}})");
  hub_->publish("news", R"({"a":1})");
  EXPECT_EQ(next_text(*reader), R"({"type":"message","channel":"news","offset":1,"data":{"a":1}})");

  auto alice1 = open("alice");
  auto alice2 = open("alice");
  alice1->send_frame(Opcode::kText, R"({"id":1,"type":"ping"})");  // alice is registered once this is answered
  EXPECT_EQ(next_text(*alice1), R"({"type":"pong","id":1})");
  alice2->send_frame(Opcode::kText, R"({"id":1,"type":"ping"})");
  EXPECT_EQ(next_text(*alice2), R"({"type":"pong","id":1})");
  ASSERT_TRUE(stats_become(3, 1, 1));
  hub_->send_to_user("alice", "\"hi\"");
  EXPECT_EQ(next_text(*alice1), R"({"type":"direct","from":null,"data":"hi"})");
  EXPECT_EQ(next_text(*alice2), R"({"type":"direct","from":null,"data":"hi"})");

  hub_->broadcast("[1,2]");
  for (RawClient* client : {reader.get(), alice1.get(), alice2.get()}) {
    EXPECT_EQ(next_text(*client), R"({"type":"direct","from":null,"data":[1,2]})");
  }

  EXPECT_THROW(hub_->publish("bad name", "1"), std::invalid_argument);
  EXPECT_THROW(hub_->broadcast("nope"), std::invalid_argument);
  EXPECT_THROW(hub_->publish("news", "{oops"), std::invalid_argument);
  EXPECT_THROW(hub_->send_to_user("", "1"), std::invalid_argument);
}

}  // namespace
}  // namespace switchboard
