// The Hub's C++ API end to end over loopback: rpc handlers (answered at
// once, later from another thread, failing, throwing, never, with bad JSON,
// many in flight, after the Server is gone), the authenticator, the
// subprotocol requirement, stats that return to zero, and publish /
// send_to_user / broadcast from outside the workers.
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "auth/jwt_sign.h"
#include "integration/raw_client.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard {
namespace {

using testing::RawClient;
using namespace std::chrono_literals;

const std::vector<std::string> kProtocolHeader{"Sec-WebSocket-Protocol: switchboard.v1.json"};
constexpr std::string_view kSecret = "hub-api-test-secret-of-at-least-32-bytes";

// An HS256 token with these claims (a JSON object's members, without braces)
// and an exp five minutes away.
std::string token_with(const std::string& claims) {
  const std::string exp = std::to_string(std::time(nullptr) + 300);
  return auth::sign_hmac(auth::Algorithm::kHS256, std::string(kSecret), "", "{" + claims + ",\"exp\":" + exp + "}");
}

HubConfig config_with_keys(bool required) {
  HubConfig config;
  config.auth.required = required;
  config.auth.hmac_secret = std::string(kSecret);
  return config;
}

class HubApiTest : public ::testing::Test {
 protected:
  void start(HubConfig config = {}) {
    hub_ = std::make_unique<Hub>(std::move(config));
    for (auto& [method, handler] : handlers_) hub_->on_rpc(method, handler);
    // The user comes from the header X-User, else from `user=` in the query
    // of the target; X-Deny: yes (or `deny` in the query) refuses.
    hub_->set_authenticator([](const HttpRequest& request) -> std::optional<Principal> {
      const std::string_view target = request.target;
      if (request.header("X-Deny") == "yes" || target.find("deny") != std::string_view::npos) return std::nullopt;
      Principal principal;
      principal.user = std::string(request.header("X-User"));
      if (principal.user.empty()) {
        const std::size_t query = target.find('?');
        if (query != std::string_view::npos) {
          std::string_view rest = target.substr(query + 1);
          while (!rest.empty()) {
            const std::size_t amp = rest.find('&');
            const std::string_view pair = rest.substr(0, amp);
            if (pair.starts_with("user=")) principal.user = std::string(pair.substr(5));
            if (amp == std::string_view::npos) break;
            rest.remove_prefix(amp + 1);
          }
        }
      }
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

  // The Hub outlives the Server. Threads that answer rpcs are joined while
  // the Server object still exists (stopped: their answers go nowhere).
  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
    }
    for (std::thread& thread : threads_) thread.join();
    server_.reset();
    hub_.reset();
  }

  // A protocol connection (101 and the subprotocol checked), optionally as
  // `user` (sent in the header X-User), on `target`.
  std::unique_ptr<RawClient> open(const std::string& user = "", const std::string& target = "/",
                                  int timeout_ms = 5000) {
    auto client = std::make_unique<RawClient>(server_->port(), timeout_ms);
    std::vector<std::string> headers = kProtocolHeader;
    if (!user.empty()) headers.push_back("X-User: " + user);
    const std::string head = client->upgrade(target, headers);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Protocol: switchboard.v1.json\r\n"), std::string::npos) << head;
    return client;
  }

  // Sends one command and returns the next text frame.
  static std::string command(RawClient& client, const std::string& text) {
    client.send_frame(Opcode::kText, text);
    return next_text(client);
  }

  static std::string next_text(RawClient& client) {
    std::optional<testing::Frame> frame = client.read_frame();
    if (!frame) return "<nothing>";
    return frame->payload;
  }

  // Polls stats() until it matches (counts change on the workers' threads).
  bool stats_become(std::size_t connections, std::size_t users, std::size_t channels) {
    for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;) {
      const HubStats stats = hub_->stats();
      if (stats.connections == connections && stats.users == users && stats.channels == channels) return true;
      std::this_thread::sleep_for(10ms);  // pacing the poll
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
  std::mutex threads_mutex_;
  std::vector<std::thread> threads_;  // started by handlers; joined in TearDown
};

TEST_F(HubApiTest, SubprotocolIsRequiredUnlessConfiguredOtherwise) {
  start();
  {
    RawClient plain(server_->port());
    const std::string head = plain.upgrade("/");
    EXPECT_TRUE(head.starts_with("HTTP/1.1 400 ")) << head;
    EXPECT_EQ(head.find("Sec-WebSocket-Protocol"), std::string::npos) << head;
  }
  {
    RawClient other(server_->port());
    const std::string head = other.upgrade("/", {"Sec-WebSocket-Protocol: chat.v2"});
    EXPECT_TRUE(head.starts_with("HTTP/1.1 400 ")) << head;
  }
  {
    // Offered among others: the server picks v1.
    RawClient among(server_->port());
    const std::string head = among.upgrade("/", {"Sec-WebSocket-Protocol: chat.v2, switchboard.v1.json"});
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Protocol: switchboard.v1.json\r\n"), std::string::npos) << head;
  }
  auto client = open();  // with the subprotocol: 101 naming it (checked in open)
  EXPECT_EQ(command(*client, R"({"id":1,"type":"ping"})"), R"({"type":"pong","id":1})");
}

TEST_F(HubApiTest, AuthenticatorRefusalIs401) {
  start();
  {
    RawClient denied(server_->port());
    std::vector<std::string> headers = kProtocolHeader;
    headers.push_back("X-Deny: yes");
    const std::string head = denied.upgrade("/", headers);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 401 ")) << head;
  }
  {
    RawClient denied(server_->port());
    EXPECT_TRUE(denied.upgrade("/?deny=1", kProtocolHeader).starts_with("HTTP/1.1 401 "));
  }
  {
    // A user id the hub cannot take is refused too.
    RawClient bad(server_->port());
    std::vector<std::string> headers = kProtocolHeader;
    headers.push_back("X-User: bad\"quote");
    EXPECT_TRUE(bad.upgrade("/", headers).starts_with("HTTP/1.1 401 "));
  }
  EXPECT_TRUE(stats_become(0, 0, 0));
  // Accepted: the user from the query of the target.
  auto client = open("", "/?x=1&user=carol");
  const std::string connected = command(*client, R"({"id":1,"type":"connect"})");
  EXPECT_TRUE(connected.starts_with(R"({"type":"reply","id":1,"data":{"client":")")) << connected;
  EXPECT_TRUE(connected.ends_with(R"(","user":"carol"}})")) << connected;
  EXPECT_TRUE(stats_become(1, 1, 0));
}

// With keys and an authenticator, a token in the handshake is checked as a
// connection token before the authenticator is asked: a subscription token
// is refused there, not passed on as a connection without channel limits.
TEST_F(HubApiTest, SubscriptionTokenIsNotAConnectionTokenBesideAnAuthenticator) {
  start(config_with_keys(false));
  const std::string subscription = token_with(R"("sub":"carol","channel":"$room")");
  {
    RawClient refused(server_->port());
    const std::string head = refused.upgrade("/?user=carol&token=" + subscription, kProtocolHeader);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 401 ")) << head;
  }
  {
    RawClient refused(server_->port());
    std::vector<std::string> headers = kProtocolHeader;
    headers.push_back("Authorization: Bearer " + subscription);
    const std::string head = refused.upgrade("/?user=carol", headers);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 401 ")) << head;
  }
  auto client = open("", "/?token=" + token_with(R"("sub":"carol","channels":["news"])"));
  EXPECT_NE(command(*client, R"({"id":1,"type":"subscribe","channel":"sports"})").find(R"("code":109)"),
            std::string::npos);
}

// auth.required: the authenticator vouching for nobody (an anonymous
// Principal) is not authentication; the connection must send a token.
TEST_F(HubApiTest, AnonymousAuthenticatorPrincipalWaitsForConnectWhenAuthIsRequired) {
  start(config_with_keys(true));
  auto anonymous = open();
  EXPECT_NE(command(*anonymous, R"({"id":1,"type":"subscribe","channel":"news"})").find(R"("code":119)"),
            std::string::npos);
  const std::string connected =
      command(*anonymous, R"({"id":2,"type":"connect","token":")" + token_with(R"("sub":"dan")") + "\"}");
  EXPECT_TRUE(connected.ends_with(R"(","user":"dan"}})")) << connected;
  auto named = open("erin");  // the authenticator names a user: authenticated
  EXPECT_TRUE(command(*named, R"({"id":1,"type":"subscribe","channel":"news"})").starts_with(R"({"type":"reply")"));
}

// Hub::reload keeps authentication on: switching auth.required off or
// removing every key needs a new Hub (a restart).
TEST_F(HubApiTest, ReloadThatWouldWeakenAuthenticationIsRefused) {
  start(config_with_keys(true));
  HubConfig required_off = config_with_keys(false);
  EXPECT_NE(hub_->reload(required_off).find("auth.required"), std::string::npos);
  HubConfig no_keys;
  no_keys.auth.required = true;
  EXPECT_NE(hub_->reload(no_keys), "");
  auto anonymous = open();
  EXPECT_NE(command(*anonymous, R"({"id":1,"type":"subscribe","channel":"news"})").find(R"("code":119)"),
            std::string::npos);
  // A new secret is not a weakening.
  HubConfig rotated = config_with_keys(true);
  rotated.auth.hmac_secret = "another-secret-also-at-least-32-bytes-long";
  EXPECT_EQ(hub_->reload(rotated), "");
}

// Keys, but auth not required: removing the keys is refused too (every
// token would become an error 117 and every identity anonymous).
TEST_F(HubApiTest, ReloadThatRemovesEveryKeyIsRefused) {
  start(config_with_keys(false));
  const std::string error = hub_->reload(HubConfig{});
  EXPECT_NE(error.find("key"), std::string::npos) << error;
  EXPECT_EQ(hub_->reload(config_with_keys(false)), "");
}

TEST_F(HubApiTest, PlainHandshakeAcceptedWhenNotRequired) {
  HubConfig config;
  config.require_subprotocol = false;
  start(config);
  RawClient plain(server_->port());
  const std::string head = plain.upgrade("/");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
  EXPECT_EQ(head.find("Sec-WebSocket-Protocol"), std::string::npos) << head;  // none asked, none named
  EXPECT_EQ(command(plain, R"({"id":1,"type":"ping"})"), R"({"type":"pong","id":1})");
  auto asking = open();  // a client that asks still gets it named
  EXPECT_EQ(command(*asking, R"({"id":2,"type":"ping"})"), R"({"type":"pong","id":2})");
}

TEST_F(HubApiTest, RpcAnsweredInsideTheHandler) {
  std::mutex mutex;
  std::vector<std::string> seen;  // method|data_json|user|client, per call
  handlers_.emplace_back("getUser", [&](const RpcCall& call, RpcReply reply) {
    {
      std::lock_guard lock(mutex);
      seen.push_back(std::string(call.method) + "|" + std::string(call.data_json) + "|" + std::string(call.user) + "|" +
                     std::string(call.client));
    }
    reply.ok(R"({"name":"Ada"})");
  });
  start();
  auto client = open("alice");
  // The client id the handler should see is the one `connect` reports.
  const std::string connected = command(*client, R"({"id":5,"type":"connect"})");
  const std::string prefix = R"({"type":"reply","id":5,"data":{"client":")";
  ASSERT_TRUE(connected.starts_with(prefix)) << connected;
  const std::string client_id = connected.substr(prefix.size(), connected.find('"', prefix.size()) - prefix.size());
  ASSERT_FALSE(client_id.empty());

