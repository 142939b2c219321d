// Hub's public API and its WebSocketHandler plumbing; the command paths are
// in hub_commands.cc (local role) and hub_owner.cc (owner role).
#include "switchboard/hub.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/json_string.h"
#include "base/log.h"
#include "broker/broker_factory.h"
#include "hub/auth_weakening.h"
#include "hub/http_api.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/names.h"
#include "protocol/subprotocol.h"
#include "server/server_loops.h"

namespace switchboard {
namespace {

// What on_upgrade decided about a connection, for the on_open that follows
// it on the same thread (the server calls the two back to back).
struct Upgraded {
  Principal principal;
  bool authenticated = false;     // a token or the authenticator vouched for it
  bool awaiting_connect = false;  // auth.required and no token yet
};
thread_local std::optional<Upgraded> upgraded;

base::RateLimit rate_limit(std::uint64_t per_second, std::uint64_t burst) {
  return {static_cast<double>(per_second), static_cast<double>(std::max(burst, std::uint64_t{1}))};
}

}  // namespace

Hub::Impl::Impl(HubConfig hub_config)
    : config(std::move(hub_config)), rpc_budget(config.max_pending_rpcs, config.max_pending_rpc_bytes) {
  std::string error;
  current_policy = make_policy(config, &error);
  if (!current_policy) throw std::invalid_argument(error);
  message_limit = rate_limit(config.limits.messages_per_s, config.limits.messages_burst);
  byte_limit = rate_limit(config.limits.bytes_per_s, config.limits.bytes_burst);
  violation_limit = rate_limit(config.limits.violations_per_s, config.limits.violations_burst);
  send_limit = rate_limit(config.limits.sends_per_s, config.limits.sends_burst);
}

unsigned Hub::Impl::owner_of(std::string_view name) const {
  return static_cast<unsigned>(std::hash<std::string_view>{}(name) % workers.size());
}

const NamespaceOptions& hub::Policy::options_for(std::string_view channel) const {
  for (const NamespaceOptions& options : namespaces) {
    if (protocol::channel_matches(options.pattern, channel)) return options;
  }
  return default_namespace;
}

std::shared_ptr<const hub::Policy> Hub::Impl::make_policy(const HubConfig& config, std::string* error) {
  auto policy = std::make_shared<hub::Policy>();
  policy->verifier = hub::TokenVerifier::create(config.auth, error);
  if (!error->empty()) return nullptr;
  policy->auth_required = config.auth.required;
  policy->auth = config.auth;
  policy->namespaces = config.namespaces;
  policy->default_namespace = config.default_namespace;
  return policy;
}

std::shared_ptr<const hub::Policy> Hub::Impl::policy_now() {
  std::lock_guard lock(policy_mutex);
  return current_policy;
}

Hub::Hub(HubConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {}

Hub::~Hub() = default;

namespace {

// The broker the configuration names, one loop per worker of server.
std::unique_ptr<broker::Broker> make_broker(const HubConfig& config, Server& server) {
  broker::BrokerSettings settings;
  settings.url = config.broker_url;
  settings.cluster = config.broker_cluster;
  settings.tls_ca_file = config.broker_tls_ca_file;
  settings.tls_cert_file = config.broker_tls_cert_file;
  settings.tls_key_file = config.broker_tls_key_file;
  settings.presence_ttl_ms = config.presence_ttl_ms;
  std::vector<loop::EventLoop*> loops;
  for (unsigned worker = 0; worker < server.worker_count(); ++worker) {
    loops.push_back(&server::ServerLoops::of(server, worker));
  }
  return broker::make_broker(settings, std::move(loops));
}

}  // namespace

void Hub::on_start(Server& server) {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.outside_mutex);
    impl.server = &server;
    impl.server_gone = false;
  }
  const unsigned count = server.worker_count();
  impl.workers.clear();
  impl.rpc_budget.reset();  // the calls of an earlier server's workers went with them
  for (unsigned i = 0; i < count; ++i) {
    impl.workers.push_back(std::make_unique<hub::WorkerState>());
    impl.workers.back()->policy = impl.policy_now();
  }
  impl.held_bytes_per_connection = impl.config.max_held_bytes_per_connection != 0
                                       ? impl.config.max_held_bytes_per_connection
                                       : 2 * server.config().max_buffered_bytes;
  impl.release_slice_bytes = server.config().max_buffered_bytes;
  impl.broker = make_broker(impl.config, server);
  impl.broker->set_sink(impl);
  impl.client_prefix = impl.broker->client_prefix();
  for (unsigned worker = 0; worker < count; ++worker) impl.schedule_deadline_tick(worker);
  impl.accepting.store(true);
  if (!impl.gauges_registered) {
    impl.gauges_registered = true;
    impl.register_gauges();
  }
}

