// The hub's state and the paths of its commands. Two roles per worker:
//
// - Local: the sessions (protocol connections) this worker owns, and for
//   each channel and user the local sessions to deliver to. Only this
//   worker's thread touches them.
// - Owner: every channel and every user has one owner worker (a hash of the
//   name). The owner counts which workers have subscribers or connections,
//   keeps presence, talks to the broker, and serialises each publication
//   once into a SharedMessage that it posts to the interested workers. One
//   owner per channel is what gives every subscriber the same order: each
//   worker receives the owner's posts in the order they were made.
//
// So a publish travels: session's worker -> owner (broker numbers it) ->
// each interested worker -> Connection::send(SharedMessage) per local
// subscriber; the publisher's reply comes back from the owner. No locks:
// workers meet only through Server::post.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "base/token_bucket.h"
#include "broker/broker.h"
#include "hub/auth_failure_log.h"
#include "hub/held_frames.h"
#include "hub/hub_metrics.h"
#include "hub/rpc_budget.h"
#include "hub/token_verifier.h"
#include "protocol/command.h"
#include "switchboard/hub.h"
#include "switchboard/shared_message.h"

namespace switchboard::hub {

template <typename T>
using StringMap = std::unordered_map<std::string, T, base::StringHash, std::equal_to<>>;

// Whether a `send` reply says if the user is connected.
enum class OnlineInReply : std::uint8_t { kShown, kHidden };

// What a session must do by a deadline (auth): connect with a token, be
// asked for a refresh when its token expires, or send that refresh.
enum class DeadlineKind : std::uint8_t { kConnect, kTokenExpiry, kRefresh };
struct Deadline {
  std::uint64_t client;
  DeadlineKind kind;
};
// Per worker, by monotonic ms; a session holds the iterator of its one
// pending deadline, so closing or refreshing removes it at once.
using Deadlines = std::multimap<std::uint64_t, Deadline>;

// One protocol connection; Connection::user_data points to it.
struct Session {
  Connection* connection = nullptr;
  std::uint64_t client = 0;  // Connection::id(), unique in the process
  std::string client_text;   // the same, as sent in presence and join/leave
  std::string user;          // empty: anonymous
  std::string info_json;
  std::string peer;  // HttpRequest::peer_address, for the authentication failure log
  // Authentication (docs/PROTOCOL.md "Authentication").
  bool authenticated = false;                                // a token or the authenticator vouched for `user`
  bool awaiting_connect = false;                             // auth.required and no token yet: only connect and ping
  std::optional<std::vector<std::string>> channel_patterns;  // the token's "channels"
  std::int64_t token_expires_at = 0;                         // seconds; 0: never
  std::optional<Deadlines::iterator> deadline;
  // Rate limits: messages, bytes, and how often the client ran into them.
  base::TokenBucket message_bucket;
  base::TokenBucket byte_bucket;
  base::TokenBucket violation_bucket;
  base::TokenBucket send_bucket;  // limits.sends_per_s
  // The users this session may `send` to (Principal::send_to); nullopt: any.
  std::optional<std::vector<std::string>> send_to;
  // Per namespace (by pattern) with a publish_per_s, once it is used.
  std::vector<std::pair<std::string, base::TokenBucket>> publish_buckets;
  // Subscribed channels, each with this session's place in the worker's
  // subscriber list of that channel (for O(1) removal). A subscription is
  // pending until its owner has counted it: only then does it join the list,
  // so the session receives exactly what the owner sends after counting it
  // (not a join or message from before its subscribe).
  struct Subscription {
    static constexpr std::size_t kPending = static_cast<std::size_t>(-1);
    std::string channel;
    std::size_t slot = kPending;
    std::uint64_t serial = 0;  // tells a later subscribe to the same channel from this one
  };
  std::vector<Subscription> subscriptions;
  std::uint64_t next_subscription_serial = 0;
  // Frames held for a full outgoing buffer under kDropOldest/kKeepLatest,
  // per channel in the order they arrived; sent on drain. Null (and free)
  // for a connection that keeps up.
  std::unique_ptr<HeldFrames> held;
  std::size_t user_slot = 0;  // place in the worker's list for `user`
  // This session's rpcs waiting for their answer (HubConfig::max_pending_rpcs_per_connection).
  std::uint32_t pending_rpcs = 0;

