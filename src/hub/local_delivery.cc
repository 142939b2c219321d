// The local role: sessions, the commands a session sends, and delivery to
// this worker's sessions. Everything here runs on the session's worker.
#include <algorithm>
#include <utility>

#include "base/clock.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard {
namespace {

using hub::Session;
using protocol::ErrorCode;

// Removes session from a list where it sits at `slot`, moving the last
// entry into the hole; returns the session that moved (or nullptr).
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

Session::Subscription* Session::find_subscription(std::string_view channel) {
  for (Subscription& subscription : subscriptions) {
    if (subscription.channel == channel) return &subscription;
  }
  return nullptr;
}

// Every command gets its answer: send_answer is never dropped for the
// output-buffer cap (the cap pauses the client's reads instead), also when
// the answer comes back from another worker after on_message returned.
void Hub::Impl::reply(Session& session, std::uint64_t id, std::string_view data_json) {
  session.connection->send_answer(protocol::encode_reply(id, data_json), Opcode::kText);
}

void Hub::Impl::fail(Session& session, std::uint64_t id, protocol::ErrorCode code, std::string_view message) {
  session.connection->send_answer(protocol::encode_error(id, code, message), Opcode::kText);
}

void Hub::Impl::post_reply(const hub::ReplyTo& to, std::string data_json) {
  if (to.callback) {
    to.callback(true, ErrorCode::kInternal, std::move(data_json));
    return;
  }
  if (to.client == 0) return;  // the C++ API asked: nobody to answer
  server->post(to.worker, [hub = shared_from_this(), to, data = std::move(data_json)] {
    hub::WorkerState& state = *hub->workers[to.worker];
    auto it = state.sessions.find(to.client);
    if (it != state.sessions.end()) hub->reply(*it->second, to.id, data);
  });
}

void Hub::Impl::post_error(const hub::ReplyTo& to, protocol::ErrorCode code, std::string message) {
  if (to.callback) {
    to.callback(false, code, std::move(message));
    return;
  }
  if (to.client == 0) return;
  server->post(to.worker, [hub = shared_from_this(), to, code, text = std::move(message)] {
    hub::WorkerState& state = *hub->workers[to.worker];
    auto it = state.sessions.find(to.client);
    if (it != state.sessions.end()) hub->fail(*it->second, to.id, code, text);
  });
}

void Hub::Impl::open_session(Connection& connection, std::string_view peer, Principal principal, bool authenticated,
                             bool awaiting_connect) {
  hub::WorkerState& state = *workers[connection.worker()];
  auto* session = new Session;
  session->connection = &connection;
  session->client = connection.id();
  session->client_text = client_prefix + std::to_string(connection.id());
  session->user = std::move(principal.user);
  session->info_json = std::move(principal.info_json);
  session->peer = peer;
  connection.set_user_data(session);
  state.sessions.emplace(session->client, session);
  state.connection_count.fetch_add(1, std::memory_order_relaxed);
  metrics.connections_opened.add();
  attach_user(*session);
  if (awaiting_connect) {
    session->awaiting_connect = true;
    set_deadline(*session, base::monotonic_ms() + config.auth.connect_timeout_ms, hub::DeadlineKind::kConnect);
  } else if (authenticated) {
    grant(*session, hub::GrantedToken{"", "", std::move(principal.channels), principal.expires_at, "",
                                      std::move(principal.send_to)});
  }
}

void Hub::Impl::leave_channel(Session& session, const Session::Subscription& subscription) {
  const unsigned worker = session.connection->worker();
  hub::WorkerState& state = *workers[worker];
  state.subscription_count.fetch_sub(1, std::memory_order_relaxed);
  if (session.held != nullptr) {
    // Held frames of a channel left are not the session's any more.
    session.held->discard(subscription.channel);
    if (session.held->empty()) session.held.reset();
  }
  auto it = subscription.slot == Session::Subscription::kPending ? state.channel_subscribers.end()
                                                                 : state.channel_subscribers.find(subscription.channel);
  if (it != state.channel_subscribers.end()) {
    if (Session* moved = remove_at(it->second, subscription.slot)) {
      moved->find_subscription(subscription.channel)->slot = subscription.slot;
    }
    if (it->second.empty()) state.channel_subscribers.erase(it);
  }
  const unsigned owner = owner_of(subscription.channel);
  server->post(owner, [hub = shared_from_this(), owner, channel = subscription.channel, worker,
                       client = session.client] { hub->owner_unsubscribe(owner, channel, worker, client); });
}

void Hub::Impl::close_session(Session& session) {
  const unsigned worker = session.connection->worker();
  hub::WorkerState& state = *workers[worker];
  for (const Session::Subscription& subscription : session.subscriptions) leave_channel(session, subscription);
  if (!session.user.empty()) {
    auto it = state.user_sessions.find(session.user);
    if (it != state.user_sessions.end()) {
      if (Session* moved = remove_at(it->second, session.user_slot)) moved->user_slot = session.user_slot;
      if (it->second.empty()) {
        state.user_sessions.erase(it);
        const unsigned owner = owner_of(session.user);
        server->post(owner, [hub = shared_from_this(), owner, user = session.user, worker] {
          hub->owner_user_offline(owner, user, worker);
        });
      }
    }
  }
  clear_deadline(session);
  // Pending rpcs of this session are answered into the void: finish_rpc
  // finds no session and drops the answer.
  state.sessions.erase(session.client);
  state.connection_count.fetch_sub(1, std::memory_order_relaxed);
  delete &session;
}

void Hub::Impl::handle(Session& session, std::string_view text) {
  const unsigned worker = session.connection->worker();
  hub::WorkerState& state = *workers[worker];
  protocol::Command command;
  protocol::CommandError error;
  if (!state.parser.parse(text, &command, &error)) {
    metrics.invalid_commands.add();
    fail(session, error.id, error.code, error.message);
    return;
  }
  metrics.commands[static_cast<std::size_t>(command.type)]->add();
  const std::uint64_t id = command.id;
  if (session.awaiting_connect && command.type != protocol::CommandType::kConnect &&
      command.type != protocol::CommandType::kPing) {
    fail(session, id, ErrorCode::kUnauthenticated, protocol::default_message(ErrorCode::kUnauthenticated));
    return;
  }
  std::string why;
  switch (command.type) {
    case protocol::CommandType::kConnect:
      handle_connect(session, command);
      return;
    case protocol::CommandType::kRefresh:
      handle_refresh(session, command);
      return;
    case protocol::CommandType::kPing:
      session.connection->send_answer(protocol::encode_pong(id), Opcode::kText);
      return;

    case protocol::CommandType::kSubscribe:
      handle_subscribe(session, command);
      return;

    case protocol::CommandType::kUnsubscribe: {
      Session::Subscription* subscription = session.find_subscription(command.channel);
      if (subscription == nullptr) {
        fail(session, id, ErrorCode::kNotSubscribed, protocol::default_message(ErrorCode::kNotSubscribed));
        return;
      }
      leave_channel(session, *subscription);
      if (subscription != &session.subscriptions.back()) *subscription = std::move(session.subscriptions.back());
      session.subscriptions.pop_back();
      reply(session, id, "{}");
      return;
    }

    case protocol::CommandType::kPublish: {
      if (!may(session, command.channel, Access::kPublish, &why)) {
        fail(session, id, ErrorCode::kPermissionDenied, why);
        return;
      }
      if (!admit_publish(session, command.channel, id)) return;
      const unsigned owner = owner_of(command.channel);
      server->post(owner, [hub = shared_from_this(), owner, channel = std::string(command.channel),
                           data = std::move(command.data), exclude = command.exclude_self ? session.client : 0, worker,
                           client = session.client, id] {
        hub->owner_publish(owner, channel, data, exclude, hub::ReplyTo{worker, client, id, {}});
      });
      return;
    }

    case protocol::CommandType::kPresence: {
      if (!options_for(worker, command.channel).presence) {
        fail(session, id, ErrorCode::kPresenceDisabled, protocol::default_message(ErrorCode::kPresenceDisabled));
        return;
      }
      if (!may(session, command.channel, Access::kPresence, &why)) {
        fail(session, id, ErrorCode::kPermissionDenied, why);
        return;
      }
      const unsigned owner = owner_of(command.channel);
      server->post(owner, [hub = shared_from_this(), owner, channel = std::string(command.channel), worker,
                           client = session.client, id] {
        hub->owner_presence(owner, channel, hub::ReplyTo{worker, client, id, {}});
      });
      return;
    }

    case protocol::CommandType::kSend: {
      if (!admit_send(session, command.user, id)) return;
      const unsigned owner = owner_of(command.user);
      const hub::OnlineInReply online = config.hide_online ? hub::OnlineInReply::kHidden : hub::OnlineInReply::kShown;
      server->post(owner, [hub = shared_from_this(), owner, user = std::string(command.user), from = session.user,
                           data = std::move(command.data), worker, client = session.client, id, online] {
        hub->owner_send(owner, user, from, data, hub::ReplyTo{worker, client, id, {}}, online);
      });
      return;
    }

    case protocol::CommandType::kRpc:
      handle_rpc(session, command);
      return;
  }
}

bool Hub::Impl::deliver(Session& session, const SharedMessage& frame, const std::string* channel,
                        const NamespaceOptions* options) {
  // Once a channel's frames are held, the ones after them wait too: they
  // must not overtake what is held.
  if (channel != nullptr && session.held != nullptr && session.held->holds(*channel)) {
    return hold(session, *channel, frame, *options);
  }
  if (session.connection->send(frame) != SendStatus::kDropped) return false;
  if (!session.connection->is_open()) return false;  // closing already
  switch (channel == nullptr ? SlowConsumerPolicy::kDisconnect : options->slow_consumer) {
    case SlowConsumerPolicy::kDisconnect:
      metrics.slow_consumer_closes.add();
      return true;
    case SlowConsumerPolicy::kDrop:
      metrics.slow_consumer_drops.add();
      return false;
    case SlowConsumerPolicy::kDropOldest:
    case SlowConsumerPolicy::kKeepLatest:
      return hold(session, *channel, frame, *options);
  }
  return false;
}

bool Hub::Impl::hold(Session& session, const std::string& channel, const SharedMessage& frame,
                     const NamespaceOptions& options) {
  if (!session.connection->is_open()) return false;  // closing: it would never be sent
  if (session.held == nullptr) session.held = std::make_unique<hub::HeldFrames>(held_budget, held_bytes_per_connection);
  const std::size_t per_channel =
      options.slow_consumer == SlowConsumerPolicy::kKeepLatest ? 1 : options.slow_consumer_backlog;
  const hub::HeldFrames::HoldResult result = session.held->hold(channel, frame, per_channel);
  if (result.pushed_out != 0) metrics.slow_consumer_drops.add(result.pushed_out);
  if (result.connection_cap_hit) metrics.held_connection_cap_hits.add();
  if (result.node_cap_hit) metrics.held_node_cap_hits.add();
  if (result.outcome == hub::HeldFrames::Outcome::kHeld) {
    metrics.slow_consumer_held.add();
    return false;
  }
  // Not even the newest frame fits: like the disconnect policy, the client
  // reconnects and starts afresh. What it held would never be sent: let go
  // of it now rather than at the close.
  session.held.reset();
  metrics.slow_consumer_closes.add();
  return true;
}

void Hub::Impl::send_held(Session& session) {
  if (session.held == nullptr) return;
  // Right after a drain the buffer is empty, so the cap refuses none of
  // these: they join this loop iteration's fan-out batch, in order, ahead of
  // anything delivered after them. One buffer's worth at a time, so that
  // the buffer and what is still held together stay within the two caps.
  const bool more =
      session.held->release(release_slice_bytes, [&](const SharedMessage& frame) { session.connection->send(frame); });
  if (!more) {
    session.held.reset();
    return;
  }
  // The rest goes on the next drain. Should the kernel take this whole
  // slice, the buffer never fills and no drain comes: look again on the
  // next iteration, unless a drain has sent a slice meanwhile.
  const unsigned worker = session.connection->worker();
  server->post(worker,
               [hub = shared_from_this(), worker, client = session.client, releases = session.held->releases()] {
                 auto it = hub->workers[worker]->sessions.find(client);
                 if (it == hub->workers[worker]->sessions.end()) return;
                 Session& again = *it->second;
                 if (again.held != nullptr && again.held->releases() == releases && again.connection->is_open() &&
                     again.connection->buffered_amount() == 0) {
                   hub->send_held(again);
                 }
               });
}

void Hub::Impl::close_slow_consumers(const std::vector<Connection*>& connections) {
  static constexpr std::string_view kReason = "slow consumer";
  const std::string notice =
      protocol::encode_disconnect(static_cast<std::uint16_t>(CloseCode::kTryAgainLater), kReason, true);
  for (Connection* connection : connections) {
    // An answer, so the full buffer does not refuse it; after it the close
    // frame, and from then on the connection takes no more data.
    connection->send_answer(notice, Opcode::kText);
    connection->close(CloseCode::kTryAgainLater, kReason);
  }
}

void Hub::Impl::deliver_to_channel(unsigned worker, const std::string& channel, const SharedMessage& frame,
                                   std::uint64_t exclude_client, std::uint64_t numbered_ns) {
  hub::WorkerState& state = *workers[worker];
  auto it = state.channel_subscribers.find(channel);
  if (it == state.channel_subscribers.end()) return;
  const NamespaceOptions& options = options_for(worker, channel);
  // Closed after the loop: a close could end a session, and so change the
  // list being walked.
  std::vector<Connection*> slow;
  std::size_t sent = 0;
  for (Session* session : it->second) {
    if (session->client == exclude_client) continue;
    ++sent;
    if (deliver(*session, frame, &channel, &options)) slow.push_back(session->connection);
  }
  metrics.messages_delivered.add(sent);
  metrics.bytes_delivered.add(sent * frame.frame().size());
  if (numbered_ns != 0) {
    metrics.delivery_latency.observe(static_cast<double>(base::monotonic_ns() - numbered_ns) / 1e9);
  }
  if (!slow.empty()) close_slow_consumers(slow);
}

void Hub::Impl::activate_subscription(unsigned worker, std::uint64_t client, const std::string& channel,
                                      std::uint64_t serial, std::uint64_t reply_id) {
  hub::WorkerState& state = *workers[worker];
  auto session = state.sessions.find(client);
  if (session == state.sessions.end()) return;  // closed meanwhile; its unsubscribe is on the way
  Session::Subscription* subscription = session->second->find_subscription(channel);
  // Absent or another serial: unsubscribed meanwhile (and perhaps subscribed
  // again, which has its own activation coming). The reply is still owed.
  if (subscription != nullptr && subscription->serial == serial) {
    std::vector<Session*>& list = state.channel_subscribers[channel];
    subscription->slot = list.size();
    list.push_back(session->second);
  }
  reply(*session->second, reply_id, "{}");
}

void Hub::Impl::deliver_to_user(unsigned worker, const std::string& user, const SharedMessage& frame) {
  hub::WorkerState& state = *workers[worker];
  auto it = state.user_sessions.find(user);
  if (it == state.user_sessions.end()) return;
  std::vector<Connection*> slow;
  for (Session* session : it->second) {
    if (deliver(*session, frame, nullptr, nullptr)) slow.push_back(session->connection);
  }
  metrics.messages_delivered.add(it->second.size());
  metrics.bytes_delivered.add(it->second.size() * frame.frame().size());
  if (!slow.empty()) close_slow_consumers(slow);
}

std::size_t Hub::Impl::disconnect_user_here(unsigned worker, const std::string& user, std::uint16_t code,
                                            const std::string& reason, bool reconnect) {
  hub::WorkerState& state = *workers[worker];
  auto it = state.user_sessions.find(user);
  if (it == state.user_sessions.end()) return 0;
  // A copy: should a close end a session at once, the list would change.
  std::vector<Connection*> connections;
  for (Session* session : it->second) connections.push_back(session->connection);
  const std::string notice = protocol::encode_disconnect(code, reason, reconnect);
  for (Connection* connection : connections) {
    connection->send_answer(notice, Opcode::kText);
    connection->close(static_cast<CloseCode>(code), reason);
  }
  return connections.size();
}

void Hub::Impl::deliver_to_everyone(unsigned worker, const SharedMessage& frame) {
  const auto& sessions = workers[worker]->sessions;
  std::vector<Connection*> slow;
  for (const auto& [client, session] : sessions) {
    if (deliver(*session, frame, nullptr, nullptr)) slow.push_back(session->connection);
  }
  metrics.messages_delivered.add(sessions.size());
  metrics.bytes_delivered.add(sessions.size() * frame.frame().size());
  if (!slow.empty()) close_slow_consumers(slow);
}

}  // namespace switchboard
