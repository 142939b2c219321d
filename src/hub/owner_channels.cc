// The owner role's channels: which workers to deliver to, presence, and the
// one serialisation of every publication. Each function runs on
// owner_of(channel), the only thread that touches that channel's entry.
#include <utility>

#include "base/clock.h"
#include "base/json_string.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {

OwnerRole::OwnerRole(Node& node, unsigned worker, const LocalRole& local)
    : node_(node), worker_(worker), local_(local) {}

void OwnerRole::fan_out(OwnedChannel& owned, const std::string& channel, const SharedMessage& frame,
                        std::uint64_t exclude_client, std::uint64_t offset, std::uint64_t numbered_ns) {
  // Subscribers whose stream read is on its way get it after their reply
  // unless the read covered it.
  for (auto& read : owned.reads) read.frames.push_back({offset, frame, exclude_client});
  for (unsigned worker = 0; worker < owned.subscribers_per_worker.size(); ++worker) {
    if (owned.subscribers_per_worker[worker] == 0) continue;
    node_.post<&LocalRole::deliver_to_channel>(worker, channel, frame, exclude_client, numbered_ns, offset);
  }
}

void OwnerRole::subscribe(const std::string& channel, unsigned worker, std::uint64_t client, std::uint64_t serial,
                          const std::shared_ptr<const Member>& member, std::uint64_t reply_id, const StreamAsk& ask) {
  auto [it, created] = owned_channels_.try_emplace(channel);
  OwnedChannel& owned = it->second;
  broker::Broker& broker = *node_.broker();
  if (created) {
    owned.subscribers_per_worker.assign(node_.worker_count(), 0);
    channel_count_.fetch_add(1, std::memory_order_relaxed);
    // Runs on this thread, at once (memory) or when Redis confirms; the
    // channel may be gone by then (channel_in_place checks).
    broker.subscribe(worker_, channel, [this, channel] { channel_in_place(channel); });
  }
  ++owned.subscribers_per_worker[worker];
  ++owned.subscribers;
  if (member != nullptr) {
    owned.members.emplace(client, *member);
    broker.presence_join(worker_, channel,
                         {member->client, protocol::encode_member(member->user, member->client, member->info_json),
                          protocol::encode_leave(channel, member->user, member->client)});
    if (local_.options_for(channel).join_leave) {
      std::string join = protocol::encode_join(channel, member->user, member->client, member->info_json);
      broker.publish_event(worker_, channel, join);  // for the other nodes' subscribers
      // The joiner learns it is in from the subscribe reply, not an event.
      fan_out(owned, channel, SharedMessage::make(std::move(join), Opcode::kText), client);
    }
  }
  OwnedChannel::PendingActivation activation{worker, client, serial, reply_id, ask};
  if (owned.in_place) {
    activate(channel, std::move(activation));
  } else {
    owned.pending.push_back(std::move(activation));
  }
}

void OwnerRole::post_activation(const std::string& channel, const OwnedChannel::PendingActivation& activation,
                                std::string reply_json, std::vector<SharedMessage> after, std::uint64_t skip_through) {
  // Posted after every fan-out made before this subscription was counted
  // (or, while the broker subscribed, was in place), and before any made
  // after: the worker runs an owner's posts in order, so the subscriber
  // gets exactly the frames from here on.
  node_.post<&LocalRole::activate_subscription>(activation.worker, activation.client, channel, activation.serial,
                                                activation.reply_id, std::move(reply_json), std::move(after),
                                                skip_through);
}

void OwnerRole::channel_in_place(const std::string& channel) {
  auto it = owned_channels_.find(channel);
  if (it == owned_channels_.end() || it->second.in_place) return;
  it->second.in_place = true;
  std::vector<OwnedChannel::PendingActivation> pending = std::move(it->second.pending);
  it->second.pending.clear();
  for (auto& activation : pending) activate(channel, std::move(activation));
}

void OwnerRole::unsubscribe(const std::string& channel, unsigned worker, std::uint64_t client) {
  auto it = owned_channels_.find(channel);
  if (it == owned_channels_.end()) return;
  OwnedChannel& owned = it->second;
  broker::Broker& broker = *node_.broker();
  --owned.subscribers_per_worker[worker];
  --owned.subscribers;
  if (auto member = owned.members.find(client); member != owned.members.end()) {
    const Member left = std::move(member->second);
    owned.members.erase(member);
    broker.presence_leave(worker_, channel, left.client);
    if (local_.options_for(channel).join_leave) {
      std::string leave = protocol::encode_leave(channel, left.user, left.client);
      broker.publish_event(worker_, channel, leave);
      if (owned.subscribers > 0) fan_out(owned, channel, SharedMessage::make(std::move(leave), Opcode::kText), 0);
    }
  }
  if (owned.subscribers == 0) {
    // Subscribed and left before the broker was ready: their replies are owed.
    for (const auto& activation : owned.pending)
      post_activation(channel, activation, subscribe_reply_without_stream(activation.ask));
    owned_channels_.erase(it);
    channel_count_.fetch_sub(1, std::memory_order_relaxed);
    broker.unsubscribe(worker_, channel);
  }
}