  EXPECT_EQ(command(*client, R"({"id":1,"type":"rpc","method":"getUser","data":{"id":42}})"),
            R"({"type":"reply","id":1,"data":{"name":"Ada"}})");
  // Without data the handler sees null.
  EXPECT_EQ(command(*client, R"({"id":2,"type":"rpc","method":"getUser"})"),
            R"({"type":"reply","id":2,"data":{"name":"Ada"}})");
  // An anonymous connection: empty user, another client id.
  auto anonymous = open();
  EXPECT_EQ(command(*anonymous, R"({"id":3,"type":"rpc","method":"getUser","data":[]})"),
            R"({"type":"reply","id":3,"data":{"name":"Ada"}})");

  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], R"(getUser|{"id":42}|alice|)" + client_id);
  EXPECT_EQ(seen[1], "getUser|null|alice|" + client_id);
  EXPECT_TRUE(seen[2].starts_with("getUser|[]||")) << seen[2];
  EXPECT_NE(seen[2], "getUser|[]||" + client_id);
}

TEST_F(HubApiTest, RpcAnsweredLaterFromAnotherThread) {
  handlers_.emplace_back("slow", [this](const RpcCall&, RpcReply reply) {
    std::lock_guard lock(threads_mutex_);
    threads_.emplace_back([reply] {
      std::this_thread::sleep_for(50ms);  // answering later is the test
      reply.ok("[1,2,3]");
    });
  });
  start();
  auto client = open();
  const auto sent = std::chrono::steady_clock::now();
  client->send_frame(Opcode::kText, R"({"id":7,"type":"rpc","method":"slow"})");
  // A ping sent meanwhile is answered first: the worker is not blocked.
  EXPECT_EQ(command(*client, R"({"id":8,"type":"ping"})"), R"({"type":"pong","id":8})");
  EXPECT_EQ(next_text(*client), R"({"type":"reply","id":7,"data":[1,2,3]})");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 50ms);
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
  auto client = open("", "/", 1500);
  const auto sent = std::chrono::steady_clock::now();
  client->send_frame(Opcode::kText, R"({"id":9,"type":"rpc","method":"never"})");
  EXPECT_EQ(next_text(*client), R"({"type":"error","id":9,"code":114,"message":"no answer within 200 ms"})");
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 5s);  // loaded-machine room, and half the 10 s default: the setting answered

  // A second rpc, kept too. Both answers are posted from this thread to the
  // connection's worker, so they run in that order: had the late answer to
  // id 9 been sent, it would come before the reply to id 11.
  client->send_frame(Opcode::kText, R"({"id":11,"type":"rpc","method":"never"})");
  for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;) {
    {
      std::lock_guard lock(mutex);
      if (kept.size() == 2) break;
    }
    std::this_thread::sleep_for(1ms);  // pacing the poll
  }
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(kept.size(), 2u);
    kept[0].ok("\"too late\"");
    kept[0].fail("too late as well");
    kept[1].ok("\"on time\"");
    kept[1].ok("\"twice\"");  // a second answer is ignored
  }
  EXPECT_EQ(next_text(*client), R"({"type":"reply","id":11,"data":"on time"})");
  EXPECT_EQ(command(*client, R"({"id":12,"type":"ping"})"), R"({"type":"pong","id":12})");
  // And no 114 for id 11 once its timer fires: the next frame is the pong.
  // Waiting out the rpc timeout the test set is the point, not a wait for a result.
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(command(*client, R"({"id":13,"type":"ping"})"), R"({"type":"pong","id":13})");
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
  for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;) {
    {
      std::lock_guard lock(mutex);
      if (pending.size() == kCalls) break;
    }
    std::this_thread::sleep_for(5ms);  // pacing the poll
  }
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(pending.size(), static_cast<std::size_t>(kCalls));
    // Answered in reverse; the one for id 10 fails.
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      if (it->first == "1000") {
        it->second.fail("ten");
      } else {
        it->second.ok("{\"got\":" + it->first + "}");
      }
    }
  }
  // Each answer carries its own id and data. The answers were posted from
  // one thread to one worker, so they also arrive in the order given.
  simdjson::dom::parser parser;
  std::vector<bool> seen(kCalls + 1, false);
  for (int i = kCalls; i >= 1; --i) {
    const std::string text = next_text(*client);
    simdjson::dom::element answer;
    ASSERT_EQ(parser.parse(text).get(answer), simdjson::SUCCESS) << text;
    const std::int64_t id = answer["id"].get_int64().value();
    ASSERT_TRUE(id >= 1 && id <= kCalls && !seen[id]) << text;
    seen[id] = true;
    if (id == 10) {
      EXPECT_EQ(text, R"({"type":"error","id":10,"code":115,"message":"ten"})");
    } else {
      EXPECT_EQ(answer["data"]["got"].get_int64().value(), id * 100) << text;
    }
    EXPECT_EQ(id, i) << "answers out of the order they were given";
  }
}