void Hub::on_rpc(std::string method, RpcHandler handler) {
  if (!protocol::is_valid_method(method)) throw std::invalid_argument("invalid rpc method name: " + method);
  impl_->rpc_handlers[std::move(method)] = std::move(handler);
}

bool Hub::Impl::post_from_outside(unsigned worker, std::function<void()> task) {
  std::lock_guard lock(outside_mutex);
  if (server == nullptr || server_gone) return false;
  server->post(worker, std::move(task));
  return true;
}

void Hub::on_draining(Server&) {
  // GET /readyz answers 503 from now on: a load balancer stops sending new
  // clients here while the connections are being closed.
  impl_->accepting.store(false);
  base::log(base::LogLevel::kInfo, "draining: readiness is now 503");
}

void Hub::on_going_away(Connection& connection) {
  if (connection.user_data() == nullptr) return;
  connection.send_answer(
      protocol::encode_disconnect(static_cast<std::uint16_t>(CloseCode::kGoingAway), "server shutting down", true),
      Opcode::kText);
}

void Hub::on_stop(Server&) {
  impl_->accepting.store(false);
  {
    std::lock_guard lock(impl_->outside_mutex);
    impl_->server_gone = true;
  }
  // The workers have stopped: a Redis broker's connections, which live on
  // their loops, close now, while the loops still exist.
  impl_->broker.reset();
}

void Hub::on_any_rpc(RpcHandler handler) { impl_->any_rpc_handler = std::move(handler); }

void Hub::set_authenticator(Authenticator authenticator) { impl_->authenticator = std::move(authenticator); }

void Hub::publish(std::string channel, std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::publish before the server started");
  if (!protocol::is_valid_channel(channel)) throw std::invalid_argument("invalid channel name: " + channel);
  if (!protocol::is_json(data_json)) throw std::invalid_argument("publish: data is not valid JSON");
  Impl& impl = *impl_;
  const unsigned owner = impl.owner_of(channel);
  impl.post_from_outside(owner, [hub = impl_, owner, channel = std::move(channel), data = std::move(data_json)] {
    hub->owner_publish(owner, channel, data, 0, hub::ReplyTo{});
  });
}

void Hub::send_to_user(std::string user, std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::send_to_user before the server started");
  if (!protocol::is_valid_user(user)) throw std::invalid_argument("invalid user id: " + user);
  if (!protocol::is_json(data_json)) throw std::invalid_argument("send_to_user: data is not valid JSON");
  Impl& impl = *impl_;
  const unsigned owner = impl.owner_of(user);
  impl.post_from_outside(owner, [hub = impl_, owner, user = std::move(user), data = std::move(data_json)] {
    hub->owner_send(owner, user, "", data, hub::ReplyTo{});
  });
}

void Hub::broadcast(std::string data_json) {
  if (impl_->server == nullptr) throw std::logic_error("Hub::broadcast before the server started");
  if (!protocol::is_json(data_json)) throw std::invalid_argument("broadcast: data is not valid JSON");
  // Every node, this one included, gets it back through on_broadcast.
  impl_->post_from_outside(
      0, [hub = impl_, frame = protocol::encode_direct("", data_json)] { hub->broker->broadcast(frame); });
}

void Hub::Impl::on_broadcast(std::string_view text) {
  // Serialised once, here; every worker sends the same frame.
  const SharedMessage frame = SharedMessage::make(std::string(text), Opcode::kText);
  for (unsigned worker = 0; worker < workers.size(); ++worker) {
    server->post(worker, [hub = shared_from_this(), worker, frame] { hub->deliver_to_everyone(worker, frame); });
  }
}

