// The node-wide state of the hub: what every worker shares (the
// configuration, the current policy, the broker, the metrics, the rpc
// handlers and budget, the authenticator, readiness), and each worker's two
// roles (local_role.h, owner_role.h), which meet only through posts.
//
// So a publish travels: session's worker (LocalRole, the command's checks)
// -> the channel's owner (OwnerRole::publish; the broker numbers it) -> each
// interested worker (LocalRole::deliver_to_channel) -> Connection::send of
// the one SharedMessage per local subscriber; the publisher's reply comes
// back from the owner. No locks on that path: workers meet only through
// Server::post, in the typed form of post<&Role::fn>(worker, args...).
//
// Threading: everything set in start() is read-only until stop(); the
// counters and budgets are atomics; `current policy` is under a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/token_bucket.h"
#include "broker/broker.h"
#include "hub/auth_failure_log.h"
#include "hub/held_frames.h"
#include "hub/hub_metrics.h"
#include "hub/local_role.h"
#include "hub/owner_role.h"
#include "hub/policy.h"
#include "hub/role_task.h"
#include "hub/rpc_budget.h"
#include "switchboard/hub.h"

namespace switchboard::hub {

// Where the node's tasks run: the server's workers, or, in the roles' unit
// tests, queues the test runs itself (tests/unit/hub/owner_role_test.cc).
class TaskQueues {
 public:
  virtual ~TaskQueues() = default;
  // Runs task on worker's thread soon; tasks posted from one thread to one
  // worker run in posting order (Server::post).
  virtual void post(unsigned worker, std::function<void()> task) = 0;
  virtual void post_after(unsigned worker, std::uint64_t delay_ms, std::function<void()> task) = 0;
};

// One worker's share of the node: its two roles, touched only on its thread
// (except their counters, read by stats() and /metrics).
struct Worker {
  Worker(Node& node, unsigned index) : local(node, index), owner(node, index, local) {}
  LocalRole local;
  OwnerRole owner;
};

class Node : public broker::BrokerSink, public std::enable_shared_from_this<Node> {
 public:
  // Throws std::invalid_argument when config's keys are unusable.
  explicit Node(HubConfig config);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Hub::on_start: one Worker per worker of server, the broker, the
  // deadline ticks; ready from then on. Hub::on_stop: no more posts from
  // outside, and the broker goes while the workers' loops still exist.
  void start(Server& server);
  void stop();
  // What start() does once it has the server's queues and broker, for the
  // roles' unit tests: count roles over queues, with broker, and
  // max_buffered_bytes as the server's per-connection buffer cap.
  void start_roles(TaskQueues& queues, unsigned count, std::unique_ptr<broker::Broker> broker,
                   std::size_t max_buffered_bytes);

  // Runs Fn (a member of LocalRole or OwnerRole) on `worker`'s role, on
  // that worker's thread, with args (copied or moved into the task, never a
  // view: the task runs later). The task keeps the node alive until it has
  // run. From a worker thread only: the workers run only while the server
  // exists.
  template <auto Fn, typename... Args>
  void post(unsigned worker, Args&&... args) {
    queues_->post(worker, task<Fn>(worker, std::forward<Args>(args)...));
  }
  // The same, delay_ms from now.
  template <auto Fn, typename... Args>
  void post_after(unsigned worker, std::uint64_t delay_ms, Args&&... args) {
    queues_->post_after(worker, delay_ms, task<Fn>(worker, std::forward<Args>(args)...));
  }
  // The same from any thread (rpc answers, the public API): false, and
  // dropped, once the server is being destroyed.
  template <auto Fn, typename... Args>
  bool post_from_outside(unsigned worker, Args&&... args) {
    // A late answer (RpcReply) may name a worker of an earlier server.
    if (worker >= workers_.size()) return false;
    return post_task_from_outside(worker, task<Fn>(worker, std::forward<Args>(args)...));
  }
  // An untyped task, for the few that gather answers from every worker.
  void post_task(unsigned worker, std::function<void()> task) { queues_->post(worker, std::move(task)); }
  bool post_task_from_outside(unsigned worker, std::function<void()> task);

  // The worker that owns a channel or a user (a hash of the name).
  unsigned owner_of(std::string_view name) const {
    return static_cast<unsigned>(std::hash<std::string_view>{}(name) % workers_.size());
  }
  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
  LocalRole& local(unsigned worker) { return workers_[worker]->local; }
  OwnerRole& owner(unsigned worker) { return workers_[worker]->owner; }
  const LocalRole& local(unsigned worker) const { return workers_[worker]->local; }
  const OwnerRole& owner(unsigned worker) const { return workers_[worker]->owner; }