// The per-connection cap: the call over it is refused at once (122) while
// other connections keep their room; an answer, a timeout or a throwing
// handler gives the room back.
TEST_F(HubApiTest, PendingRpcsPerConnectionAreCappedAndAnswersGiveTheRoomBack) {
  std::mutex mutex;
  std::vector<RpcReply> kept;
  handlers_.emplace_back("never", [&](const RpcCall&, RpcReply reply) {
    std::lock_guard lock(mutex);
    kept.push_back(reply);
  });
  handlers_.emplace_back("throws", [](const RpcCall&, RpcReply) { throw std::runtime_error("no"); });
  const auto kept_count = [&] {
    std::lock_guard lock(mutex);
    return kept.size();
  };
  HubConfig config;
  config.max_pending_rpcs_per_connection = 3;
  config.rpc_timeout_ms = 60'000;
  start(config);
  auto ann = open("ann");
  auto bob = open("bob");
  for (int id = 1; id <= 3; ++id) {
    ann->send_frame(Opcode::kText, R"({"id":)" + std::to_string(id) + R"(,"type":"rpc","method":"never"})");
  }
  EXPECT_EQ(
      command(*ann, R"({"id":4,"type":"rpc","method":"never"})"),
      R"({"type":"error","id":4,"code":122,"message":"at most 3 pending rpcs per connection: wait for an answer"})");
  EXPECT_EQ(
      command(*ann, R"({"id":5,"type":"rpc","method":"throws"})"),
      R"({"type":"error","id":5,"code":122,"message":"at most 3 pending rpcs per connection: wait for an answer"})");
  EXPECT_EQ(kept_count(), 3u);
  // bob has room of his own; a throwing handler gives its room back at once.
  for (int id = 1; id <= 2; ++id) {
    bob->send_frame(Opcode::kText, R"({"id":)" + std::to_string(id) + R"(,"type":"rpc","method":"never"})");
  }
  EXPECT_EQ(command(*bob, R"({"id":3,"type":"rpc","method":"throws"})"),
            R"({"type":"error","id":3,"code":100,"message":"the rpc handler failed"})");
  bob->send_frame(Opcode::kText, R"({"id":4,"type":"rpc","method":"never"})");
  for (auto deadline = std::chrono::steady_clock::now() + 15s;
       kept_count() < 6 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);  // pacing the poll
  }
  ASSERT_EQ(kept_count(), 6u);
  EXPECT_EQ(
      command(*bob, R"({"id":5,"type":"rpc","method":"never"})"),
      R"({"type":"error","id":5,"code":122,"message":"at most 3 pending rpcs per connection: wait for an answer"})");
  // An answer to one of ann's calls makes room for one more.
  {
    std::lock_guard lock(mutex);
    kept[1].ok("\"second\"");
  }
  EXPECT_EQ(next_text(*ann), R"({"type":"reply","id":2,"data":"second"})");
  ann->send_frame(Opcode::kText, R"({"id":6,"type":"rpc","method":"never"})");
  EXPECT_EQ(
      command(*ann, R"({"id":7,"type":"rpc","method":"never"})"),
      R"({"type":"error","id":7,"code":122,"message":"at most 3 pending rpcs per connection: wait for an answer"})");
  EXPECT_EQ(kept_count(), 7u);
  // Everything answered: the node's count is back at zero.
  {
    std::lock_guard lock(mutex);
    for (const RpcReply& reply : kept) reply.ok("1");
  }
  for (auto deadline = std::chrono::steady_clock::now() + 15s;
       hub_->metrics_text().find("\nswitchboard_rpcs_pending 0\n") == std::string::npos &&
       std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);  // pacing the poll
  }
  EXPECT_NE(hub_->metrics_text().find("\nswitchboard_rpcs_pending 0\n"), std::string::npos);
  EXPECT_NE(hub_->metrics_text().find("\nswitchboard_rpc_pending_bytes 0\n"), std::string::npos);
  EXPECT_NE(hub_->metrics_text().find("switchboard_refused_total{reason=\"rpc_pending_per_connection\"} 4\n"),
            std::string::npos)
      << hub_->metrics_text();
}