HubStats Hub::Impl::stats() const {
  HubStats stats;
  for (const auto& worker : workers) {
    stats.connections += worker->connection_count.load(std::memory_order_relaxed);
    stats.users += worker->owned_user_count.load(std::memory_order_relaxed);
    stats.channels += worker->owned_channel_count.load(std::memory_order_relaxed);
  }
  return stats;
}

HubStats Hub::stats() const { return impl_->stats(); }

void Hub::Impl::on_question(std::string_view question, std::function<void(std::string answer)> answer) {
  if (question == "stats") {
    const HubStats counts = stats();
    answer("{\"connections\":" + std::to_string(counts.connections) + ",\"users\":" + std::to_string(counts.users) +
           ",\"channels\":" + std::to_string(counts.channels) + "}");
  } else if (question == "channels") {
    list_local_channels(std::move(answer));
  } else if (question.starts_with("user ")) {
    // How many connections the user has here: its owner worker knows.
    const std::string user(question.substr(5));
    const unsigned owner = owner_of(user);
    server->post(owner, [hub = shared_from_this(), owner, user, answer = std::move(answer)] {
      std::uint64_t connections = 0;
      const auto& owned = hub->workers[owner]->owned_users;
      if (auto it = owned.find(user); it != owned.end()) {
        for (std::uint32_t count : it->second) connections += count;
      }
      answer("{\"connections\":" + std::to_string(connections) + "}");
    });
  } else {
    answer("null");  // a question from a newer node: it gets no usable answer, but not a silent wait
  }
}

void Hub::Impl::list_local_channels(std::function<void(std::string json_array)> done) {
  // Each owner lists the channels it owns; the answer is their union.
  struct Gathered {
    std::mutex mutex;
    std::size_t left;
    std::string parts;
    std::function<void(std::string)> done;
  };
  auto gathered = std::make_shared<Gathered>();
  gathered->left = workers.size();
  gathered->done = std::move(done);
  for (unsigned worker = 0; worker < workers.size(); ++worker) {
    server->post(worker, [hub = shared_from_this(), worker, gathered] {
      std::string part;
      for (const auto& [name, owned] : hub->workers[worker]->owned_channels) {
        if (!part.empty()) part += ',';
        part += "{\"channel\":";
        base::append_json_string(part, name);
        part += ",\"subscribers\":" + std::to_string(owned.subscribers) + "}";
      }
      std::unique_lock lock(gathered->mutex);
      if (!part.empty()) {
        if (!gathered->parts.empty()) gathered->parts += ',';
        gathered->parts += part;
      }
      if (--gathered->left != 0) return;
      std::string list = "[" + gathered->parts + "]";
      lock.unlock();
      gathered->done(std::move(list));
    });
  }
}

std::string Hub::reload(const HubConfig& config) {
  std::string error;
  std::shared_ptr<const hub::Policy> policy = Impl::make_policy(config, &error);
  if (!policy) return error;
  Impl& impl = *impl_;
  {
    // Compared and swapped under one lock: two reloads at once cannot
    // weaken authentication in two steps that each look harmless.
    std::lock_guard lock(impl.policy_mutex);
    if (std::string why = hub::weakening(impl.current_policy->auth, config.auth); !why.empty()) return why;
    impl.current_policy = policy;
  }
  for (unsigned worker = 0; worker < impl.workers.size(); ++worker) {
    impl.post_from_outside(worker, [hub = impl_, worker, policy] { hub->workers[worker]->policy = policy; });
  }
  return "";
}

