// Core's subscriptions on the loop thread: adding and removing them, the
// subscribe command (with recovery once a position is known), its reply
// (SubscribedInfo, the recovered publications) and the channel events
// (messages, join, leave, reset).
#include "client/commands.h"
#include "client/core.h"

namespace switchboard::client {

void Core::add_subscription_in_loop(const std::shared_ptr<SubscriptionRecord>& record) {
  if (record->state.load() == SubscriptionState::kUnsubscribed) return;  // unsubscribed on the way in
  if (closed_) {
    record->state.store(SubscriptionState::kUnsubscribed);
    if (record->handlers.on_error)
      record->handlers.on_error(error_of(ClientErrorKind::kClosed, "the client is closed"));
    return;
  }
  auto [entry, inserted] = subscriptions_.emplace(record->channel, record);
  if (!inserted) {
    record->state.store(SubscriptionState::kFailed);
    if (record->handlers.on_error) {
      record->handlers.on_error(
          error_of(ClientErrorKind::kInvalidArgument, "already subscribed to " + record->channel));
    }
    return;
  }
  if (state() == ClientState::kConnected) send_subscribe(record);
}

void Core::remove_subscription_in_loop(const std::shared_ptr<SubscriptionRecord>& record) {
  auto entry = subscriptions_.find(record->channel);
  if (entry != subscriptions_.end() && entry->second == record) subscriptions_.erase(entry);
  if (record->sent && state() == ClientState::kConnected) {
    send_command(unsubscribe_body(record->channel), {PendingKind::kUnsubscribe, {}, {}});
  }
  record->sent = false;
}

void Core::on_subscribe_answer(const Pending& pending, const ServerMessage& message) {
  const std::shared_ptr<SubscriptionRecord>& record = pending.subscription;
  if (message.type != ServerMessageType::kError) {
    on_subscribed(record, message, pending.recovering);
    return;
  }
  record->sent = false;
  if (!transition(*record, SubscriptionState::kSubscribing, SubscriptionState::kFailed)) return;
  auto entry = subscriptions_.find(record->channel);
  if (entry != subscriptions_.end() && entry->second == record) subscriptions_.erase(entry);
  if (record->handlers.on_error) {
    record->handlers.on_error(error_of(ClientErrorKind::kServer, message.text, message.code));
  }
}

void Core::on_subscribed(const std::shared_ptr<SubscriptionRecord>& record, const ServerMessage& message,
                         bool recovering) {
  if (!transition(*record, SubscriptionState::kSubscribing, SubscriptionState::kSubscribed)) return;
  base::Result<SubscribeReply> reply = decoder_.decode_subscribe_reply(message.data);
  if (!reply) {
    // Taken as a channel without a stream: no position, no recovery.
    report(error_of(ClientErrorKind::kConnection, record->channel + ": " + reply.error()));
    reply = SubscribeReply{};
  }
  StreamTracker::Outcome outcome = record->stream.on_subscribed(*std::move(reply), recovering);
  const SubscriptionHandlers& handlers = record->handlers;
  const SubscribedInfo& info = outcome.info;
  if (info.was_recovering && !info.recovered && handlers.on_recovery_failed) handlers.on_recovery_failed(info);
  if (handlers.on_subscribed) handlers.on_subscribed(info);
  // The reply precedes every live message of this subscription: what it
  // recovered comes first. A handler that unsubscribes stops the rest.
  for (const Publication& publication : outcome.deliver) {
    if (record->state.load(std::memory_order_acquire) != SubscriptionState::kSubscribed) return;
    if (handlers.on_message) handlers.on_message(publication.data_json, publication.offset);
  }
}

void Core::dispatch_channel_event(const ServerMessage& message) {
  auto entry = subscriptions_.find(message.channel);
  if (entry == subscriptions_.end()) return;
  // Keep the record alive across the handler (it may unsubscribe). A
  // record in the map is live for the loop even when unsubscribe() was
  // called on another thread: the loop has not taken the removal yet.
  const std::shared_ptr<SubscriptionRecord> record = entry->second;
  const SubscriptionHandlers& handlers = record->handlers;
  if (message.type == ServerMessageType::kMessage) {
    // A duplicate of what a recovery delivered already is dropped.
    if (record->stream.on_message(message.offset) == Delivery::kDuplicate) return;
    if (handlers.on_message) handlers.on_message(message.data, message.offset);
    return;
  }
  if (message.type == ServerMessageType::kReset) {
    const SubscribedInfo info = record->stream.on_reset(message.epoch, message.offset);
    if (handlers.on_recovery_failed) handlers.on_recovery_failed(info);
    return;
  }
  PresenceEvent event{message.channel, message.user, message.client, message.info};
  if (message.type == ServerMessageType::kJoin) {
    if (handlers.on_join) handlers.on_join(event);
  } else {
    event.info_json.clear();
    if (handlers.on_leave) handlers.on_leave(event);
  }
}

void Core::send_subscribe(const std::shared_ptr<SubscriptionRecord>& record) {
  record->sent = true;
  // Once a reply gave a position, every re-subscribe recovers from it.
  const std::optional<StreamPosition>& since = record->stream.recover_from();
  Pending pending{PendingKind::kSubscribe, {}, record};
  pending.recovering = since.has_value();
  send_command(subscribe_body(record->channel, record->token, since, record->latest), std::move(pending));
}

}  // namespace switchboard::client