// A C++ handler's answer over max_rpc_answer_size is error 115, not a frame.
TEST_F(HubApiTest, AnAnswerOverTheSizeLimitIsError115) {
  handlers_.emplace_back("sized", [](const RpcCall& call, RpcReply reply) {
    const std::size_t size = std::stoul(std::string(call.data_json));
    reply.ok("\"" + std::string(size - 2, 'x') + "\"");
  });
  HubConfig config;
  config.max_rpc_answer_size = 100;
  start(config);
  auto client = open();
  EXPECT_EQ(command(*client, R"({"id":1,"type":"rpc","method":"sized","data":100})"),
            R"({"type":"reply","id":1,"data":")" + std::string(98, 'x') + "\"}");
  EXPECT_EQ(command(*client, R"({"id":2,"type":"rpc","method":"sized","data":101})"),
            R"({"type":"error","id":2,"code":115,"message":"the rpc answer is larger than 100 bytes"})");
  EXPECT_NE(hub_->metrics_text().find("\nswitchboard_rpc_answers_too_large_total 1\n"), std::string::npos);
}

// A client that pipelines commands without reading: the replies come back
// to its worker after on_message returned, and must all arrive although
// they overflow the kernel's socket buffers and the output-buffer cap many
// times over (the server stops reading from the client instead).
TEST_F(HubApiTest, EveryCommandIsAnsweredWhenTheClientDoesNotRead) {
  const std::string big = "\"" + std::string(64 * 1024, 'b') + "\"";
  handlers_.emplace_back("big", [&big](const RpcCall&, RpcReply reply) { reply.ok(big); });
  max_buffered_bytes_ = 64 * 1024;
  constexpr int kCommands = 400;  // 26 MB of replies
  // An answer made inside the handler is still posted to the worker: until
  // that post runs, the calls of one read all count as pending.
  HubConfig config;
  config.max_pending_rpcs_per_connection = kCommands;
  start(config);
  auto client = open();
  for (int i = 1; i <= kCommands; ++i) {
    client->send_frame(Opcode::kText, R"({"id":)" + std::to_string(i) + R"(,"type":"rpc","method":"big"})");
  }
  std::this_thread::sleep_for(300ms);  // let the replies pile up unread: the test's point
  for (int i = 1; i <= kCommands; ++i) {
    const std::string expected = R"({"type":"reply","id":)" + std::to_string(i) + R"(,"data":)" + big + "}";
    const std::string got = next_text(*client);
    ASSERT_EQ(got.size(), expected.size()) << "reply " << i << " of " << kCommands << ": " << got.substr(0, 60);
    ASSERT_EQ(got, expected) << "reply " << i;
  }
}

