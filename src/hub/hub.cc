// Hub's public API and its WebSocketHandler plumbing; the command paths are
// in hub_commands.cc (local role) and hub_owner.cc (owner role).
#include "switchboard/hub.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "base/log.h"
#include "broker/memory_broker.h"
#include "hub/encode.h"
#include "hub/hub_impl.h"
#include "hub/names.h"

namespace switchboard {
namespace {

// The principal on_upgrade accepted, for the on_open that follows it on the
// same thread (the server calls the two back to back for one connection).
thread_local std::optional<Principal> upgraded_principal;

bool matches(const std::string& pattern, std::string_view channel) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.ends_with(":*")) {
    return channel.size() > pattern.size() - 1 &&
           channel.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  }
  return pattern == channel;
}

}  // namespace

Hub::Impl::Impl(HubConfig hub_config) : config(std::move(hub_config)) {}

unsigned Hub::Impl::owner_of(std::string_view name) const {
  return static_cast<unsigned>(std::hash<std::string_view>{}(name) % workers.size());
}

const NamespaceOptions& Hub::Impl::options_for(std::string_view channel) const {
  for (const NamespaceOptions& options : config.namespaces) {
    if (matches(options.pattern, channel)) return options;
  }
  return config.default_namespace;
}

Hub::Hub(HubConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {}

Hub::~Hub() = default;

void Hub::on_start(Server& server) {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.outside_mutex);
    impl.server = &server;
    impl.server_gone = false;
  }
  const unsigned count = server.worker_count();
  impl.workers.clear();
  for (unsigned i = 0; i < count; ++i) impl.workers.push_back(std::make_unique<hub::WorkerState>());
  impl.broker = std::make_unique<broker::MemoryBroker>(count);
  impl.broker->set_sink(impl);
}

void Hub::on_rpc(std::string method, RpcHandler handler) {
  if (!hub::is_valid_method(method)) throw std::invalid_argument("invalid rpc method name: " + method);
  impl_->rpc_handlers[std::move(method)] = std::move(handler);
}

bool Hub::Impl::post_from_outside(unsigned worker, std::function<void()> task) {
  std::lock_guard lock(outside_mutex);
  if (server == nullptr || server_gone) return false;
  server->post(worker, std::move(task));
  return true;
}

void Hub::on_stop(Server&) {
  std::lock_guard lock(impl_->outside_mutex);
  impl_->server_gone = true;
}

void Hub::on_any_rpc(RpcHandler handler) { impl_->any_rpc_handler = std::move(handler); }

void Hub::set_authenticator(Authenticator authenticator) { impl_->authenticator = std::move(authenticator); }

void Hub::publish(std::string channel, std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::publish before the server started");
  if (!hub::is_valid_channel(channel)) throw std::invalid_argument("invalid channel name: " + channel);
  if (!hub::is_json(data_json)) throw std::invalid_argument("publish: data is not valid JSON");
  Impl& impl = *impl_;
  const unsigned owner = impl.owner_of(channel);
  impl.post_from_outside(owner, [hub = impl_, owner, channel = std::move(channel), data = std::move(data_json)] {
    hub->owner_publish(owner, channel, data, 0, 0, 0, 0);
  });
}

void Hub::send_to_user(std::string user, std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::send_to_user before the server started");
  if (!hub::is_valid_user(user)) throw std::invalid_argument("invalid user id: " + user);
  if (!hub::is_json(data_json)) throw std::invalid_argument("send_to_user: data is not valid JSON");
  Impl& impl = *impl_;
  const unsigned owner = impl.owner_of(user);
  impl.post_from_outside(owner, [hub = impl_, owner, user = std::move(user), data = std::move(data_json)] {
    hub->owner_send(owner, user, "", data, 0, 0, 0);
  });
}

void Hub::broadcast(std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::broadcast before the server started");
  if (!hub::is_json(data_json)) throw std::invalid_argument("broadcast: data is not valid JSON");
  // Serialised once, here; every worker sends the same frame.
  const SharedMessage frame = SharedMessage::make(hub::encode_direct("", data_json), Opcode::kText);
  for (unsigned worker = 0; worker < impl_->workers.size(); ++worker) {
    impl_->post_from_outside(worker, [hub = impl_, worker, frame] { hub->deliver_to_everyone(worker, frame); });
  }
}

HubStats Hub::stats() const {
  HubStats stats;
  for (const auto& worker : impl_->workers) {
    stats.connections += worker->connection_count.load(std::memory_order_relaxed);
    stats.users += worker->owned_user_count.load(std::memory_order_relaxed);
    stats.channels += worker->owned_channel_count.load(std::memory_order_relaxed);
  }
  return stats;
}

UpgradeDecision Hub::on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) {
  UpgradeDecision decision;
  const bool asked = std::find(offered.begin(), offered.end(), kProtocolV1) != offered.end();
  if (!asked && impl_->config.require_subprotocol) {
    decision.reject_status = 400;
    decision.reject_body =
        "this server speaks protocol v1: ask for the subprotocol switchboard.v1.json "
        "(Sec-WebSocket-Protocol)";
    return decision;
  }
  if (asked) decision.subprotocol = std::string(kProtocolV1);
  Principal principal;
  if (impl_->authenticator) {
    std::optional<Principal> known;
    try {
      known = impl_->authenticator(request);
    } catch (const std::exception& error) {
      base::log(base::LogLevel::kError, "authenticator threw: %s", error.what());
      decision.reject_status = 500;
      decision.reject_body = "authentication is unavailable";
      return decision;
    }
    if (!known) {
      decision.reject_status = 401;
      decision.reject_body = "authentication failed";
      return decision;
    }
    if (!known->user.empty() && !hub::is_valid_user(known->user)) {
      decision.reject_status = 401;
      decision.reject_body = "invalid user id";
      return decision;
    }
    principal = std::move(*known);
  }
  upgraded_principal = std::move(principal);
  return decision;
}

void Hub::on_open(Connection& connection, const HttpRequest&) {
  Principal principal = upgraded_principal ? std::move(*upgraded_principal) : Principal{};
  upgraded_principal.reset();
  impl_->open_session(connection, std::move(principal));
}

void Hub::on_message(Connection& connection, std::string_view payload, Opcode opcode) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session == nullptr) return;
  if (opcode != Opcode::kText) {
    impl_->fail(*session, 0, hub::ErrorCode::kMalformed, "protocol v1 commands are JSON text frames, not binary");
    return;
  }
  impl_->handle(*session, payload);
}

void Hub::on_close(Connection& connection, CloseCode, std::string_view) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session == nullptr) return;
  connection.set_user_data(nullptr);
  impl_->close_session(*session);
}

void RpcReply::ok(std::string data_json) const {
  if (target_->answered.exchange(true)) return;
  std::shared_ptr<Hub::Impl> hub = target_->hub.lock();
  if (!hub) return;
  hub->post_from_outside(target_->worker,
                         [hub, worker = target_->worker, rpc = target_->rpc, data = std::move(data_json)] {
                           hub->finish_rpc(worker, rpc, Hub::Impl::RpcOutcome::kAnswered, data);
                         });
}

void RpcReply::fail(std::string message) const {
  if (target_->answered.exchange(true)) return;
  std::shared_ptr<Hub::Impl> hub = target_->hub.lock();
  if (!hub) return;
  hub->post_from_outside(target_->worker,
                         [hub, worker = target_->worker, rpc = target_->rpc, text = std::move(message)] {
                           hub->finish_rpc(worker, rpc, Hub::Impl::RpcOutcome::kFailed, text);
                         });
}

}  // namespace switchboard
