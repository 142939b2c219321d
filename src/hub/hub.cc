// Hub's public API and its WebSocketHandler plumbing: a thin front over the
// node (node.h), which does the work on the workers' roles.
#include "switchboard/hub.h"

#include <stdexcept>
#include <utility>

#include "base/json_string.h"
#include "base/log.h"
#include "hub/http_api.h"
#include "hub/node.h"
#include "hub/upgrade.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard {

using hub::LocalRole;
using hub::OwnerRole;
using hub::Session;

Hub::Hub(HubConfig config) : node_(std::make_shared<hub::Node>(std::move(config))) {}

Hub::~Hub() = default;

void Hub::on_start(Server& server) { node_->start(server); }

void Hub::on_stop(Server&) { node_->stop(); }

void Hub::on_draining(Server&) {
  // GET /readyz answers 503 from now on: a load balancer stops sending new
  // clients here while the connections are being closed.
  node_->stop_accepting();
  base::log(base::LogLevel::kInfo, "draining: readiness is now 503");
}

GoingAway Hub::on_going_away(Connection& connection, std::uint64_t answer_within_ms) {
  auto* session = static_cast<Session*>(connection.user_data());
  if (session == nullptr) return GoingAway::kCloseNow;
  return node_->local(connection.worker()).go_away(*session, answer_within_ms);
}

void Hub::on_rpc(std::string method, RpcHandler handler) {
  if (!protocol::is_valid_method(method)) throw std::invalid_argument("invalid rpc method name: " + method);
  node_->rpc_handlers[std::move(method)] = std::move(handler);
}

void Hub::on_any_rpc(RpcHandler handler) { node_->any_rpc_handler = std::move(handler); }

void Hub::set_authenticator(Authenticator authenticator) { node_->authenticator = std::move(authenticator); }

void Hub::publish(std::string channel, std::string data_json) {
  if (node_->worker_count() == 0) throw std::logic_error("Hub::publish before the server started");
  if (!protocol::is_valid_channel(channel)) throw std::invalid_argument("invalid channel name: " + channel);
  if (!protocol::is_json(data_json)) throw std::invalid_argument("publish: data is not valid JSON");
  const unsigned owner = node_->owner_of(channel);
  node_->post_from_outside<&OwnerRole::publish>(owner, std::move(channel), std::move(data_json), std::uint64_t{0},
                                                hub::ReplyTo{});
}

void Hub::send_to_user(std::string user, std::string data_json) {
  if (node_->worker_count() == 0) throw std::logic_error("Hub::send_to_user before the server started");
  if (!protocol::is_valid_user(user)) throw std::invalid_argument("invalid user id: " + user);
  if (!protocol::is_json(data_json)) throw std::invalid_argument("send_to_user: data is not valid JSON");
  const unsigned owner = node_->owner_of(user);
  node_->post_from_outside<&OwnerRole::send>(owner, std::move(user), std::string(), std::move(data_json),
                                             hub::ReplyTo{}, hub::OnlineInReply::kShown);
}

void Hub::broadcast(std::string data_json) {
  if (node_->worker_count() == 0) throw std::logic_error("Hub::broadcast before the server started");
  if (!protocol::is_json(data_json)) throw std::invalid_argument("broadcast: data is not valid JSON");
  // Every node, this one included, gets it back through on_broadcast.
  node_->post_task_from_outside(
      0, [node = node_, frame = protocol::encode_direct("", data_json)] { node->broker()->broadcast(frame); });
}

HubStats Hub::stats() const { return node_->stats(); }

std::string Hub::reload(const HubConfig& config) { return node_->reload(config); }

std::string Hub::metrics_text() const { return node_->registry.render(); }