static std::string subscribe(int id, const std::string& channel) {
  return R"({"id":)" + std::to_string(id) + R"(,"type":"subscribe","channel":")" + channel + "\"}";
}
static std::string empty_reply(int id) { return R"({"type":"reply","id":)" + std::to_string(id) + R"(,"data":{}})"; }
static std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST_F(HubApiTest, StatsCountConnectionsUsersChannelsAndReturnToZero) {
  HubConfig config;
  config.namespaces.push_back(NamespaceOptions{.pattern = "room:*", .presence = true});
  config.send_permission = SendPermission::kAnyone;  // the anonymous connections below ask who is online
  start(config);
  EXPECT_TRUE(stats_become(0, 0, 0));
  std::string presence;
  {
    // alice three times (twice by the query of the target, once by header),
    // bob once.
    auto alice1 = open("", "/?user=alice");
    auto alice2 = open("", "/chat?user=alice");
    auto alice3 = open("alice");
    auto bob = open("bob");
    EXPECT_TRUE(stats_become(4, 2, 0));
    EXPECT_EQ(command(*alice1, subscribe(1, "a")), empty_reply(1));
    EXPECT_EQ(command(*alice1, subscribe(2, "room:1")), empty_reply(2));
    EXPECT_EQ(command(*alice1, subscribe(3, "solo")), empty_reply(3));
    EXPECT_EQ(command(*alice2, subscribe(1, "a")), empty_reply(1));
    EXPECT_EQ(command(*alice3, subscribe(1, "b")), empty_reply(1));
    EXPECT_EQ(command(*bob, subscribe(1, "room:1")), empty_reply(1));
    EXPECT_EQ(command(*bob, subscribe(2, "c")), empty_reply(2));
    EXPECT_TRUE(stats_become(4, 2, 5));  // a, room:1, solo, b, c

    // An anonymous connection counts as a connection, not as a user.
    auto anonymous = open();
    EXPECT_EQ(command(*anonymous, subscribe(1, "room:1")), empty_reply(1));
    EXPECT_TRUE(stats_become(5, 2, 5));
    presence = command(*anonymous, R"({"id":2,"type":"presence","channel":"room:1"})");
    EXPECT_TRUE(presence.starts_with(R"({"type":"reply","id":2,"data":{"members":[)")) << presence;
    EXPECT_EQ(count_of(presence, R"("user":"alice")"), 1u) << presence;
    EXPECT_EQ(count_of(presence, R"("user":"bob")"), 1u) << presence;
    EXPECT_EQ(count_of(presence, R"("user":null)"), 1u) << presence;

    EXPECT_EQ(command(*alice3, R"({"id":2,"type":"unsubscribe","channel":"b"})"), empty_reply(2));
    EXPECT_TRUE(stats_become(5, 2, 4));

    alice1.reset();  // TCP gone without a close handshake: a, room:1 stay, solo goes
    EXPECT_TRUE(stats_become(4, 2, 3));
    presence = command(*anonymous, R"({"id":3,"type":"presence","channel":"room:1"})");
    EXPECT_EQ(count_of(presence, R"("user":)"), 2u) << presence;
    EXPECT_EQ(count_of(presence, R"("user":"alice")"), 0u) << presence;

    // bob leaves with a close handshake: c goes, and so does the user bob.
    bob->send_close(1000, "bye");
    std::optional<testing::Frame> close = bob->read_frame();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->opcode, Opcode::kClose);
    EXPECT_TRUE(bob->wait_for_eof());
    EXPECT_TRUE(stats_become(3, 1, 2));
    EXPECT_EQ(command(*anonymous, R"({"id":4,"type":"send","user":"bob","data":1})"),
              R"({"type":"reply","id":4,"data":{"online":false}})");
    EXPECT_EQ(command(*anonymous, R"({"id":5,"type":"send","user":"alice","data":1})"),
              R"({"type":"reply","id":5,"data":{"online":true}})");
    EXPECT_EQ(next_text(*alice2), R"({"type":"direct","from":null,"data":1})");
    EXPECT_EQ(next_text(*alice3), R"({"type":"direct","from":null,"data":1})");
  }
  // Everyone gone: no connection, user, channel or presence entry is left.
  EXPECT_TRUE(stats_become(0, 0, 0));
  auto late = open();
  EXPECT_TRUE(stats_become(1, 0, 0));
  EXPECT_EQ(command(*late, R"({"id":1,"type":"presence","channel":"room:1"})"),
            R"({"type":"reply","id":1,"data":{"members":[]}})");
  EXPECT_EQ(command(*late, R"({"id":2,"type":"send","user":"alice","data":1})"),
            R"({"type":"reply","id":2,"data":{"online":false}})");
  EXPECT_EQ(command(*late, subscribe(3, "room:1")), empty_reply(3));
  presence = command(*late, R"({"id":4,"type":"presence","channel":"room:1"})");
  EXPECT_EQ(count_of(presence, R"("user":)"), 1u) << presence;
  EXPECT_TRUE(stats_become(1, 0, 1));
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
  hub_->publish("news", "2");        // to the subscriber only: alice's next frame is the direct one
  hub_->publish("nobody", "3");      // no subscriber: nothing happens
  hub_->send_to_user("carol", "4");  // offline: dropped
  EXPECT_EQ(next_text(*reader), R"({"type":"message","channel":"news","offset":2,"data":2})");
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

