// One protocol connection as its worker's local role keeps it: who it is,
// what it may do, its subscriptions, its rate-limit buckets, its pending
// deadline and rpcs, and the frames held for it while it is slow.
//
// Threading: a Session lives on its connection's worker and is touched only
// there (Connection::user_data points to it from on_open to on_close).
// Tasks posted from other threads name it by its client id, never by
// pointer: the session may be gone when they run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/token_bucket.h"
#include "hub/held_frames.h"
#include "switchboard/connection.h"

namespace switchboard::hub {

// What a session must do by a deadline (auth): connect with a token, be
// asked for a refresh when its token expires, or send that refresh.
// The drain's bound on answering before the close is one too (kGoingAway).
enum class DeadlineKind : std::uint8_t { kConnect, kTokenExpiry, kRefresh, kGoingAway };
struct Deadline {
  std::uint64_t client;
  DeadlineKind kind;
};
// Per worker, by monotonic ms; a session holds the iterator of its one
// pending deadline, so closing or refreshing removes it at once.
using Deadlines = std::multimap<std::uint64_t, Deadline>;

// How a connection starts out, as on_upgrade decided.
enum class Authentication : std::uint8_t {
  kAnonymous,        // nobody vouched for it, and no token is required
  kVouched,          // a token or the authenticator vouched for its user
  kAwaitingConnect,  // auth.required and no token yet: only connect and ping
};

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
  // Frames read from the client and not answered yet: every frame gets one
  // answer (reply, error or pong) unless it closes the connection.
  std::uint32_t unanswered = 0;
  // The server's drain has come to this connection: the commands it sends
  // from now on are not run (nor answered), and it is closed 1001 once
  // `unanswered` is 0, or at its kGoingAway deadline.
  bool going_away = false;

  Subscription* find_subscription(std::string_view channel) {
    for (Subscription& subscription : subscriptions) {
      if (subscription.channel == channel) return &subscription;
    }
    return nullptr;
  }
  const Subscription* find_subscription(std::string_view channel) const {
    return const_cast<Session*>(this)->find_subscription(channel);
  }
};

}  // namespace switchboard::hub
