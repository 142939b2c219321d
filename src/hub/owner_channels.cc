// The owner role: per channel and per user, which workers to deliver to,
// presence, and the one serialisation of every message. Each function runs
// on owner_of(channel or user), the only thread that touches that entry.
#include <utility>

#include "base/clock.h"
#include "hub/disconnect_order.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard {

void Hub::Impl::fan_out(const hub::OwnedChannel& owned, const std::string& channel, const SharedMessage& frame,
                        std::uint64_t exclude_client, std::uint64_t numbered_ns) {
  for (unsigned worker = 0; worker < owned.subscribers_per_worker.size(); ++worker) {
    if (owned.subscribers_per_worker[worker] == 0) continue;
    server->post(worker, [hub = shared_from_this(), worker, channel, frame, exclude_client, numbered_ns] {
      hub->deliver_to_channel(worker, channel, frame, exclude_client, numbered_ns);
    });
  }
}

void Hub::Impl::owner_subscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client,
                                std::uint64_t serial, const hub::Member* member, std::uint64_t reply_id) {
  hub::WorkerState& state = *workers[owner];
  auto [it, created] = state.owned_channels.try_emplace(channel);
  hub::OwnedChannel& owned = it->second;
  if (created) {
    owned.subscribers_per_worker.assign(workers.size(), 0);
    state.owned_channel_count.fetch_add(1, std::memory_order_relaxed);
    // Runs on this thread, at once (memory) or when Redis confirms; the
    // channel may be gone by then (owner_channel_in_place checks).
    broker->subscribe(owner, channel, [this, owner, channel] { owner_channel_in_place(owner, channel); });
  }
  ++owned.subscribers_per_worker[worker];
  ++owned.subscribers;
  if (member != nullptr) {
    owned.members.emplace(client, *member);
    broker->presence_join(owner, channel,
                          {member->client, protocol::encode_member(member->user, member->client, member->info_json),
                           protocol::encode_leave(channel, member->user, member->client)});
    if (options_for(owner, channel).join_leave) {
      std::string join = protocol::encode_join(channel, member->user, member->client, member->info_json);
      broker->publish_event(owner, channel, join);  // for the other nodes' subscribers
      // The joiner learns it is in from the subscribe reply, not an event.
      fan_out(owned, channel, SharedMessage::make(std::move(join), Opcode::kText), client);
    }
  }
  const hub::OwnedChannel::PendingActivation activation{worker, client, serial, reply_id};
  if (owned.in_place) {
    post_activation(channel, activation);
  } else {
    owned.pending.push_back(activation);
  }
}

void Hub::Impl::post_activation(const std::string& channel, const hub::OwnedChannel::PendingActivation& activation) {
  // Posted after every fan-out made before this subscription was counted
  // (or, while the broker subscribed, was in place), and before any made
  // after: the worker runs an owner's posts in order, so the subscriber
  // gets exactly the frames from here on.
  server->post(activation.worker, [hub = shared_from_this(), activation, channel] {
    hub->activate_subscription(activation.worker, activation.client, channel, activation.serial, activation.reply_id);
  });
}

void Hub::Impl::owner_channel_in_place(unsigned owner, const std::string& channel) {
  hub::WorkerState& state = *workers[owner];
  auto it = state.owned_channels.find(channel);
  if (it == state.owned_channels.end() || it->second.in_place) return;
  it->second.in_place = true;
  for (const auto& activation : it->second.pending) post_activation(channel, activation);
  it->second.pending.clear();
}

void Hub::Impl::owner_unsubscribe(unsigned owner, const std::string& channel, unsigned worker, std::uint64_t client) {
  hub::WorkerState& state = *workers[owner];
  auto it = state.owned_channels.find(channel);
  if (it == state.owned_channels.end()) return;
  hub::OwnedChannel& owned = it->second;
  --owned.subscribers_per_worker[worker];
  --owned.subscribers;
  if (auto member = owned.members.find(client); member != owned.members.end()) {
    const hub::Member left = std::move(member->second);
    owned.members.erase(member);
    broker->presence_leave(owner, channel, left.client);
    if (options_for(owner, channel).join_leave) {
      std::string leave = protocol::encode_leave(channel, left.user, left.client);
      broker->publish_event(owner, channel, leave);
      if (owned.subscribers > 0) fan_out(owned, channel, SharedMessage::make(std::move(leave), Opcode::kText), 0);
    }
  }
  if (owned.subscribers == 0) {
    // Subscribed and left before the broker was ready: their replies are owed.
    for (const auto& activation : owned.pending) post_activation(channel, activation);
    state.owned_channels.erase(it);
    state.owned_channel_count.fetch_sub(1, std::memory_order_relaxed);
    broker->unsubscribe(owner, channel);
  }
}

void Hub::Impl::owner_publish(unsigned owner, const std::string& channel, const std::string& data_json,
                              std::uint64_t exclude_client, hub::ReplyTo reply_to) {
  const broker::Publication publication{channel, 0, data_json, exclude_client};
  broker->publish(owner, publication, [this, reply_to = std::move(reply_to)](broker::PublishResult result) {
    switch (result.status) {
      case broker::PublishStatus::kAccepted:
        post_reply(reply_to, "{\"offset\":" + std::to_string(result.offset) + "}");
        return;
      case broker::PublishStatus::kLocalOnly:
        // Redis down: this node's subscribers got it (unnumbered); the
        // publisher learns that no other node did.
        metrics.broker_errors.add();
        post_reply(reply_to, "{\"offset\":0,\"local_only\":true}");
        return;
      case broker::PublishStatus::kUnavailable:
        metrics.broker_errors.add();
        post_error(reply_to, protocol::ErrorCode::kUnavailable, "the broker cannot take publishes now");
        return;
    }
  });
}

