// The roles on a real server Worker (tests/unit/server/worker_harness.h):
// peers on socketpairs speak protocol v1 as text frames, and the node's
// roles run over task queues that post to that one worker's loop. One
// worker owns every channel and user, so each command, the owner's answer
// and the fan-out run in one queue, in posting order: what a peer reads,
// and in which order, is deterministic.
//
// A Hub cannot run on the harness (Hub::on_start needs a Server to start its
// node), so RoleFront does what the Hub's handlers do (src/hub/hub.cc):
// the upgrade decision, then the session's local role for every callback.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "broker/memory_broker.h"
#include "codec/frame_writer.h"
#include "hub/node.h"
#include "hub/upgrade.h"
#include "protocol/encode.h"
#include "worker_harness.h"

namespace switchboard::hub::harness {

using server::testing::eventually;
using server::testing::Peer;
using server::testing::PeerFrame;
using server::testing::RunningWorker;

// The roles' tasks on the harness's worker. Deadline ticks and rpc
// timeouts (post_after) are never due in these tests.
class WorkerQueues final : public TaskQueues {
 public:
  explicit WorkerQueues(RunningWorker& running) : running_(running) {}
  void post(unsigned, std::function<void()> task) override { running_.worker().loop().post(std::move(task)); }
  void post_after(unsigned, std::uint64_t, std::function<void()>) override {}

 private:
  RunningWorker& running_;
};

// The Hub's handlers over node's role on worker 0, recording who opened.
class RoleFront final : public WebSocketHandler {
 public:
  explicit RoleFront(Node& node) : node_(node) {}

  UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) override {
    return decide_upgrade(node_, request, offered);
  }
  void on_open(Connection& connection, const HttpRequest& request) override {
    auto* upgraded = request.upgrade_state != nullptr ? std::any_cast<Upgraded>(request.upgrade_state) : nullptr;
    Upgraded accepted = upgraded != nullptr ? std::move(*upgraded) : Upgraded{};
    {
      std::lock_guard lock(mutex_);
      opened_.push_back(connection.id());
    }
    node_.local(connection.worker())
        .open_session(connection, request.peer_address, std::move(accepted.principal), accepted.how);
  }
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override {
    auto* session = static_cast<Session*>(connection.user_data());
    if (session == nullptr) return;
    node_.local(connection.worker()).receive(*session, payload, opcode);
  }
  GoingAway on_going_away(Connection& connection, std::uint64_t answer_within_ms) override {
    auto* session = static_cast<Session*>(connection.user_data());
    if (session == nullptr) return GoingAway::kCloseNow;
    return node_.local(connection.worker()).go_away(*session, answer_within_ms);
  }
  PingReply on_ping(Connection& connection, std::string_view payload) override {
    auto* session = static_cast<Session*>(connection.user_data());
    if (session == nullptr || node_.local(connection.worker()).admit_ping(*session, payload)) return PingReply::kPong;
    return PingReply::kIgnore;
  }
  void on_drain(Connection& connection) override {
    auto* session = static_cast<Session*>(connection.user_data());
    if (session != nullptr) node_.local(connection.worker()).send_held(*session);
  }
  void on_close(Connection& connection, CloseCode, std::string_view) override {
    auto* session = static_cast<Session*>(connection.user_data());
    if (session == nullptr) return;
    connection.set_user_data(nullptr);
    node_.local(connection.worker()).close_session(*session);
  }

  std::uint64_t last_opened() const {
    std::lock_guard lock(mutex_);
    return opened_.empty() ? 0 : opened_.back();
  }

 private:
  Node& node_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> opened_;
};

class RoleHarness : public ::testing::Test {
 protected:
  RoleHarness() {
    server_config_.ping_interval_ms = 0;  // no heartbeat: every frame a peer reads is the hub's
    NamespaceOptions rooms;
    rooms.pattern = "room:*";
    rooms.presence = true;
    hub_config_.namespaces.push_back(rooms);
  }

  // Call after adjusting the configs.
  void start() {
    node_ = std::make_shared<Node>(hub_config_);
    // A peer says who it is in X-User (none: anonymous).
    node_->authenticator = [](const HttpRequest& request) -> std::optional<Principal> {
      Principal principal;
      principal.user = std::string(request.header("X-User"));
      return principal;
    };
    front_ = std::make_unique<RoleFront>(*node_);
    running_ = std::make_unique<RunningWorker>(server_config_, *front_);
    queues_ = std::make_unique<WorkerQueues>(*running_);
    running_->on_worker([&] { node_->start_roles(*queues_, 1, make_broker_(), server_config_.max_buffered_bytes); });
  }

  // The peers are gone by now (test-body locals): every session must have
  // closed. Then the worker goes, then the node lets go of its broker.
  void TearDown() override {
    if (!running_) return;
    EXPECT_TRUE(eventually([&] { return node_->local(0).connection_count() == 0; }))
        << node_->local(0).connection_count() << " sessions left";
    running_.reset();
    node_->stop();
  }

  // Adopted and upgraded with the protocol's subprotocol; *client: its id.
  Peer open(std::string_view user = {}, std::uint64_t* client = nullptr, int send_buffer = 0) {
    Peer peer = running_->adopt(send_buffer);
    std::string headers = "Sec-WebSocket-Protocol: switchboard.v1.json\r\n";
    if (!user.empty()) headers += "X-User: " + std::string(user) + "\r\n";
    EXPECT_TRUE(peer.send(server::testing::upgrade_request(server::testing::kSampleKey, "13", headers)));
    const std::string head = peer.read_head();
    EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
    if (client != nullptr) *client = front_->last_opened();
    return peer;
  }

  // A command as the bytes of a masked text frame.
  static std::string client_frame(std::string_view command) {
    return codec::make_masked_frame(Opcode::kText, command, codec::MaskKey{1, 2, 3, 4}, Fin::kYes);
  }
  static void send(Peer& peer, std::string_view command) {
    EXPECT_TRUE(peer.send_frame(Opcode::kText, command)) << command;
  }
  // The next text frame's payload; "<none>" when none came in time, or
  // "<close CODE>" for a close frame.
  static std::string next(Peer& peer) {
    std::optional<PeerFrame> frame = peer.read_frame();
    if (!frame) return "<none>";
    if (frame->opcode == Opcode::kClose) return "<close " + std::to_string(frame->close_code()) + ">";
    return frame->payload;
  }
  // Nothing else is waiting for the peer: its ping's pong is the next frame.
  static void expect_nothing_pending(Peer& peer, std::uint64_t ping_id) {
    send(peer, R"({"type":"ping","id":)" + std::to_string(ping_id) + "}");
    EXPECT_EQ(next(peer), protocol::encode_pong(ping_id));
  }

  HubStats stats() {
    HubStats stats;
    running_->on_worker([&] { stats = node_->stats(); });
    return stats;
  }
  std::size_t subscriptions() { return node_->local(0).subscription_count(); }

  ServerConfig server_config_;
  HubConfig hub_config_;
  // The node's broker, made on the worker by start() (one worker).
  std::function<std::unique_ptr<broker::Broker>()> make_broker_ = [] {
    return std::make_unique<broker::MemoryBroker>(1);
  };
  std::shared_ptr<Node> node_;
  std::unique_ptr<RoleFront> front_;
  std::unique_ptr<WorkerQueues> queues_;
  std::unique_ptr<RunningWorker> running_;  // last: destroyed first
};

}  // namespace switchboard::hub::harness
