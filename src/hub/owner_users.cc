// The owner role's users: which workers have connections of each user it
// owns, and the direct messages and disconnect orders for them. Each
// function runs on owner_of(user), the only thread that touches that entry.
#include <utility>

#include "hub/disconnect_order.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {

void OwnerRole::user_online(const std::string& user, unsigned worker) {
  auto [it, created] = owned_users_.try_emplace(user);
  if (created) {
    it->second.assign(node_.worker_count(), 0);
    user_count_.fetch_add(1, std::memory_order_relaxed);
    node_.broker()->watch_user(worker_, user);  // messages to user from any node come here now
  }
  ++it->second[worker];
}

void OwnerRole::user_offline(const std::string& user, unsigned worker) {
  auto it = owned_users_.find(user);
  if (it == owned_users_.end()) return;
  --it->second[worker];
  for (std::uint32_t count : it->second) {
    if (count != 0) return;
  }
  owned_users_.erase(it);
  user_count_.fetch_sub(1, std::memory_order_relaxed);
  node_.broker()->unwatch_user(worker_, user);
}

std::uint64_t OwnerRole::user_connections(const std::string& user) const {
  std::uint64_t connections = 0;
  if (auto it = owned_users_.find(user); it != owned_users_.end()) {
    for (std::uint32_t count : it->second) connections += count;
  }
  return connections;
}

void OwnerRole::send(const std::string& user, const std::string& from_user, const std::string& data_json,
                     const ReplyTo& reply_to, OnlineInReply online) {
  // Through the broker even on one node: wherever the user's connections
  // are, they get it from their node's owner of user (on_user_message).
  const std::string frame = protocol::encode_direct(from_user, data_json);
  const broker::UserMessage message{user, broker::UserMessageKind::kDirect, frame};
  node_.broker()->send_to_user(worker_, message, [this, reply_to, online](broker::UserSendResult result) {
    if (result.status != broker::PublishStatus::kAccepted) {
      node_.metrics.broker_errors.add();
      post_error(reply_to, protocol::ErrorCode::kUnavailable, "the broker cannot take messages now");
      return;
    }
    if (online == OnlineInReply::kHidden) {
      post_reply(reply_to, "{}");  // the same for everyone: nothing to learn from it
      return;
    }
    post_reply(reply_to, result.nodes > 0 ? "{\"online\":true}" : "{\"online\":false}");
  });
}

bool OwnerRole::on_user_message(const broker::UserMessage& message) {
  auto it = owned_users_.find(message.user);
  if (it == owned_users_.end()) return false;  // gone since (or never here)
  const std::string user(message.user);
  if (message.kind == broker::UserMessageKind::kDirect) {
    const SharedMessage frame = SharedMessage::make(std::string(message.text), Opcode::kText);
    for (unsigned worker = 0; worker < it->second.size(); ++worker) {
      if (it->second[worker] == 0) continue;
      node_.post<&LocalRole::deliver_to_user>(worker, user, frame);
    }
    return true;
  }
  DisconnectOrder order;
  if (!parse_disconnect_order(message.text, &order)) return true;
  const protocol::Reconnect reconnect = order.reconnect ? protocol::Reconnect::kYes : protocol::Reconnect::kNo;
  for (unsigned worker = 0; worker < it->second.size(); ++worker) {
    if (it->second[worker] == 0) continue;
    node_.post<&LocalRole::disconnect_user>(worker, user, order.code, order.reason, reconnect);
  }
  return true;
}

}  // namespace switchboard::hub