void Hub::Impl::on_publication(unsigned owner_worker, const broker::Publication& publication) {
  hub::WorkerState& state = *workers[owner_worker];
  auto it = state.owned_channels.find(publication.channel);
  if (it == state.owned_channels.end()) return;  // the last subscriber left meanwhile
  // The one serialisation of this message, shared by every recipient.
  const SharedMessage frame = SharedMessage::make(
      protocol::encode_message(publication.channel, publication.offset, publication.data_json), Opcode::kText);
  fan_out(it->second, it->first, frame, publication.exclude_client, base::monotonic_ns());
}

void Hub::Impl::owner_presence(unsigned owner, const std::string& channel, const hub::ReplyTo& reply_to) {
  // This node's members from the owner's table, the other nodes' from the
  // broker (none for memory).
  std::string members = "{\"members\":[";
  bool first = true;
  if (auto it = workers[owner]->owned_channels.find(channel); it != workers[owner]->owned_channels.end()) {
    for (const auto& [client, member] : it->second.members) {
      if (!first) members += ',';
      first = false;
      members += protocol::encode_member(member.user, member.client, member.info_json);
    }
  }
  broker->presence_elsewhere(owner, channel,
                             [this, reply_to, members = std::move(members), first](
                                 broker::PublishStatus status, std::vector<std::string> elsewhere) mutable {
                               if (status != broker::PublishStatus::kAccepted) {
                                 metrics.broker_errors.add();
                                 post_error(reply_to, protocol::ErrorCode::kUnavailable,
                                            "the broker cannot list other nodes' members now");
                                 return;
                               }
                               for (const std::string& member : elsewhere) {
                                 if (!first) members += ',';
                                 first = false;
                                 members += member;
                               }
                               members += "]}";
                               post_reply(reply_to, std::move(members));
                             });
}

void Hub::Impl::on_channel_event(unsigned owner_worker, std::string_view channel, std::string_view frame) {
  hub::WorkerState& state = *workers[owner_worker];
  auto it = state.owned_channels.find(channel);
  if (it == state.owned_channels.end()) return;  // no subscriber here
  // Sweeps of a dead node's members send leave events whatever the namespace.
  if (!options_for(owner_worker, channel).join_leave) return;
  fan_out(it->second, it->first, SharedMessage::make(std::string(frame), Opcode::kText), 0);
}

void Hub::Impl::owner_user_online(unsigned owner, const std::string& user, unsigned worker) {
  hub::WorkerState& state = *workers[owner];
  auto [it, created] = state.owned_users.try_emplace(user);
  if (created) {
    it->second.assign(workers.size(), 0);
    state.owned_user_count.fetch_add(1, std::memory_order_relaxed);
    broker->watch_user(owner, user);  // messages to user from any node come here now
  }
  ++it->second[worker];
}

void Hub::Impl::owner_user_offline(unsigned owner, const std::string& user, unsigned worker) {
  hub::WorkerState& state = *workers[owner];
  auto it = state.owned_users.find(user);
  if (it == state.owned_users.end()) return;
  --it->second[worker];
  for (std::uint32_t count : it->second) {
    if (count != 0) return;
  }
  state.owned_users.erase(it);
  state.owned_user_count.fetch_sub(1, std::memory_order_relaxed);
  broker->unwatch_user(owner, user);
}

void Hub::Impl::owner_send(unsigned owner, const std::string& user, const std::string& from_user,
                           const std::string& data_json, const hub::ReplyTo& reply_to, hub::OnlineInReply online) {
  // Through the broker even on one node: wherever the user's connections
  // are, they get it from their node's owner of user (on_user_message).
  const std::string frame = protocol::encode_direct(from_user, data_json);
  const broker::UserMessage message{user, broker::UserMessageKind::kDirect, frame};
  broker->send_to_user(owner, message, [this, reply_to, online](broker::UserSendResult result) {
    if (result.status != broker::PublishStatus::kAccepted) {
      metrics.broker_errors.add();
      post_error(reply_to, protocol::ErrorCode::kUnavailable, "the broker cannot take messages now");
      return;
    }
    if (online == hub::OnlineInReply::kHidden) {
      post_reply(reply_to, "{}");  // the same for everyone: nothing to learn from it
      return;
    }
    post_reply(reply_to, result.nodes > 0 ? "{\"online\":true}" : "{\"online\":false}");
  });
}

bool Hub::Impl::on_user_message(unsigned owner_worker, const broker::UserMessage& message) {
  hub::WorkerState& state = *workers[owner_worker];
  auto it = state.owned_users.find(message.user);
  if (it == state.owned_users.end()) return false;  // gone since (or never here)
  const std::string user(message.user);
  if (message.kind == broker::UserMessageKind::kDirect) {
    const SharedMessage frame = SharedMessage::make(std::string(message.text), Opcode::kText);
    for (unsigned worker = 0; worker < it->second.size(); ++worker) {
      if (it->second[worker] == 0) continue;
      server->post(worker,
                   [hub = shared_from_this(), worker, user, frame] { hub->deliver_to_user(worker, user, frame); });
    }
    return true;
  }
  hub::DisconnectOrder order;
  if (!hub::parse_disconnect_order(message.text, &order)) return true;
  for (unsigned worker = 0; worker < it->second.size(); ++worker) {
    if (it->second[worker] == 0) continue;
    server->post(worker, [hub = shared_from_this(), worker, user, order] {
      hub->disconnect_user_here(worker, user, order.code, order.reason, order.reconnect);
    });
  }
  return true;
}

}  // namespace switchboard
