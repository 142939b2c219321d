// What a session may do, decided on its worker before a command runs:
// tokens (connect, refresh, expiry), channel permissions, and rate limits.
// docs/PROTOCOL.md "Authentication" and "Permissions" describe the rules.
#include <algorithm>
#include <ctime>
#include <utility>

#include "base/clock.h"
#include "base/json_string.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard {
namespace {

using hub::Session;
using protocol::ErrorCode;

// How often each worker looks at its deadlines; a deadline fires up to this
// late, which is nothing next to timeouts of seconds.
constexpr std::uint64_t kDeadlineTickMs = 250;

CloseCode close_code(protocol::ServerCloseCode code) { return static_cast<CloseCode>(code); }

// Monotonic ms at which a token's exp (wall-clock seconds) passes.
std::uint64_t monotonic_deadline(std::int64_t expires_at) {
  const std::int64_t left_s = expires_at - static_cast<std::int64_t>(std::time(nullptr));
  return base::monotonic_ms() + (left_s > 0 ? static_cast<std::uint64_t>(left_s) * 1000 : 0);
}

}  // namespace

const Session::Subscription* Session::find_subscription(std::string_view channel) const {
  return const_cast<Session*>(this)->find_subscription(channel);
}

void Hub::Impl::attach_user(Session& session) {
  if (session.user.empty()) return;
  const unsigned worker = session.connection->worker();
  std::vector<Session*>& list = workers[worker]->user_sessions[session.user];
  session.user_slot = list.size();
  list.push_back(&session);
  if (list.size() == 1) {
    // First connection of this user on this worker: tell the user's owner.
    const unsigned owner = owner_of(session.user);
    server->post(owner, [hub = shared_from_this(), owner, user = session.user, worker] {
      hub->owner_user_online(owner, user, worker);
    });
  }
}

void Hub::Impl::grant(Session& session, hub::GrantedToken granted) {
  session.authenticated = true;
  session.awaiting_connect = false;
  session.channel_patterns = std::move(granted.channels);
  session.token_expires_at = granted.expires_at;
  session.send_to = std::move(granted.send_to);
  if (session.token_expires_at != 0) {
    set_deadline(session, monotonic_deadline(session.token_expires_at), hub::DeadlineKind::kTokenExpiry);
  } else {
    clear_deadline(session);
  }
}

void Hub::Impl::set_deadline(Session& session, std::uint64_t at_ms, hub::DeadlineKind kind) {
  clear_deadline(session);
  hub::Deadlines& deadlines = workers[session.connection->worker()]->deadlines;
  session.deadline = deadlines.emplace(at_ms, hub::Deadline{session.client, kind});
}

void Hub::Impl::clear_deadline(Session& session) {
  if (!session.deadline) return;
  workers[session.connection->worker()]->deadlines.erase(*session.deadline);
  session.deadline.reset();
}

void Hub::Impl::schedule_deadline_tick(unsigned worker) {
  server->post_after(worker, kDeadlineTickMs, [hub = shared_from_this(), worker] {
    hub->run_deadlines(worker);
    hub->schedule_deadline_tick(worker);
  });
}

void Hub::Impl::run_deadlines(unsigned worker) {
  hub::WorkerState& state = *workers[worker];
  const std::uint64_t now = base::monotonic_ms();
  // One worker's tick is enough to write what the failure log left out.
  if (worker == 0) auth_failures.flush();
  while (!state.deadlines.empty() && state.deadlines.begin()->first <= now) {
    const hub::Deadline deadline = state.deadlines.begin()->second;
    state.deadlines.erase(state.deadlines.begin());
    auto found = state.sessions.find(deadline.client);
    if (found == state.sessions.end()) continue;
    Session& session = *found->second;
    session.deadline.reset();
    switch (deadline.kind) {
      case hub::DeadlineKind::kConnect:
        session.connection->close(close_code(protocol::ServerCloseCode::kAuthTimeout), "authentication timeout");
        break;
      case hub::DeadlineKind::kTokenExpiry:
        session.connection->send_answer(protocol::encode_refresh(config.auth.refresh_grace_ms), Opcode::kText);
        set_deadline(session, now + config.auth.refresh_grace_ms, hub::DeadlineKind::kRefresh);
        break;
      case hub::DeadlineKind::kRefresh:
        session.connection->close(close_code(protocol::ServerCloseCode::kTokenExpired), "token expired");
        break;
    }
  }
}

namespace {

// Takes one message and its bytes from the session's buckets.
bool within_limits(Session& session, const base::RateLimit& message_limit, const base::RateLimit& byte_limit,
                   std::size_t size) {
  if (!message_limit.enabled() && !byte_limit.enabled()) return true;
  const std::uint64_t now = base::monotonic_ms();
  const double bytes = std::min(static_cast<double>(size), byte_limit.burst);
  return session.message_bucket.try_take(message_limit, now, 1) && session.byte_bucket.try_take(byte_limit, now, bytes);
}

}  // namespace