void OwnerRole::publish(const std::string& channel, const std::string& data_json, std::uint64_t exclude_client,
                        ReplyTo reply_to) {
  const broker::Publication publication{channel, 0, data_json, exclude_client, history_limits(channel)};
  node_.broker()->publish(worker_, publication, [this, reply_to = std::move(reply_to)](broker::PublishResult result) {
    switch (result.status) {
      case broker::PublishStatus::kAccepted: {
        std::string reply = "{\"offset\":" + std::to_string(result.offset);
        if (!result.epoch.empty()) {
          reply += ",\"epoch\":";
          base::append_json_string(reply, result.epoch);
        }
        reply += '}';
        post_reply(reply_to, std::move(reply));
        return;
      }
      case broker::PublishStatus::kLocalOnly:
        // Redis down: this node's subscribers got it (unnumbered); the
        // publisher learns that no other node did.
        node_.metrics.broker_errors.add();
        post_reply(reply_to, "{\"offset\":0,\"local_only\":true}");
        return;
      case broker::PublishStatus::kUnavailable:
        node_.metrics.broker_errors.add();
        post_error(reply_to, protocol::ErrorCode::kUnavailable, "the broker cannot take publishes now");
        return;
    }
  });
}

void OwnerRole::on_publication(const broker::Publication& publication) {
  auto it = owned_channels_.find(publication.channel);
  if (it == owned_channels_.end()) return;  // the last subscriber left meanwhile
  // The one serialisation of this message, shared by every recipient.
  const SharedMessage frame = SharedMessage::make(
      protocol::encode_message(publication.channel, publication.offset, publication.data_json), Opcode::kText);
  if (!publication.epoch.empty() && publication.offset != 0) {
    place_in_stream(
        it->second, it->first,
        {publication.offset, std::string(publication.epoch), frame, publication.exclude_client, base::monotonic_ns()});
    return;
  }
  fan_out(it->second, it->first, frame, publication.exclude_client, publication.offset, base::monotonic_ns());
}

void OwnerRole::presence(const std::string& channel, const ReplyTo& reply_to) {
  // This node's members from the owner's table, the other nodes' from the
  // broker (none for memory).
  std::string members = "{\"members\":[";
  bool first = true;
  if (auto it = owned_channels_.find(channel); it != owned_channels_.end()) {
    for (const auto& [client, member] : it->second.members) {
      if (!first) members += ',';
      first = false;
      members += protocol::encode_member(member.user, member.client, member.info_json);
    }
  }
  node_.broker()->presence_elsewhere(worker_, channel,
                                     [this, reply_to, members = std::move(members), first](
                                         broker::PublishStatus status, std::vector<std::string> elsewhere) mutable {
                                       if (status != broker::PublishStatus::kAccepted) {
                                         node_.metrics.broker_errors.add();
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

void OwnerRole::on_channel_event(std::string_view channel, std::string_view frame) {
  auto it = owned_channels_.find(channel);
  if (it == owned_channels_.end()) return;  // no subscriber here
  // Sweeps of a dead node's members send leave events whatever the namespace.
  if (!local_.options_for(channel).join_leave) return;
  fan_out(it->second, it->first, SharedMessage::make(std::string(frame), Opcode::kText), 0);
}

std::string OwnerRole::channels_json() const {
  std::string part;
  for (const auto& [name, owned] : owned_channels_) {
    if (!part.empty()) part += ',';
    part += "{\"channel\":";
    base::append_json_string(part, name);
    part += ",\"subscribers\":" + std::to_string(owned.subscribers) + "}";
  }
  return part;
}

void OwnerRole::post_reply(const ReplyTo& to, std::string data_json) {
  if (to.callback) {
    to.callback(AnswerKind::kReply, protocol::ErrorCode::kInternal, std::move(data_json));
    return;
  }
  if (to.client == 0) return;  // the C++ API asked: nobody to answer
  node_.post<&LocalRole::answer>(to.worker, to.client, to.id, std::move(data_json));
}

void OwnerRole::post_error(const ReplyTo& to, protocol::ErrorCode code, std::string message) {
  if (to.callback) {
    to.callback(AnswerKind::kError, code, std::move(message));
    return;
  }
  if (to.client == 0) return;
  node_.post<&LocalRole::answer_error>(to.worker, to.client, to.id, code, std::move(message));
}

}  // namespace switchboard::hub
