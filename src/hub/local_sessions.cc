// The local role's sessions: opening and closing them, registering their
// user and subscriptions on this worker (and with the owners), and the
// answers to their commands.
#include <utility>

#include "base/clock.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {
namespace {

// Removes the session at `slot` of list, moving the last entry into the
// hole; returns the session that moved (or nullptr).
Session* remove_at(std::vector<Session*>& list, std::size_t slot) {
  Session* moved = nullptr;
  if (slot + 1 != list.size()) {
    moved = list.back();
    list[slot] = moved;
  }
  list.pop_back();
  return moved;
}

}  // namespace

LocalRole::LocalRole(Node& node, unsigned worker) : node_(node), worker_(worker), policy_(node.policy_now()) {}

LocalRole::~LocalRole() = default;

void LocalRole::set_policy(std::shared_ptr<const Policy> policy) { policy_ = std::move(policy); }

const NamespaceOptions& LocalRole::options_for(std::string_view channel) const { return policy_->options_for(channel); }

Session* LocalRole::find_session(std::uint64_t client) {
  auto it = sessions_.find(client);
  return it == sessions_.end() ? nullptr : it->second;
}

void LocalRole::reply(Session& session, std::uint64_t id, std::string_view data_json) {
  session.connection->send_answer(protocol::encode_reply(id, data_json), Opcode::kText);
  count_answer(session);
}

void LocalRole::fail(Session& session, std::uint64_t id, protocol::ErrorCode code, std::string_view message) {
  session.connection->send_answer(protocol::encode_error(id, code, message), Opcode::kText);
  count_answer(session);
}

void LocalRole::pong(Session& session, std::uint64_t id) {
  session.connection->send_answer(protocol::encode_pong(id), Opcode::kText);
  count_answer(session);
}

void LocalRole::count_answer(Session& session) {
  if (session.unanswered == 0) return;  // a frame that never went through receive (tests drive handle)
  if (--session.unanswered == 0 && session.going_away) {
    node_.post<&LocalRole::close_going_away>(worker_, session.client);
  }
}

void LocalRole::answer(std::uint64_t client, std::uint64_t id, const std::string& data_json) {
  if (Session* session = find_session(client)) reply(*session, id, data_json);
}

void LocalRole::answer_error(std::uint64_t client, std::uint64_t id, protocol::ErrorCode code,
                             const std::string& message) {
  if (Session* session = find_session(client)) fail(*session, id, code, message);
}

void LocalRole::open_session(Connection& connection, std::string_view peer, Principal principal, Authentication how) {
  auto* session = new Session;
  session->connection = &connection;
  session->client = connection.id();
  session->client_text = node_.client_prefix() + std::to_string(connection.id());
  session->user = std::move(principal.user);
  session->info_json = std::move(principal.info_json);
  session->peer = peer;
  connection.set_user_data(session);
  sessions_.emplace(session->client, session);
  connection_count_.fetch_add(1, std::memory_order_relaxed);
  node_.metrics.connections_opened.add();
  attach_user(*session);
  switch (how) {
    case Authentication::kAwaitingConnect:
      session->awaiting_connect = true;
      set_deadline(*session, base::monotonic_ms() + node_.config().auth.connect_timeout_ms, DeadlineKind::kConnect);
      break;
    case Authentication::kVouched:
      grant(*session, GrantedToken{"", "", std::move(principal.channels), principal.expires_at, "",
                                   std::move(principal.send_to)});
      break;
    case Authentication::kAnonymous:
      break;
  }
}

void LocalRole::attach_user(Session& session) {
  if (session.user.empty()) return;
  std::vector<Session*>& list = user_sessions_[session.user];
  session.user_slot = list.size();
  list.push_back(&session);
  if (list.size() == 1) {
    // First connection of this user on this worker: tell the user's owner.
    node_.post<&OwnerRole::user_online>(node_.owner_of(session.user), session.user, worker_);
  }
}

void LocalRole::leave_channel(Session& session, const Session::Subscription& subscription) {
  subscription_count_.fetch_sub(1, std::memory_order_relaxed);
  if (session.held != nullptr) {
    // Held frames of a channel left are not the session's any more.
    session.held->discard(subscription.channel);
    if (session.held->empty()) session.held.reset();
  }
  auto it = subscription.slot == Session::Subscription::kPending ? channel_subscribers_.end()
                                                                 : channel_subscribers_.find(subscription.channel);
  if (it != channel_subscribers_.end()) {
    if (Session* moved = remove_at(it->second, subscription.slot)) {
      moved->find_subscription(subscription.channel)->slot = subscription.slot;
    }
    if (it->second.empty()) channel_subscribers_.erase(it);
  }
  if (!skips_.empty()) forget_skip(subscription.channel, session.client);
  node_.post<&OwnerRole::unsubscribe>(node_.owner_of(subscription.channel), subscription.channel, worker_,
                                      session.client);
}

void LocalRole::close_session(Session& session) {
  for (const Session::Subscription& subscription : session.subscriptions) leave_channel(session, subscription);
  if (!session.user.empty()) {
    auto it = user_sessions_.find(session.user);
    if (it != user_sessions_.end()) {
      if (Session* moved = remove_at(it->second, session.user_slot)) moved->user_slot = session.user_slot;
      if (it->second.empty()) {
        user_sessions_.erase(it);
        node_.post<&OwnerRole::user_offline>(node_.owner_of(session.user), session.user, worker_);
      }
    }
  }
  clear_deadline(session);
  // Pending rpcs of this session are answered into the void: finish_rpc
  // finds no session and drops the answer.
  sessions_.erase(session.client);
  connection_count_.fetch_sub(1, std::memory_order_relaxed);
  delete &session;
}

void LocalRole::activate_subscription(std::uint64_t client, const std::string& channel, std::uint64_t serial,
                                      std::uint64_t reply_id, const std::string& reply_json,
                                      const std::vector<SharedMessage>& after, std::uint64_t skip_through) {
  Session* session = find_session(client);
  if (session == nullptr) return;  // closed meanwhile; its unsubscribe is on the way
  Session::Subscription* subscription = session->find_subscription(channel);
  // Absent or another serial: unsubscribed meanwhile (and perhaps subscribed
  // again, which has its own activation coming). The reply is still owed.
  const bool active = subscription != nullptr && subscription->serial == serial;
  if (active) {
    std::vector<Session*>& list = channel_subscribers_[channel];
    subscription->slot = list.size();
    list.push_back(session);
    if (skip_through != 0) skips_[channel].push_back({client, skip_through});
  }
  reply(*session, reply_id, reply_json);
  if (!active || after.empty()) return;
  const NamespaceOptions& options = options_for(channel);
  for (const SharedMessage& frame : after) {
    if (deliver(*session, frame, &channel, &options)) {
      close_slow_consumers({session->connection});
      return;
    }
  }
}

}  // namespace switchboard::hub