  Subscription* find_subscription(std::string_view channel);
  const Subscription* find_subscription(std::string_view channel) const;
};

struct Member {
  std::string user;
  std::string client;
  std::string info_json;
};

// A channel as its owner sees it.
struct OwnedChannel {
  std::vector<std::uint32_t> subscribers_per_worker;
  std::uint64_t subscribers = 0;
  // The broker delivers this channel's publications to the node (Redis
  // confirmed the SUBSCRIBE). Until then subscriptions wait in `pending`:
  // their reply would promise what is not true yet.
  bool in_place = false;
  struct PendingActivation {
    unsigned worker;
    std::uint64_t client;
    std::uint64_t serial;
    std::uint64_t reply_id;
  };
  std::vector<PendingActivation> pending;
  std::map<std::uint64_t, Member> members;  // presence, by client id (stable order)
};

// Where an owner sends the answer to a command: a session's command (its
// worker, client and id; client 0 is nobody, e.g. the C++ API), or a
// callback, for the HTTP API, which runs on the owner's thread.
struct ReplyTo {
  unsigned worker = 0;
  std::uint64_t client = 0;
  std::uint64_t id = 0;
  // ok: data is the reply's JSON; else code and data the error's message.
  std::function<void(bool ok, protocol::ErrorCode code, std::string data)> callback;
};

// What SIGHUP can change without dropping a connection (Hub::reload): the
// token keys and checks, and the namespace options. Immutable; each worker
// holds its own reference, swapped by a task posted to it, so the message
// paths read it without a lock or an atomic.
struct Policy {
  std::shared_ptr<const TokenVerifier> verifier;  // null: tokens are not checked
  bool auth_required = false;
  AuthConfig auth;  // what verifier and auth_required were made from (a reload compares)
  std::vector<NamespaceOptions> namespaces;
  NamespaceOptions default_namespace;

  // The first namespace whose pattern matches, else default_namespace.
  const NamespaceOptions& options_for(std::string_view channel) const;
};

struct WorkerState {
  std::shared_ptr<const Policy> policy;

  // Local role.
  protocol::CommandParser parser;
  StringMap<std::vector<Session*>> channel_subscribers;
  StringMap<std::vector<Session*>> user_sessions;
  std::unordered_map<std::uint64_t, Session*> sessions;  // by client id
  struct PendingRpc {
    std::uint64_t client;
    std::uint64_t id;
    std::uint64_t bytes;  // taken from Hub::Impl::rpc_budget
  };
  std::unordered_map<std::uint64_t, PendingRpc> rpcs;  // by rpc sequence number
  std::uint64_t next_rpc = 0;
  Deadlines deadlines;

  // Owner role.
  StringMap<OwnedChannel> owned_channels;
  StringMap<std::vector<std::uint32_t>> owned_users;  // connections per worker

  // Read by stats() from any thread.
  std::atomic<std::size_t> connection_count{0};
  std::atomic<std::size_t> owned_channel_count{0};
  std::atomic<std::size_t> owned_user_count{0};
  std::atomic<std::size_t> subscription_count{0};  // local sessions' subscriptions
};

}  // namespace switchboard::hub

namespace switchboard {

struct RpcReply::Target {
  std::weak_ptr<Hub::Impl> hub;
  unsigned worker;
  std::uint64_t rpc;
  std::atomic<bool> answered{false};
};

struct Hub::Impl : public broker::BrokerSink, public std::enable_shared_from_this<Hub::Impl> {
  explicit Impl(HubConfig hub_config);

  HubConfig config;
  // Posts from worker threads (the workers run only while the server
  // exists) use `server` directly; posts from any other thread (rpc answers,
  // the public API) go through post_from_outside, which drops them once the
  // server is being destroyed.
  Server* server = nullptr;
  std::mutex outside_mutex;
  bool server_gone = false;  // guarded by outside_mutex
  bool post_from_outside(unsigned worker, std::function<void()> task);
  std::unique_ptr<broker::Broker> broker;
  // Before each client id, so it is unique among nodes (Broker::client_prefix).
  std::string client_prefix;
  // Readiness: accepting, and the broker can carry publications. Any
  // worker thread (the broker exists from on_start to on_stop).
  bool broker_healthy() const { return broker == nullptr || broker->healthy(); }
  bool ready() const { return accepting.load() && broker_healthy(); }
  std::unordered_map<std::string, RpcHandler> rpc_handlers;
  RpcHandler any_rpc_handler;  // for methods without their own
  // Every worker's pending rpcs together (HubConfig::max_pending_rpcs and
  // max_pending_rpc_bytes).
  hub::RpcBudget rpc_budget;
  Authenticator authenticator;
  // The policy for threads that are not a worker's (on_upgrade runs on a
  // worker but is not told which), guarded by policy_mutex; workers use
  // their own copy (WorkerState::policy).
  std::mutex policy_mutex;
  std::shared_ptr<const hub::Policy> current_policy;
  std::shared_ptr<const hub::Policy> policy_now();
  // Builds a policy from config: null with *error when the keys are unusable.
  static std::shared_ptr<const hub::Policy> make_policy(const HubConfig& config, std::string* error);
  const hub::Policy& policy(unsigned worker) const { return *workers[worker]->policy; }
  metrics::Registry registry;
  hub::HubMetrics metrics{registry};
  hub::AuthFailureLog auth_failures;
  // Bytes held for slow consumers: the node's cap (every worker), and each
  // connection's (set in on_start, from the server's max_buffered_bytes).
  hub::HeldBytesBudget held_budget{config.max_held_bytes};
  std::size_t held_bytes_per_connection = 0;
  std::size_t release_slice_bytes = 0;  // held frames sent per drain: the server's max_buffered_bytes
  bool gauges_registered = false;       // the server's gauges, once (on_start)
  void register_gauges();
  // True from on_start until a drain begins (GET /readyz, switchboard_ready).
  std::atomic<bool> accepting{false};
  base::RateLimit message_limit;
  base::RateLimit byte_limit;
  base::RateLimit violation_limit;
  base::RateLimit send_limit;
  std::vector<std::unique_ptr<hub::WorkerState>> workers;