void Hub::Impl::register_gauges() {
  const auto total = [this](std::atomic<std::size_t> hub::WorkerState::*count) {
    return [this, count] {
      double sum = 0;
      for (const auto& worker : workers) sum += static_cast<double>((worker.get()->*count).load());
      return sum;
    };
  };
  registry.gauge_callback("switchboard_users", "Distinct users with at least one connection", {},
                          total(&hub::WorkerState::owned_user_count));
  registry.gauge_callback("switchboard_channels", "Channels with at least one subscriber", {},
                          total(&hub::WorkerState::owned_channel_count));
  registry.gauge_callback("switchboard_subscriptions", "Subscriptions (connection, channel) open", {},
                          total(&hub::WorkerState::subscription_count));
  registry.gauge_callback("switchboard_rpcs_pending", "rpcs waiting for their answer (hub.max_pending_rpcs)", {},
                          [this] { return static_cast<double>(rpc_budget.rpcs()); });
  registry.gauge_callback("switchboard_rpc_pending_bytes",
                          "Request bytes of the rpcs waiting for their answer (hub.max_pending_rpc_bytes)", {},
                          [this] { return static_cast<double>(rpc_budget.bytes()); });
  for (unsigned worker = 0; worker < workers.size(); ++worker) {
    registry.gauge_callback(
        "switchboard_connections", "Open protocol connections, per worker thread", {{"worker", std::to_string(worker)}},
        [this, worker] {
          // A later server of this hub may have fewer workers.
          return worker < workers.size() ? static_cast<double>(workers[worker]->connection_count.load()) : 0.0;
        });
  }
  // The server's own counts; nothing once it is gone (Hub::metrics_text may
  // be called after that).
  registry.gauge_callback("switchboard_tcp_connections", "Sockets open or opening, WebSocket or not", {}, [this] {
    std::lock_guard lock(outside_mutex);
    return server == nullptr || server_gone ? 0.0 : static_cast<double>(server->connection_count());
  });
  const auto refused = [this](std::uint64_t ServerStats::*field) {
    return [this, field] {
      std::lock_guard lock(outside_mutex);
      return server == nullptr || server_gone ? 0.0 : static_cast<double>(server->stats().*field);
    };
  };
  registry.counter_callback("switchboard_admission_refused_total",
                            "Sockets refused before the handshake, by cap (429 per address, 503 new connections)",
                            {{"reason", "per_address"}}, refused(&ServerStats::refused_per_address));
  registry.counter_callback("switchboard_admission_refused_total",
                            "Sockets refused before the handshake, by cap (429 per address, 503 new connections)",
                            {{"reason", "new_connection_rate"}}, refused(&ServerStats::refused_new_connections));
  registry.gauge_callback("switchboard_slow_consumer_held_bytes",
                          "Bytes of frames held for slow consumers (drop-oldest, keep-latest), a shared frame "
                          "counted once per connection holding it",
                          {}, [this] { return static_cast<double>(held_budget.held()); });
  registry.gauge_callback("switchboard_ready",
                          "1 while the server accepts connections and its broker is reachable, else 0", {},
                          [this] { return ready() ? 1.0 : 0.0; });
  registry.gauge_callback("switchboard_broker_up", "1 while the broker can carry publications (always, for memory)", {},
                          [this] { return broker_healthy() ? 1.0 : 0.0; });
}

std::string Hub::metrics_text() const { return impl_->registry.render(); }

void Hub::add_routes(Server& server, std::string api_key) {
  server.route("GET", "/metrics", [impl = impl_](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = impl->registry.render();
    return response;
  });
  // A health check: answered even when the admission caps refuse the rest.
  server.health_route("/readyz", [impl = impl_](const HttpRequest&) {
    HttpResponse response;
    if (impl->ready()) {
      response.body = "ready\n";
    } else {
      response.status = 503;
      response.body = impl->accepting.load() ? "broker unreachable\n" : "draining\n";
      response.headers.emplace_back("Retry-After", "1");
    }
    return response;
  });
  if (!api_key.empty()) {
    http_api_ = std::make_unique<hub::HttpApi>(impl_, std::move(api_key));
    http_api_->add_routes(server);
  }
}