bool Hub::Impl::admit(Session& session, std::string_view text) {
  if (within_limits(session, message_limit, byte_limit, text.size())) return true;
  // Answered with the command's id when it has one, so that the client can
  // tell which request was refused.
  hub::WorkerState& state = *workers[session.connection->worker()];
  protocol::Command command;
  protocol::CommandError error;
  const std::uint64_t id = state.parser.parse(text, &command, &error) ? command.id : error.id;
  refuse_over_limit(session, id, "rate limit exceeded: the command was not run");
  return false;
}

bool Hub::Impl::admit_publish(Session& session, std::string_view channel, std::uint64_t id) {
  const NamespaceOptions& options = options_for(session.connection->worker(), channel);
  if (options.publish_per_s == 0) return true;
  const base::RateLimit limit{
      static_cast<double>(options.publish_per_s),
      static_cast<double>(options.publish_burst != 0 ? options.publish_burst : options.publish_per_s)};
  auto bucket = std::find_if(session.publish_buckets.begin(), session.publish_buckets.end(),
                             [&](const auto& entry) { return entry.first == options.pattern; });
  if (bucket == session.publish_buckets.end()) {
    bucket = session.publish_buckets.insert(session.publish_buckets.end(), {options.pattern, {}});
  }
  if (bucket->second.try_take(limit, base::monotonic_ms(), 1)) return true;
  refuse_over_limit(session, id,
                    "rate limit exceeded: at most " + std::to_string(options.publish_per_s) +
                        " publishes a second to '" + options.pattern + "'");
  return false;
}

bool Hub::Impl::admit_ping(Session& session, std::string_view payload) {
  if (within_limits(session, message_limit, byte_limit, payload.size())) return true;
  // A ping has no id to answer an error to: the missing pong is the answer.
  tolerate_violation(session);
  return false;
}

void Hub::Impl::refuse_over_limit(Session& session, std::uint64_t id, std::string_view message) {
  if (tolerate_violation(session)) fail(session, id, ErrorCode::kRateLimited, message);
}

bool Hub::Impl::tolerate_violation(Session& session) {
  metrics.rate_limited.add();
  if (session.violation_bucket.try_take(violation_limit, base::monotonic_ms(), 1)) return true;
  metrics.rate_limit_closes.add();
  session.connection->close(CloseCode::kPolicyViolation, "rate limit exceeded");
  return false;
}

bool Hub::Impl::may(const Session& session, std::string_view channel, Access access, std::string* why) const {
  if (allowed(session, channel, access, why)) return true;
  metrics.permission_denied.add();
  return false;
}

bool Hub::Impl::allowed(const Session& session, std::string_view channel, Access access, std::string* why) const {
  if (protocol::is_personal_channel(channel)) {
    if (session.user.empty() || protocol::personal_channel_owner(channel) != session.user) {
      *why = "a personal channel (name#user) is only for that user";
      return false;
    }
  } else if (protocol::is_private_channel(channel)) {
    // Subscribing takes a subscription token (handle_subscribe); after that
    // the subscription is the right to publish and to see presence.
    if (access != Access::kSubscribe && session.find_subscription(channel) == nullptr) {
      *why = "a private channel is only for its subscribers";
      return false;
    }
  } else if (session.channel_patterns) {
    const std::vector<std::string>& patterns = *session.channel_patterns;
    if (std::none_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return protocol::channel_matches(pattern, channel); })) {
      *why = "the token does not grant this channel";
      return false;
    }
  }
  if (access == Access::kPublish && !options_for(session.connection->worker(), channel).client_publish) {
    *why = "clients may not publish to this channel";
    return false;
  }
  return true;
}

Hub::Impl::TokenCheck Hub::Impl::check_token(Session& session, std::uint64_t id, std::string_view token,
                                             auth::TokenUse use, std::string_view where, hub::GrantedToken* granted) {
  const hub::TokenVerifier* verifier = policy(session.connection->worker()).verifier.get();
  if (verifier == nullptr) {
    fail(session, id, ErrorCode::kUnavailable, "this server does not check tokens");
    return TokenCheck::kNoKeys;
  }
  const auth::VerifyError error = verifier->verify(token, use, granted);
  if (error != auth::VerifyError::kNone) {
    metrics.tokens_rejected.add();
    auth_failures.record(session.peer, where, auth::describe(error));
    fail(session, id, ErrorCode::kInvalidToken, auth::describe(error));
    return TokenCheck::kInvalid;
  }
  return TokenCheck::kValid;
}