void Hub::add_routes(Server& server, std::string api_key) {
  server.route("GET", "/metrics", [node = node_](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = node->registry.render();
    return response;
  });
  // A health check: answered even when the admission caps refuse the rest.
  server.health_route("/readyz", [node = node_](const HttpRequest&) {
    HttpResponse response;
    if (node->ready()) {
      response.body = "ready\n";
    } else {
      response.status = 503;
      response.body = node->accepting() ? "broker unreachable\n" : "draining\n";
      response.headers.emplace_back("Retry-After", "1");
    }
    return response;
  });
  if (!api_key.empty()) {
    http_api_ = std::make_unique<hub::HttpApi>(node_, std::move(api_key));
    http_api_->add_routes(server);
  }
}

UpgradeDecision Hub::on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) {
  return hub::decide_upgrade(*node_, request, offered);
}

void Hub::on_open(Connection& connection, const HttpRequest& request) {
  hub::Upgraded* upgraded =
      request.upgrade_state != nullptr ? std::any_cast<hub::Upgraded>(request.upgrade_state) : nullptr;
  hub::Upgraded accepted = upgraded != nullptr ? std::move(*upgraded) : hub::Upgraded{};
  // One line per connection event, never per message; never the token.
  if (base::log_level() <= base::LogLevel::kInfo) {
    base::log(base::LogLevel::kInfo, "event=open client=%llu user=%s peer=%.*s",
              static_cast<unsigned long long>(connection.id()),
              accepted.principal.user.empty() ? "-" : accepted.principal.user.c_str(),
              static_cast<int>(request.peer_address.size()), request.peer_address.data());
  }
  node_->local(connection.worker())
      .open_session(connection, request.peer_address, std::move(accepted.principal), accepted.how);
}

void Hub::on_message(Connection& connection, std::string_view payload, Opcode opcode) {
  auto* session = static_cast<Session*>(connection.user_data());
  if (session == nullptr) return;
  node_->metrics.bytes_received.add(payload.size());
  node_->local(connection.worker()).receive(*session, payload, opcode);
}

PingReply Hub::on_ping(Connection& connection, std::string_view payload) {
  auto* session = static_cast<Session*>(connection.user_data());
  if (session == nullptr || node_->local(connection.worker()).admit_ping(*session, payload)) return PingReply::kPong;
  return PingReply::kIgnore;
}

void Hub::on_drain(Connection& connection) {
  auto* session = static_cast<Session*>(connection.user_data());
  if (session != nullptr) node_->local(connection.worker()).send_held(*session);
}

void Hub::on_close(Connection& connection, CloseCode code, std::string_view reason) {
  auto* session = static_cast<Session*>(connection.user_data());
  if (session == nullptr) return;
  node_->metrics.count_close(code);
  if (base::log_level() <= base::LogLevel::kInfo) {
    // The reason is the peer's text: printed as a quoted, escaped JSON
    // string so that it cannot forge a log line.
    std::string quoted;
    base::append_json_string(quoted, reason.substr(0, 123));
    base::log(base::LogLevel::kInfo, "event=close client=%llu user=%s code=%u reason=%s",
              static_cast<unsigned long long>(connection.id()), session->user.empty() ? "-" : session->user.c_str(),
              static_cast<unsigned>(code), quoted.c_str());
  }
  connection.set_user_data(nullptr);
  node_->local(connection.worker()).close_session(*session);
}

namespace {

// Posts an rpc's outcome to its call's worker, once, while the node lives.
// (A template: RpcReply::Target is private, deduced here, never named.)
template <typename Target>
void finish(const std::shared_ptr<Target>& target, hub::RpcOutcome outcome, std::string result) {
  if (target->answered.exchange(true)) return;
  std::shared_ptr<hub::Node> node = target->node.lock();
  if (!node) return;
  node->post_from_outside<&LocalRole::finish_rpc>(target->worker, target->rpc, outcome, std::move(result));
}

}  // namespace

void RpcReply::ok(std::string data_json) const { finish(target_, hub::RpcOutcome::kAnswered, std::move(data_json)); }

void RpcReply::fail_too_large() const { finish(target_, hub::RpcOutcome::kTooLarge, ""); }

void RpcReply::fail(std::string message) const { finish(target_, hub::RpcOutcome::kFailed, std::move(message)); }

}  // namespace switchboard