  const HubConfig& config() const { return config_; }
  // The current policy, for threads that are not a worker's (on_upgrade
  // runs on a worker but is not told which); workers read their own copy
  // (LocalRole::policy).
  std::shared_ptr<const Policy> policy_now() const;
  // Hub::reload: "" or why not (see there).
  std::string reload(const HubConfig& config);

  // Null before start() and after stop(); any worker thread in between.
  broker::Broker* broker() const { return broker_.get(); }
  // Before each client id, so it is unique among nodes (Broker::client_prefix).
  const std::string& client_prefix() const { return client_prefix_; }

  // Readiness: accepting, and the broker can carry publications.
  bool broker_healthy() const { return broker_ == nullptr || broker_->healthy(); }
  bool ready() const { return accepting_.load() && broker_healthy(); }
  bool accepting() const { return accepting_.load(); }
  void stop_accepting() { accepting_.store(false); }
  HubStats stats() const;
  // The handle a handler answers rpc (of worker's local role) through.
  RpcReply rpc_reply(unsigned worker, std::uint64_t rpc);

  // Set before start().
  std::unordered_map<std::string, RpcHandler> rpc_handlers;
  RpcHandler any_rpc_handler;  // for methods without their own
  Authenticator authenticator;

  // Every worker's pending rpcs together (HubConfig::max_pending_rpcs and
  // max_pending_rpc_bytes).
  RpcBudget rpc_budget;
  metrics::Registry registry;
  HubMetrics metrics{registry};
  AuthFailureLog auth_failures;
  // Bytes held for slow consumers: the node's cap (every worker), and each
  // connection's (set in start(), from the server's max_buffered_bytes).
  HeldBytesBudget held_budget;
  std::size_t held_bytes_per_connection = 0;
  std::size_t release_slice_bytes = 0;  // held frames sent per drain: the server's max_buffered_bytes
  // Per-connection rate limits (HubConfig::limits).
  base::RateLimit message_limit;
  base::RateLimit byte_limit;
  base::RateLimit violation_limit;
  base::RateLimit send_limit;

  // broker::BrokerSink: a numbered publication, on its channel's owner; a
  // message for a user, on the user's owner (both go to that OwnerRole).
  void on_publication(unsigned owner_worker, const broker::Publication& publication) override;
  bool on_user_message(unsigned owner_worker, const broker::UserMessage& message) override;
  void on_channel_event(unsigned owner_worker, std::string_view channel, std::string_view frame) override;
  void on_link_restored(unsigned owner_worker) override;
  // "stats": {"connections":N,"users":N,"channels":N} of this node;
  // "channels": [{"channel":...,"subscribers":N},...] of this node;
  // "user <id>": {"connections":N}, the user's connections on this node
  // (node_questions.cc).
  void on_question(std::string_view question, std::function<void(std::string answer)> answer) override;
  void on_broadcast(std::string_view frame) override;

 private:
  // The task behind post<Fn> (role_task.h).
  template <auto Fn, typename... Args>
  auto task(unsigned worker, Args&&... args) {
    using Role = typename MemberOf<decltype(Fn)>::Class;
    static_assert(std::is_same_v<Role, LocalRole> || std::is_same_v<Role, OwnerRole>);
    Role* role;
    if constexpr (std::is_same_v<Role, LocalRole>) {
      role = &local(worker);
    } else {
      role = &owner(worker);
    }
    return role_task<Fn>(shared_from_this(), role, std::forward<Args>(args)...);
  }

  // This node's channels and their subscriber counts, as on_question's
  // "channels"; done runs once, on the last worker to report.
  void list_local_channels(std::function<void(std::string json_array)> done);
  // The server's gauges, once (start()).
  void register_gauges();

  HubConfig config_;
  // Posts from worker threads use queues_ directly; posts from any other
  // thread go through post_task_from_outside, which drops them once the
  // server is being destroyed. server_: for the gauges of its own counts
  // (null in the roles' unit tests).
  TaskQueues* queues_ = nullptr;
  std::unique_ptr<TaskQueues> server_queues_;
  Server* server_ = nullptr;
  mutable std::mutex outside_mutex_;
  bool server_gone_ = false;  // guarded by outside_mutex_
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const Policy> current_policy_;  // guarded by policy_mutex_
  std::unique_ptr<broker::Broker> broker_;
  std::string client_prefix_;
  // True from start() until a drain begins (GET /readyz, switchboard_ready).
  std::atomic<bool> accepting_{false};
  bool gauges_registered_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace switchboard::hub

namespace switchboard {

// What an RpcReply reaches its call through: the node (gone: the answer is
// dropped), the worker and the call's number there.
struct RpcReply::Target {
  std::weak_ptr<hub::Node> node;
  unsigned worker;
  std::uint64_t rpc;
  std::atomic<bool> answered{false};
};

}  // namespace switchboard