  unsigned owner_of(std::string_view name) const;
  HubStats stats() const;
  // Sends `disconnect` to, then closes, every connection of user on this
  // worker; returns how many.
  std::size_t disconnect_user_here(unsigned worker, const std::string& user, std::uint16_t code,
                                   const std::string& reason, bool reconnect);
  const NamespaceOptions& options_for(unsigned worker, std::string_view channel) const {
    return policy(worker).options_for(channel);
  }

  // Local role, on the session's worker (hub_commands.cc).
  void handle(hub::Session& session, std::string_view text);
  void reply(hub::Session& session, std::uint64_t id, std::string_view data_json);
  void fail(hub::Session& session, std::uint64_t id, protocol::ErrorCode code, std::string_view message);
  void open_session(Connection& connection, std::string_view peer, Principal principal, bool authenticated,
                    bool awaiting_connect);
  // Registers session.user on this worker (and with the user's owner).
  void attach_user(hub::Session& session);
  // Takes a verified token's rights and expiry; sets the expiry deadline.
  void grant(hub::Session& session, hub::GrantedToken granted);
  void set_deadline(hub::Session& session, std::uint64_t at_ms, hub::DeadlineKind kind);
  void clear_deadline(hub::Session& session);
  // Runs the deadlines that are due on worker; every worker calls it on a
  // short period (kDeadlineTickMs) from on_start on.
  void run_deadlines(unsigned worker);
  void schedule_deadline_tick(unsigned worker);
  // Rate limits; false when the message must not run (answered or closed here).
  bool admit(hub::Session& session, std::string_view text);
  // A WebSocket ping, in the same buckets as messages; false: leave it
  // unanswered (a violation: closed 1008 here past limits.violations_*).
  bool admit_ping(hub::Session& session, std::string_view payload);
  // hub.send_permission, the session's send_to and limits.sends_per_s;
  // false (and the error sent) when the send must not run (hub_send.cc).
  bool admit_send(hub::Session& session, std::string_view user, std::uint64_t id);
  // The namespace's publish_per_s; false (and the error sent) when over it.
  bool admit_publish(hub::Session& session, std::string_view channel, std::uint64_t id);
  // A command over a limit: error 121, or close 1008 when the client keeps
  // running into limits (limits.violations_per_s).
  void refuse_over_limit(hub::Session& session, std::uint64_t id, std::string_view message);
  // Counts a refusal over a limit; false (and the connection closed 1008)
  // once the client keeps running into limits.
  bool tolerate_violation(hub::Session& session);
  // Who may do what with a channel: true, or false with *why (may() also
  // counts the refusal in /metrics).
  enum class Access : std::uint8_t { kSubscribe, kPublish, kPresence };
  bool may(const hub::Session& session, std::string_view channel, Access access, std::string* why) const;
  bool allowed(const hub::Session& session, std::string_view channel, Access access, std::string* why) const;
  // Verifies a token a session sent for `use` (`where`: the command, for
  // the log); answers error 117 (no keys) or 120 (a bad token, also logged)
  // itself.
  enum class TokenCheck : std::uint8_t { kValid, kNoKeys, kInvalid };
  TokenCheck check_token(hub::Session& session, std::uint64_t id, std::string_view token, auth::TokenUse use,
                         std::string_view where, hub::GrantedToken* granted);
  void handle_connect(hub::Session& session, const protocol::Command& command);
  void handle_refresh(hub::Session& session, const protocol::Command& command);
  void handle_subscribe(hub::Session& session, const protocol::Command& command);
  void close_session(hub::Session& session);
  // Takes session off this worker's list for the channel and tells the
  // channel's owner; the caller updates session.subscriptions.
  void leave_channel(hub::Session& session, const hub::Session::Subscription& subscription);
  // Runs an rpc command (hub_rpc.cc): its limits, then its handler.
  void handle_rpc(hub::Session& session, const protocol::Command& command);
  enum class RpcOutcome : std::uint8_t { kAnswered, kFailed, kTimedOut, kTooLarge };
  // result: the answer's JSON, or the failure's message. Gives the call's
  // room back, whatever the outcome.
  void finish_rpc(unsigned worker, std::uint64_t rpc, RpcOutcome outcome, const std::string& result);
  void deliver_to_channel(unsigned worker, const std::string& channel, const SharedMessage& frame,
                          std::uint64_t exclude_client, std::uint64_t numbered_ns);
  // One fan-out send, with the namespace's slow-consumer policy when the
  // buffer is full (channel and options: null for a send to a user, whose
  // policy is always kDisconnect); true when the policy says to close the connection (the
  // caller does, after its loop, with close_slow_consumers).
  bool deliver(hub::Session& session, const SharedMessage& frame, const std::string* channel,
               const NamespaceOptions* options);
  // kDropOldest/kKeepLatest: keeps frame for session until its buffer
  // drains, within the byte caps; true when it cannot be held (the session
  // is then closed as a slow consumer, and what it held is let go).
  bool hold(hub::Session& session, const std::string& channel, const SharedMessage& frame,
            const NamespaceOptions& options);
  // The buffer drained: sends what was held, channel by channel, in order,
  // a buffer's worth (max_buffered_bytes) at a time.
  void send_held(hub::Session& session);
  // Tells each why (`disconnect`, 1013, reconnect: true), then closes it
  // 1013 "slow consumer"; both go after what is already queued for it.
  void close_slow_consumers(const std::vector<Connection*>& connections);
  void deliver_to_user(unsigned worker, const std::string& user, const SharedMessage& frame);
  // The owner has counted the subscription: it joins the worker's list and
  // the session gets its reply (hub_commands.cc).
  void activate_subscription(unsigned worker, std::uint64_t client, const std::string& channel, std::uint64_t serial,
                             std::uint64_t reply_id);
  void deliver_to_everyone(unsigned worker, const SharedMessage& frame);
  // Sends a reply or error where `to` says (from an owner).
  void post_reply(const hub::ReplyTo& to, std::string data_json);
  void post_error(const hub::ReplyTo& to, protocol::ErrorCode code, std::string message);

