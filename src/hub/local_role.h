// A worker's local role: the sessions (protocol connections) this worker
// owns, the commands they send, and for each channel and user the local
// sessions to deliver to; the deadlines (auth) and pending rpcs of those
// sessions, and their rate limits.
//
// Threading: one LocalRole per worker; every method runs on that worker's
// thread (called from the Hub's handlers on it, or posted to it with
// Node::post<&LocalRole::fn>), except the counters' reads. Methods that
// other workers post to name a session by its client id: it may have
// closed meanwhile, and then the task does nothing (or drops its answer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "hub/session.h"
#include "hub/token_verifier.h"
#include "protocol/command.h"
#include "protocol/encode.h"
#include "switchboard/hub.h"
#include "switchboard/shared_message.h"

namespace switchboard::hub {

class Node;
struct Policy;

template <typename T>
using StringMap = std::unordered_map<std::string, T, base::StringHash, std::equal_to<>>;

// What a command asks of a channel (LocalRole::refusal).
enum class Access : std::uint8_t { kSubscribe, kPublish, kPresence };

// How a token a session sent fared (LocalRole::check_token).
enum class TokenCheck : std::uint8_t { kValid, kNoKeys, kInvalid };

// How an rpc ended (LocalRole::finish_rpc).
enum class RpcOutcome : std::uint8_t { kAnswered, kFailed, kTimedOut, kTooLarge };

class LocalRole {
 public:
  LocalRole(Node& node, unsigned worker);
  ~LocalRole();
  LocalRole(const LocalRole&) = delete;
  LocalRole& operator=(const LocalRole&) = delete;

  Node& node() const { return node_; }
  unsigned worker() const { return worker_; }
  const Policy& policy() const { return *policy_; }
  void set_policy(std::shared_ptr<const Policy> policy);
  const NamespaceOptions& options_for(std::string_view channel) const;

  // Sessions (local_sessions.cc).
  void open_session(Connection& connection, std::string_view peer, Principal principal, Authentication how);
  void close_session(Session& session);
  // Registers session.user on this worker (and with the user's owner).
  void attach_user(Session& session);
  // Takes session off this worker's list for the channel and tells the
  // channel's owner; the caller updates session.subscriptions.
  void leave_channel(Session& session, const Session::Subscription& subscription);
  // Every command gets its answer (send_answer: never dropped for the
  // output-buffer cap), also when it comes back from another worker.
  void reply(Session& session, std::uint64_t id, std::string_view data_json);
  void fail(Session& session, std::uint64_t id, protocol::ErrorCode code, std::string_view message);
  // An owner's answer to client's command id (ReplyTo), if it is still here.
  void answer(std::uint64_t client, std::uint64_t id, const std::string& data_json);
  void answer_error(std::uint64_t client, std::uint64_t id, protocol::ErrorCode code, const std::string& message);

  // A frame from session's client (the Hub's on_message): dropped once the
  // drain is closing the connection; else owed an answer from now on,
  // held to the rate limits, and run (handle) (local_going_away.cc).
  void receive(Session& session, std::string_view payload, Opcode opcode);
  // A command's text: parsed, then run by its handler (commands.h).
  void handle(Session& session, std::string_view text);
  // The answer to a `ping` command.
  void pong(Session& session, std::uint64_t id);

  // The server's drain has come to session's connection: no more of its
  // commands run. Nothing owed, or no time to answer (answer_within_ms 0):
  // `disconnect` now (answered: whether nothing is owed) and kCloseNow.
  // Else kHandlerCloses: close_going_away runs once the last answer is
  // sent, or when answer_within_ms has passed (local_going_away.cc).
  GoingAway go_away(Session& session, std::uint64_t answer_within_ms);
  // `disconnect` (reconnect: true, answered: whether nothing is owed), then
  // close 1001, for a going-away session that is still open.
  void close_going_away(std::uint64_t client);
  // Frames client sent that wait for their answer (0 for no such session).
  std::uint32_t unanswered(std::uint64_t client);
  protocol::CommandParser& parser() { return parser_; }

  // Who may do what with a channel: nullopt, or why not (may() also counts
  // the refusal in /metrics) (local_access.cc).
  std::optional<std::string_view> refusal(const Session& session, std::string_view channel, Access access) const;
  std::optional<std::string_view> may(const Session& session, std::string_view channel, Access access) const;
  // Verifies a token a session sent for `use` (`where`: the command, for
  // the log); answers error 117 (no keys) or 120 (a bad token, also logged)
  // itself.
  TokenCheck check_token(Session& session, std::uint64_t id, std::string_view token, auth::TokenUse use,
                         std::string_view where, GrantedToken* granted);
  // Takes a verified token's rights and expiry; sets the expiry deadline.
  void grant(Session& session, GrantedToken granted);

  // Rate limits (local_limits.cc); false when the message must not run
  // (answered or closed here).
  bool admit(Session& session, std::string_view text);
  // A WebSocket ping, in the same buckets as messages; false: leave it
  // unanswered (a violation: closed 1008 here past limits.violations_*).
  bool admit_ping(Session& session, std::string_view payload);
  // The namespace's publish_per_s; false (and the error sent) when over it.
  bool admit_publish(Session& session, std::string_view channel, std::uint64_t id);
  // A command over a limit: error 121, or close 1008 when the client keeps
  // running into limits (limits.violations_per_s).
  void refuse_over_limit(Session& session, std::uint64_t id, std::string_view message);