UpgradeDecision Hub::on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) {
  UpgradeDecision decision;
  const bool asked = std::find(offered.begin(), offered.end(), protocol::kSubprotocol) != offered.end();
  if (!asked && impl_->config.require_subprotocol) {
    decision.reject_status = 400;
    decision.reject_body = "this server speaks protocol v1: ask for the subprotocol " +
                           std::string(protocol::kSubprotocol) + " (Sec-WebSocket-Protocol)";
    return decision;
  }
  if (asked) decision.subprotocol = std::string(protocol::kSubprotocol);
  Impl& impl = *impl_;
  const std::shared_ptr<const hub::Policy> policy = impl.policy_now();
  Upgraded accepted;
  const std::string token = policy->verifier ? hub::token_from_request(request) : std::string();
  if (!token.empty()) {
    hub::GrantedToken granted;
    const auth::VerifyError error = policy->verifier->verify(token, auth::TokenUse::kConnection, &granted);
    if (error != auth::VerifyError::kNone) {
      impl.metrics.tokens_rejected.add();
      impl.auth_failures.record(request.peer_address, "upgrade", auth::describe(error));
      decision.reject_status = 401;
      decision.reject_body = "invalid token: " + std::string(auth::describe(error));
      return decision;
    }
    accepted.principal = {std::move(granted.user), std::move(granted.info_json), std::move(granted.channels),
                          granted.expires_at, std::move(granted.send_to)};
    accepted.authenticated = true;
  } else if (impl.authenticator) {
    std::optional<Principal> known;
    try {
      known = impl.authenticator(request);
    } catch (const std::exception& error) {
      base::log(base::LogLevel::kError, "authenticator threw: %s", error.what());
      decision.reject_status = 500;
      decision.reject_body = "authentication is unavailable";
      return decision;
    }
    if (!known) {
      impl.auth_failures.record(request.peer_address, "upgrade", "refused by the authenticator");
      decision.reject_status = 401;
      decision.reject_body = "authentication failed";
      return decision;
    }
    if (!known->user.empty() && !protocol::is_valid_user(known->user)) {
      impl.auth_failures.record(request.peer_address, "upgrade", "invalid user id from the authenticator");
      decision.reject_status = 401;
      decision.reject_body = "invalid user id";
      return decision;
    }
    accepted.principal = std::move(*known);
    accepted.authenticated = !accepted.principal.user.empty();
    // An anonymous Principal is no authentication: with auth.required the
    // connection still has to send a token, as without an authenticator.
    accepted.awaiting_connect = !accepted.authenticated && policy->verifier && policy->auth_required;
  } else if (policy->verifier && policy->auth_required) {
    // Browsers cannot set headers: the token may come in `connect`.
    accepted.awaiting_connect = true;
  }
  upgraded = std::move(accepted);
  return decision;
}

void Hub::on_open(Connection& connection, const HttpRequest& request) {
  Upgraded accepted = upgraded ? std::move(*upgraded) : Upgraded{};
  upgraded.reset();
  // One line per connection event, never per message; never the token.
  if (base::log_level() <= base::LogLevel::kInfo) {
    base::log(base::LogLevel::kInfo, "event=open client=%llu user=%s peer=%.*s",
              static_cast<unsigned long long>(connection.id()),
              accepted.principal.user.empty() ? "-" : accepted.principal.user.c_str(),
              static_cast<int>(request.peer_address.size()), request.peer_address.data());
  }
  impl_->open_session(connection, request.peer_address, std::move(accepted.principal), accepted.authenticated,
                      accepted.awaiting_connect);
}

void Hub::on_message(Connection& connection, std::string_view payload, Opcode opcode) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session == nullptr) return;
  impl_->metrics.bytes_received.add(payload.size());
  if (!impl_->admit(*session, payload)) return;
  if (opcode != Opcode::kText) {
    impl_->fail(*session, 0, protocol::ErrorCode::kMalformed, "protocol v1 commands are JSON text frames, not binary");
    return;
  }
  impl_->handle(*session, payload);
}

PingReply Hub::on_ping(Connection& connection, std::string_view payload) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session == nullptr || impl_->admit_ping(*session, payload)) return PingReply::kPong;
  return PingReply::kIgnore;
}

void Hub::on_drain(Connection& connection) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session != nullptr) impl_->send_held(*session);
}

void Hub::on_close(Connection& connection, CloseCode code, std::string_view reason) {
  auto* session = static_cast<hub::Session*>(connection.user_data());
  if (session == nullptr) return;
  impl_->metrics.count_close(code);
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

void RpcReply::fail_too_large() const {
  if (target_->answered.exchange(true)) return;
  std::shared_ptr<Hub::Impl> hub = target_->hub.lock();
  if (!hub) return;
  hub->post_from_outside(target_->worker, [hub, worker = target_->worker, rpc = target_->rpc] {
    hub->finish_rpc(worker, rpc, Hub::Impl::RpcOutcome::kTooLarge, "");
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