  // Owner role, on owner_of(name) (hub_owner.cc).
  void owner_subscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client,
                       std::uint64_t serial, const hub::Member* member, std::uint64_t reply_id);
  void owner_unsubscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client);
  // The broker has the channel in place: the waiting subscriptions activate.
  void owner_channel_in_place(unsigned owner, const std::string& channel);
  void post_activation(const std::string& channel, const hub::OwnedChannel::PendingActivation& activation);
  void owner_publish(unsigned owner, const std::string& channel, const std::string& data_json,
                     std::uint64_t exclude_client, hub::ReplyTo reply_to);
  void owner_presence(unsigned owner, const std::string& channel, const hub::ReplyTo& reply_to);
  void owner_user_online(unsigned owner, const std::string& user, unsigned worker);
  void owner_user_offline(unsigned owner, const std::string& user, unsigned worker);
  // online: whether the reply says if the user had a connection
  // (HubConfig::hide_online applies to clients, not to the HTTP API).
  void owner_send(unsigned owner, const std::string& user, const std::string& from_user, const std::string& data_json,
                  const hub::ReplyTo& reply_to, hub::OnlineInReply online = hub::OnlineInReply::kShown);
  // Sends frame to every worker with subscribers of channel.
  // numbered_ns: when the broker numbered it (monotonic), 0 for events.
  void fan_out(const hub::OwnedChannel& owned, const std::string& channel, const SharedMessage& frame,
               std::uint64_t exclude_client, std::uint64_t numbered_ns = 0);

  // broker::BrokerSink: a numbered publication, on its channel's owner;
  // a message for a user, on the user's owner.
  void on_publication(unsigned owner_worker, const broker::Publication& publication) override;
  bool on_user_message(unsigned owner_worker, const broker::UserMessage& message) override;
  void on_channel_event(unsigned owner_worker, std::string_view channel, std::string_view frame) override;
  // "stats": {"connections":N,"users":N,"channels":N} of this node;
  // "channels": [{"channel":...,"subscribers":N},...] of this node;
  // "user <id>": {"connections":N}, the user's connections on this node.
  void on_question(std::string_view question, std::function<void(std::string answer)> answer) override;
  void on_broadcast(std::string_view frame) override;
  // This node's channels and their subscriber counts, as on_question's
  // "channels"; done runs once, on the last worker to report.
  void list_local_channels(std::function<void(std::string json_array)> done);
};

}  // namespace switchboard