  // Deadlines (local_deadlines.cc). The tick runs the due ones; every
  // worker runs it on a short period (kDeadlineTickMs) from start on.
  void set_deadline(Session& session, std::uint64_t at_ms, DeadlineKind kind);
  void clear_deadline(Session& session);
  void schedule_deadline_tick();
  void run_deadlines_and_reschedule();

  // Pending rpcs (command_rpc.cc): a call's number, with its timeout set.
  std::uint64_t track_rpc(Session& session, std::uint64_t id, std::uint64_t bytes);
  // The handler threw: the call is answered now and forgotten.
  void forget_rpc(Session& session, std::uint64_t rpc, std::uint64_t bytes);
  // result: the answer's JSON, or the failure's message. Gives the call's
  // room back, whatever the outcome.
  void finish_rpc(std::uint64_t rpc, RpcOutcome outcome, const std::string& result);

  // Delivery, posted by owners (local_delivery.cc).
  // offset: the publication's (0 for events and unnumbered frames).
  void deliver_to_channel(const std::string& channel, const SharedMessage& frame, std::uint64_t exclude_client,
                          std::uint64_t numbered_ns, std::uint64_t offset);
  void deliver_to_user(const std::string& user, const SharedMessage& frame);
  void deliver_to_everyone(const SharedMessage& frame);
  // The owner has counted the subscription: the session gets its reply
  // (reply_json: its data, with the stream's position and what it recovers),
  // then `after` (live frames the owner fanned out while it read the
  // stream), and joins this worker's list for what comes next. skip_through
  // (0: none): the stream's offset the reply covers when the owner's read
  // answered after the call (Redis); live publications up to it may still
  // be on their way to the owner, and are not delivered to this session again.
  void activate_subscription(std::uint64_t client, const std::string& channel, std::uint64_t serial,
                             std::uint64_t reply_id, const std::string& reply_json,
                             const std::vector<SharedMessage>& after, std::uint64_t skip_through);
  // Sends `disconnect` to, then closes, every connection of user on this
  // worker; returns how many.
  std::size_t disconnect_user(const std::string& user, std::uint16_t code, const std::string& reason,
                              protocol::Reconnect reconnect);
  // The buffer drained: sends what was held, channel by channel, in order,
  // a buffer's worth (max_buffered_bytes) at a time.
  void send_held(Session& session);

  // Read by stats() and /metrics from any thread.
  std::size_t connection_count() const { return connection_count_.load(std::memory_order_relaxed); }
  std::size_t subscription_count() const { return subscription_count_.load(std::memory_order_relaxed); }
  void count_subscription(int delta) { subscription_count_.fetch_add(delta, std::memory_order_relaxed); }

 private:
  // One fan-out send, with the namespace's slow-consumer policy when the
  // buffer is full (channel and options: null for a send to a user, whose
  // policy is always kDisconnect); true when the policy says to close the
  // connection (the caller does, after its loop, with close_slow_consumers).
  bool deliver(Session& session, const SharedMessage& frame, const std::string* channel,
               const NamespaceOptions* options);
  // kDropOldest/kKeepLatest: keeps frame for session until its buffer
  // drains, within the byte caps; true when it cannot be held (the session
  // is then closed as a slow consumer, and what it held is let go).
  bool hold(Session& session, const std::string& channel, const SharedMessage& frame, const NamespaceOptions& options);
  // send_held's next slice, on the next iteration, unless a drain sent it.
  void send_held_again(std::uint64_t client, std::uint64_t releases);
  // Tells each why (`disconnect`, 1013, reconnect: true), then closes it
  // 1013 "slow consumer"; both go after what is already queued for it.
  void close_slow_consumers(const std::vector<Connection*>& connections);
  // Counts a refusal over a limit; false (and the connection closed 1008)
  // once the client keeps running into limits.
  bool tolerate_violation(Session& session);
  // One of session's frames has its answer: the count goes down, and a
  // going-away session with nothing owed is closed (on a task, so that the
  // caller's session stays valid).
  void count_answer(Session& session);
  void run_deadlines();
  Session* find_session(std::uint64_t client);

  Node& node_;
  const unsigned worker_;
  std::shared_ptr<const Policy> policy_;
  protocol::CommandParser parser_;
  StringMap<std::vector<Session*>> channel_subscribers_;
  // Per channel, the sessions whose reply covered offsets up to `through`
  // that live delivery may still bring (activate_subscription's
  // skip_through); an entry goes with the first live offset above it.
  struct SkipThrough {
    std::uint64_t client;
    std::uint64_t through;
  };
  StringMap<std::vector<SkipThrough>> skips_;
  // Whether the frame at offset is one session's reply covered already
  // (then skipped), dropping the session's entry once live has passed it.
  static bool covered_by_reply(std::vector<SkipThrough>& skips, std::uint64_t client, std::uint64_t offset);
  void forget_skip(const std::string& channel, std::uint64_t client);
  StringMap<std::vector<Session*>> user_sessions_;
  std::unordered_map<std::uint64_t, Session*> sessions_;  // by client id
  struct PendingRpc {
    std::uint64_t client;
    std::uint64_t id;
    std::uint64_t bytes;  // taken from Node::rpc_budget
  };
  std::unordered_map<std::uint64_t, PendingRpc> rpcs_;  // by rpc sequence number
  std::uint64_t next_rpc_ = 0;
  Deadlines deadlines_;
  std::atomic<std::size_t> connection_count_{0};
  std::atomic<std::size_t> subscription_count_{0};  // local sessions' subscriptions
};

}  // namespace switchboard::hub
