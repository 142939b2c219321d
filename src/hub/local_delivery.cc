// The local role's delivery: the frames owners post to this worker, handed
// to its sessions' connections (the fan-out's last hop), and what happens
// to a subscriber whose outgoing buffer is full (SlowConsumerPolicy).
#include <utility>

#include "base/clock.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {

bool LocalRole::deliver(Session& session, const SharedMessage& frame, const std::string* channel,
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
      node_.metrics.slow_consumer_closes.add();
      return true;
    case SlowConsumerPolicy::kDrop:
      node_.metrics.slow_consumer_drops.add();
      return false;
    case SlowConsumerPolicy::kDropOldest:
    case SlowConsumerPolicy::kKeepLatest:
      return hold(session, *channel, frame, *options);
  }
  return false;
}

bool LocalRole::hold(Session& session, const std::string& channel, const SharedMessage& frame,
                     const NamespaceOptions& options) {
  if (!session.connection->is_open()) return false;  // closing: it would never be sent
  if (session.held == nullptr) {
    session.held = std::make_unique<HeldFrames>(node_.held_budget, node_.held_bytes_per_connection);
  }
  const std::size_t per_channel =
      options.slow_consumer == SlowConsumerPolicy::kKeepLatest ? 1 : options.slow_consumer_backlog;
  const HeldFrames::HoldResult result = session.held->hold(channel, frame, per_channel);
  HubMetrics& metrics = node_.metrics;
  if (result.pushed_out != 0) metrics.slow_consumer_drops.add(result.pushed_out);
  if (result.connection_cap_hit) metrics.held_connection_cap_hits.add();
  if (result.node_cap_hit) metrics.held_node_cap_hits.add();
  if (result.outcome == HeldFrames::Outcome::kHeld) {
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

void LocalRole::send_held(Session& session) {
  if (session.held == nullptr) return;
  // Right after a drain the buffer is empty, so the cap refuses none of
  // these: they join this loop iteration's fan-out batch, in order, ahead of
  // anything delivered after them. One buffer's worth at a time, so that
  // the buffer and what is still held together stay within the two caps.
  const bool more = session.held->release(node_.release_slice_bytes,
                                          [&](const SharedMessage& frame) { session.connection->send(frame); });
  if (!more) {
    session.held.reset();
    return;
  }
  // The rest goes on the next drain. Should the kernel take this whole
  // slice, the buffer never fills and no drain comes: look again on the
  // next iteration, unless a drain has sent a slice meanwhile.
  node_.post<&LocalRole::send_held_again>(worker_, session.client, session.held->releases());
}

void LocalRole::send_held_again(std::uint64_t client, std::uint64_t releases) {
  Session* session = find_session(client);
  if (session != nullptr && session->held != nullptr && session->held->releases() == releases &&
      session->connection->is_open() && session->connection->buffered_amount() == 0) {
    send_held(*session);
  }
}

void LocalRole::close_slow_consumers(const std::vector<Connection*>& connections) {
  static constexpr std::string_view kReason = "slow consumer";
  const std::string notice = protocol::encode_disconnect(static_cast<std::uint16_t>(CloseCode::kTryAgainLater), kReason,
                                                         protocol::Reconnect::kYes);
  for (Connection* connection : connections) {
    // An answer, so the full buffer does not refuse it; after it the close
    // frame, and from then on the connection takes no more data.
    connection->send_answer(notice, Opcode::kText);
    connection->close(CloseCode::kTryAgainLater, kReason);
  }
}

bool LocalRole::covered_by_reply(std::vector<SkipThrough>& skips, std::uint64_t client, std::uint64_t offset) {
  for (std::size_t i = 0; i < skips.size(); ++i) {
    if (skips[i].client != client) continue;
    if (offset <= skips[i].through) return true;
    skips[i] = skips.back();
    skips.pop_back();
    return false;
  }
  return false;
}

void LocalRole::forget_skip(const std::string& channel, std::uint64_t client) {
  auto it = skips_.find(channel);
  if (it == skips_.end()) return;
  std::erase_if(it->second, [client](const SkipThrough& skip) { return skip.client == client; });
  if (it->second.empty()) skips_.erase(it);
}

void LocalRole::deliver_to_channel(const std::string& channel, const SharedMessage& frame, std::uint64_t exclude_client,
                                   std::uint64_t numbered_ns, std::uint64_t offset) {
  auto it = channel_subscribers_.find(channel);
  if (it == channel_subscribers_.end()) return;
  const NamespaceOptions& options = options_for(channel);
  // Almost always none: only subscriptions whose stream read answered
  // late have an entry, until live delivery has passed their reply.
  auto skips = offset == 0 || skips_.empty() ? skips_.end() : skips_.find(channel);
  // Closed after the loop: a close could end a session, and so change the
  // list being walked.
  std::vector<Connection*> slow;
  std::size_t sent = 0;
  for (Session* session : it->second) {
    if (session->client == exclude_client) continue;
    if (skips != skips_.end() && covered_by_reply(skips->second, session->client, offset)) continue;
    ++sent;
    if (deliver(*session, frame, &channel, &options)) slow.push_back(session->connection);
  }
  if (skips != skips_.end() && skips->second.empty()) skips_.erase(skips);
  HubMetrics& metrics = node_.metrics;
  metrics.messages_delivered.add(sent);
  metrics.bytes_delivered.add(sent * frame.frame().size());
  if (numbered_ns != 0) {
    metrics.delivery_latency.observe(static_cast<double>(base::monotonic_ns() - numbered_ns) / 1e9);
  }
  if (!slow.empty()) close_slow_consumers(slow);
}

void LocalRole::deliver_to_user(const std::string& user, const SharedMessage& frame) {
  auto it = user_sessions_.find(user);
  if (it == user_sessions_.end()) return;
  std::vector<Connection*> slow;
  for (Session* session : it->second) {
    if (deliver(*session, frame, nullptr, nullptr)) slow.push_back(session->connection);
  }
  node_.metrics.messages_delivered.add(it->second.size());
  node_.metrics.bytes_delivered.add(it->second.size() * frame.frame().size());
  if (!slow.empty()) close_slow_consumers(slow);
}

void LocalRole::deliver_to_everyone(const SharedMessage& frame) {
  std::vector<Connection*> slow;
  for (const auto& [client, session] : sessions_) {
    if (deliver(*session, frame, nullptr, nullptr)) slow.push_back(session->connection);
  }
  node_.metrics.messages_delivered.add(sessions_.size());
  node_.metrics.bytes_delivered.add(sessions_.size() * frame.frame().size());
  if (!slow.empty()) close_slow_consumers(slow);
}

std::size_t LocalRole::disconnect_user(const std::string& user, std::uint16_t code, const std::string& reason,
                                       protocol::Reconnect reconnect) {
  auto it = user_sessions_.find(user);
  if (it == user_sessions_.end()) return 0;
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

}  // namespace switchboard::hub