void Hub::Impl::handle_connect(Session& session, const protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (command.has_token) {
    if (policy(session.connection->worker()).verifier == nullptr) {
      fail(session, id, ErrorCode::kUnavailable, "this server does not check tokens");
      return;
    }
    if (session.authenticated) {
      fail(session, id, ErrorCode::kAlreadyAuthenticated,
           "this connection is authenticated already; send refresh for a new token");
      return;
    }
    if (!session.subscriptions.empty()) {
      fail(session, id, ErrorCode::kAlreadyAuthenticated, "connect with a token must come before any subscribe");
      return;
    }
    hub::GrantedToken granted;
    const TokenCheck check = check_token(session, id, command.token, auth::TokenUse::kConnection, "connect", &granted);
    if (check == TokenCheck::kInvalid) {
      session.connection->close(close_code(protocol::ServerCloseCode::kInvalidToken), "invalid token");
    }
    if (check != TokenCheck::kValid) return;
    session.user = std::move(granted.user);
    session.info_json = std::move(granted.info_json);
    grant(session, std::move(granted));
    attach_user(session);
  } else if (session.awaiting_connect) {
    fail(session, id, ErrorCode::kUnauthenticated, "this server requires a token: send connect with one");
    return;
  }
  std::string data = "{\"client\":";
  base::append_json_string(data, session.client_text);
  data += ",\"user\":";
  protocol::append_json_user(data, session.user);
  data += '}';
  reply(session, id, data);
}

void Hub::Impl::handle_refresh(Session& session, const protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (!session.authenticated) {
    fail(session, id, ErrorCode::kUnauthenticated, "refresh replaces the token of an authenticated connection");
    return;
  }
  hub::GrantedToken granted;
  // A connection token: a subscription token has no "channels", and would
  // lift the connection's channel limits.
  if (check_token(session, id, command.token, auth::TokenUse::kConnection, "refresh", &granted) != TokenCheck::kValid) {
    return;
  }
  if (granted.user != session.user) {
    constexpr std::string_view kOtherUser = "the new token is for another user";
    metrics.tokens_rejected.add();
    auth_failures.record(session.peer, "refresh", kOtherUser);
    fail(session, id, ErrorCode::kInvalidToken, kOtherUser);
    return;
  }
  // The identity stays (presence entries keep the info they were made
  // with); the rights and the expiry are the new token's.
  grant(session, std::move(granted));
  reply(session, id, "{}");
}

void Hub::Impl::handle_subscribe(Session& session, const protocol::Command& command) {
  const std::uint64_t id = command.id;
  const unsigned worker = session.connection->worker();
  hub::WorkerState& state = *workers[worker];
  if (session.find_subscription(command.channel) != nullptr) {
    fail(session, id, ErrorCode::kAlreadySubscribed, protocol::default_message(ErrorCode::kAlreadySubscribed));
    return;
  }
  if (session.subscriptions.size() >= config.max_subscriptions_per_connection) {
    fail(session, id, ErrorCode::kTooManySubscriptions,
         "at most " + std::to_string(config.max_subscriptions_per_connection) + " subscriptions per connection");
    return;
  }
  std::string why;
  if (!may(session, command.channel, Access::kSubscribe, &why)) {
    fail(session, id, ErrorCode::kPermissionDenied, why);
    return;
  }
  if (protocol::is_private_channel(command.channel)) {
    // The grant is a token made for this user and this channel.
    if (!command.has_token) {
      fail(session, id, ErrorCode::kPermissionDenied, "a private channel needs a subscription token");
      return;
    }
    hub::GrantedToken granted;
    if (check_token(session, id, command.token, auth::TokenUse::kSubscription, "subscribe", &granted) !=
        TokenCheck::kValid) {
      return;
    }
    if (granted.channel != command.channel || granted.user != session.user) {
      constexpr std::string_view kOther = "the subscription token is for another channel or user";
      metrics.tokens_rejected.add();
      auth_failures.record(session.peer, "subscribe", kOther);
      fail(session, id, ErrorCode::kInvalidToken, kOther);
      return;
    }
  }
  // Pending until the owner counts it (see Session::Subscription).
  const std::uint64_t serial = ++session.next_subscription_serial;
  session.subscriptions.push_back({std::string(command.channel), Session::Subscription::kPending, serial});
  state.subscription_count.fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<hub::Member> member;
  if (options_for(worker, command.channel).presence) {
    member = std::make_unique<hub::Member>(hub::Member{session.user, session.client_text, session.info_json});
  }
  const unsigned owner = owner_of(command.channel);
  server->post(owner, [hub = shared_from_this(), owner, channel = std::string(command.channel), worker,
                       client = session.client, serial, member = std::shared_ptr<hub::Member>(std::move(member)),
                       id] { hub->owner_subscribe(owner, channel, worker, client, serial, member.get(), id); });
}

}  // namespace switchboard
