#include "hub/node.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "base/log.h"
#include "broker/broker_factory.h"
#include "hub/auth_weakening.h"
#include "server/server_loops.h"

namespace switchboard::hub {
namespace {

base::RateLimit rate_limit(std::uint64_t per_second, std::uint64_t burst) {
  return {static_cast<double>(per_second), static_cast<double>(std::max(burst, std::uint64_t{1}))};
}

std::shared_ptr<const Policy> policy_or_throw(const HubConfig& config) {
  auto made = make_policy(config);
  if (!made) throw std::invalid_argument(made.error());
  return *std::move(made);
}

// The broker the configuration names, one loop per worker of server.
std::unique_ptr<broker::Broker> make_broker(const HubConfig& config, Server& server) {
  broker::BrokerSettings settings;
  settings.url = config.broker_url;
  settings.cluster = config.broker_cluster;
  settings.tls_ca_file = config.broker_tls_ca_file;
  settings.tls_cert_file = config.broker_tls_cert_file;
  settings.tls_key_file = config.broker_tls_key_file;
  settings.presence_ttl_ms = config.presence_ttl_ms;
  settings.max_stream_bytes = config.max_history_bytes;
  std::vector<loop::EventLoop*> loops;
  for (unsigned worker = 0; worker < server.worker_count(); ++worker) {
    loops.push_back(&server::ServerLoops::of(server, worker));
  }
  return broker::make_broker(settings, std::move(loops));
}

// The server's workers as the node's task queues.
class ServerQueues final : public TaskQueues {
 public:
  explicit ServerQueues(Server& server) : server_(server) {}
  void post(unsigned worker, std::function<void()> task) override { server_.post(worker, std::move(task)); }
  void post_after(unsigned worker, std::uint64_t delay_ms, std::function<void()> task) override {
    server_.post_after(worker, delay_ms, std::move(task));
  }

 private:
  Server& server_;
};

}  // namespace

Node::Node(HubConfig config)
    : rpc_budget(config.max_pending_rpcs, config.max_pending_rpc_bytes),
      held_budget(config.max_held_bytes),
      message_limit(rate_limit(config.limits.messages_per_s, config.limits.messages_burst)),
      byte_limit(rate_limit(config.limits.bytes_per_s, config.limits.bytes_burst)),
      violation_limit(rate_limit(config.limits.violations_per_s, config.limits.violations_burst)),
      send_limit(rate_limit(config.limits.sends_per_s, config.limits.sends_burst)),
      config_(std::move(config)),
      current_policy_(policy_or_throw(config_)) {}

Node::~Node() = default;

void Node::start(Server& server) {
  server_queues_ = std::make_unique<ServerQueues>(server);
  {
    std::lock_guard lock(outside_mutex_);
    server_ = &server;
  }
  start_roles(*server_queues_, server.worker_count(), make_broker(config_, server), server.config().max_buffered_bytes);
}

void Node::start_roles(TaskQueues& queues, unsigned count, std::unique_ptr<broker::Broker> broker,
                       std::size_t max_buffered_bytes) {
  {
    std::lock_guard lock(outside_mutex_);
    queues_ = &queues;
    server_gone_ = false;
  }
  workers_.clear();
  rpc_budget.reset();  // the calls of an earlier server's workers went with them
  for (unsigned worker = 0; worker < count; ++worker) workers_.push_back(std::make_unique<Worker>(*this, worker));
  held_bytes_per_connection =
      config_.max_held_bytes_per_connection != 0 ? config_.max_held_bytes_per_connection : 2 * max_buffered_bytes;
  release_slice_bytes = max_buffered_bytes;
  broker_ = std::move(broker);
  broker_->set_sink(*this);
  client_prefix_ = broker_->client_prefix();
  if (!broker_->keeps_streams()) {
    const Policy& policy = *policy_now();
    bool history = policy.default_namespace.keeps_history();
    for (const NamespaceOptions& options : policy.namespaces) history = history || options.keeps_history();
    if (history) {
      base::log(base::LogLevel::kWarn,
                "history_size/history_ttl are set, but this broker keeps no streams: channels have no "
                "history and subscribes are not recoverable");
    }
  }
  for (const auto& worker : workers_) {
    worker->local.schedule_deadline_tick();
    worker->owner.schedule_stream_expiry();
  }
  accepting_.store(true);
  if (!gauges_registered_) {
    gauges_registered_ = true;
    register_gauges();
  }
}

void Node::stop() {
  accepting_.store(false);
  {
    std::lock_guard lock(outside_mutex_);
    server_gone_ = true;
  }
  // The workers have stopped: a Redis broker's connections, which live on
  // their loops, close now, while the loops still exist.
  broker_.reset();
}

bool Node::post_task_from_outside(unsigned worker, std::function<void()> task) {
  std::lock_guard lock(outside_mutex_);
  if (queues_ == nullptr || server_gone_) return false;
  queues_->post(worker, std::move(task));
  return true;
}

std::shared_ptr<const Policy> Node::policy_now() const {
  std::lock_guard lock(policy_mutex_);
  return current_policy_;
}

std::string Node::reload(const HubConfig& config) {
  auto made = make_policy(config);
  if (!made) return made.error();
  std::shared_ptr<const Policy> policy = *std::move(made);
  {
    // Compared and swapped under one lock: two reloads at once cannot
    // weaken authentication in two steps that each look harmless.
    std::lock_guard lock(policy_mutex_);
    if (std::optional<std::string> why = weakening(current_policy_->auth, config.auth)) return *why;
    current_policy_ = policy;
  }
  for (unsigned worker = 0; worker < workers_.size(); ++worker) {
    post_from_outside<&LocalRole::set_policy>(worker, policy);
  }
  return "";
}

HubStats Node::stats() const {
  HubStats stats;
  for (const auto& worker : workers_) {
    stats.connections += worker->local.connection_count();
    stats.users += worker->owner.user_count();
    stats.channels += worker->owner.channel_count();
  }
  return stats;
}

RpcReply Node::rpc_reply(unsigned worker, std::uint64_t rpc) {
  auto target = std::make_shared<RpcReply::Target>();
  target->node = weak_from_this();
  target->worker = worker;
  target->rpc = rpc;
  return RpcReply(std::move(target));
}

void Node::on_publication(unsigned owner_worker, const broker::Publication& publication) {
  owner(owner_worker).on_publication(publication);
}

bool Node::on_user_message(unsigned owner_worker, const broker::UserMessage& message) {
  return owner(owner_worker).on_user_message(message);
}

void Node::on_channel_event(unsigned owner_worker, std::string_view channel, std::string_view frame) {
  owner(owner_worker).on_channel_event(channel, frame);
}

void Node::on_link_restored(unsigned owner_worker) { owner(owner_worker).catch_up_streams(); }

}  // namespace switchboard::hub