// RpcReply promises that an answer may come "now or later, from any thread"
// and that one the client can no longer receive is dropped. Here the Hub is
// alive (as required, it outlives the Server) but the Server is already
// destroyed when the answer comes: it must be dropped, not touch the Server.
TEST_F(HubApiTest, RpcAnswerAfterTheServerIsDestroyedIsDropped) {
  std::mutex mutex;
  std::vector<RpcReply> kept;
  handlers_.emplace_back("never", [&](const RpcCall&, RpcReply reply) {
    std::lock_guard lock(mutex);
    kept.push_back(reply);
  });
  start();
  auto client = open();
  client->send_frame(Opcode::kText, R"({"id":1,"type":"rpc","method":"never"})");
  for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;) {
    {
      std::lock_guard lock(mutex);
      if (kept.size() == 1) break;
    }
    std::this_thread::sleep_for(1ms);  // pacing the poll
  }
  server_->stop();
  // The drain waits for the rpc's answer up to drain_answer_ms, then tells
  // the client that not everything was answered (Hub::on_going_away) and
  // closes 1001.
  std::optional<testing::Frame> notice = client->read_frame();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->payload,
            R"({"type":"disconnect","code":1001,"reason":"server shutting down","reconnect":true,"answered":false})");
  std::optional<testing::Frame> close = client->read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code, 1001);
  client->send_close(1001, "");
  EXPECT_TRUE(client->wait_for_eof());
  client.reset();  // our FIN: the server stops lingering at once
  server_->wait();
  server_.reset();
  std::lock_guard lock(mutex);
  ASSERT_EQ(kept.size(), 1u);
  kept[0].ok("1");  // under ASan: heap-use-after-free in Server::post if not dropped
  kept[0].fail("x");
}
}  // namespace
}  // namespace switchboard
