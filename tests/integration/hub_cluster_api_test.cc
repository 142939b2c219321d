// The Hub's C++ API across nodes: two Hubs in one process, each with its
// own Server, sharing a real redis-server (started by the test on a free
// loopback port). What one node's API does reaches the other node's
// connections: publish, send_to_user and broadcast.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/raw_client.h"
#include "redis_server.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard {
namespace {

using testing::RawClient;
using namespace std::chrono_literals;

struct Node {
  std::unique_ptr<Hub> hub;
  std::unique_ptr<Server> server;
};

class HubClusterApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis::testing::redis_server_available()) GTEST_SKIP() << "no redis-server (run scripts/bootstrap)";
    ASSERT_TRUE(redis_.start());
    for (int i = 0; i < 2; ++i) {
      HubConfig config;
      config.broker_url = "redis://127.0.0.1:" + std::to_string(redis_.port());
      Node node;
      node.hub = std::make_unique<Hub>(std::move(config));
      node.hub->set_authenticator([](const HttpRequest& request) -> std::optional<Principal> {
        Principal principal;
        principal.user = std::string(request.header("X-User"));
        return principal;
      });
      ServerConfig server_config;
      server_config.host = "127.0.0.1";
      server_config.port = 0;
      server_config.workers = 2;
      server_config.handle_signals = HandleSignals::kNo;
      node.server = std::make_unique<Server>(server_config, *node.hub);
      node.server->start();
      nodes_.push_back(std::move(node));
    }
    for (Node& node : nodes_) {
      ASSERT_TRUE(eventually([&] {
        return node.hub->metrics_text().find("\nswitchboard_broker_up 1\n") != std::string::npos;
      })) << "a node never reached Redis";
    }
  }

  void TearDown() override {
    for (Node& node : nodes_) {
      node.server->stop();
      node.server->wait();
      node.server.reset();
      node.hub.reset();
    }
  }

  static bool eventually(const std::function<bool()>& done) {
    for (auto deadline = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < deadline;) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);  // pacing the poll
    }
    return done();
  }

  // Connections (one per node) subscribed to redis_channel, from Redis's
  // PUBSUB NUMSUB; -1 if Redis did not answer.
  long long numsub(const std::string& redis_channel) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(redis_.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      const std::string request = "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$" + std::to_string(redis_channel.size()) +
                                  "\r\n" + redis_channel + "\r\n";
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      // *2 $<n> <channel> :<count>, the count last.
      char chunk[512];
      while (reply.find("\r\n:") == std::string::npos || !reply.ends_with("\r\n")) {
        const ssize_t size = ::recv(fd, chunk, sizeof chunk, 0);
        if (size <= 0) break;
        reply.append(chunk, static_cast<std::size_t>(size));
      }
    }
    ::close(fd);
    const std::size_t count = reply.find("\r\n:");
    return count == std::string::npos ? -1 : std::stoll(reply.substr(count + 3));
  }

  std::unique_ptr<RawClient> open(int node, const std::string& user) {
    auto client = std::make_unique<RawClient>(nodes_[node].server->port(), 5000);
    const std::string head = client->upgrade("/", {"Sec-WebSocket-Protocol: switchboard.v1.json", "X-User: " + user});
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    return client;
  }

  static std::string next_text(RawClient& client) {
    std::optional<testing::Frame> frame = client.read_frame();
    return frame ? frame->payload : "<nothing>";
  }

  redis::testing::RedisServer redis_;
  std::vector<Node> nodes_;
};

TEST_F(HubClusterApiTest, OneNodesApiReachesTheOthersConnections) {
  auto ann = open(1, "ann");
  ann->send_frame(Opcode::kText, R"({"id":1,"type":"subscribe","channel":"news"})");
  EXPECT_EQ(next_text(*ann), R"({"type":"reply","id":1,"data":{}})");

  nodes_[0].hub->publish("news", R"({"a":1})");
  EXPECT_EQ(next_text(*ann), R"({"type":"message","channel":"news","offset":1,"data":{"a":1}})");
  // Node 1 SUBSCRIBEs to ann's Redis channel on her connection, and Redis
  // has it a moment later (docs/SCALING.md, known windows): a send before
  // that reaches no node.
  ASSERT_TRUE(eventually([&] { return numsub("sb:user:{ann}") == 1; })) << numsub("sb:user:{ann}");
  nodes_[0].hub->send_to_user("ann", "2");
  EXPECT_EQ(next_text(*ann), R"({"type":"direct","from":null,"data":2})");
  auto ben = open(0, "ben");
  ben->send_frame(Opcode::kText, R"({"id":1,"type":"ping"})");
  EXPECT_EQ(next_text(*ben), R"({"type":"pong","id":1})");
  nodes_[1].hub->broadcast("[3]");
  for (RawClient* client : {ann.get(), ben.get()}) {
    EXPECT_EQ(next_text(*client), R"({"type":"direct","from":null,"data":[3]})");
  }
}

}  // namespace
}  // namespace switchboard
