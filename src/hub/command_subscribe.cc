// `subscribe` and `unsubscribe`: the checks on the session's worker, then
// the channel's owner counts the subscription (OwnerRole::subscribe) and
// activates it (LocalRole::activate_subscription), which sends the reply.
#include <memory>
#include <string>
#include <utility>

#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard::hub {

using protocol::ErrorCode;

void run_subscribe(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  Node& node = local.node();
  if (session.find_subscription(command.channel) != nullptr) {
    local.fail(session, id, ErrorCode::kAlreadySubscribed, protocol::default_message(ErrorCode::kAlreadySubscribed));
    return;
  }
  const std::size_t max_subscriptions = node.config().max_subscriptions_per_connection;
  if (session.subscriptions.size() >= max_subscriptions) {
    local.fail(session, id, ErrorCode::kTooManySubscriptions,
               "at most " + std::to_string(max_subscriptions) + " subscriptions per connection");
    return;
  }
  if (const std::optional<std::string_view> why = local.may(session, command.channel, Access::kSubscribe)) {
    local.fail(session, id, ErrorCode::kPermissionDenied, *why);
    return;
  }
  if (protocol::is_private_channel(command.channel)) {
    // The grant is a token made for this user and this channel.
    if (!command.has_token) {
      local.fail(session, id, ErrorCode::kPermissionDenied, "a private channel needs a subscription token");
      return;
    }
    GrantedToken granted;
    if (local.check_token(session, id, command.token, auth::TokenUse::kSubscription, "subscribe", &granted) !=
        TokenCheck::kValid) {
      return;
    }
    if (granted.channel != command.channel || granted.user != session.user) {
      constexpr std::string_view kOther = "the subscription token is for another channel or user";
      node.metrics.tokens_rejected.add();
      node.auth_failures.record(session.peer, "subscribe", kOther);
      local.fail(session, id, ErrorCode::kInvalidToken, kOther);
      return;
    }
  }
  // Pending until the owner counts it (see Session::Subscription).
  const std::uint64_t serial = ++session.next_subscription_serial;
  std::string channel(command.channel);
  session.subscriptions.push_back({channel, Session::Subscription::kPending, serial});
  local.count_subscription(1);
  std::shared_ptr<const Member> member;
  if (local.options_for(channel).presence) {
    member = std::make_shared<const Member>(Member{session.user, session.client_text, session.info_json});
  }
  StreamAsk ask{.asked = command.stream_fields, .recover = command.recover, .latest = command.latest};
  if (command.has_since) ask.since = {command.since_offset, std::string(command.since_epoch)};
  const unsigned owner = node.owner_of(channel);
  node.post<&OwnerRole::subscribe>(owner, std::move(channel), local.worker(), session.client, serial, std::move(member),
                                   id, std::move(ask));
}

void run_unsubscribe(LocalRole& local, Session& session, protocol::Command& command) {
  Session::Subscription* subscription = session.find_subscription(command.channel);
  if (subscription == nullptr) {
    local.fail(session, command.id, ErrorCode::kNotSubscribed, protocol::default_message(ErrorCode::kNotSubscribed));
    return;
  }
  local.leave_channel(session, *subscription);
  if (subscription != &session.subscriptions.back()) *subscription = std::move(session.subscriptions.back());
  session.subscriptions.pop_back();
  local.reply(session, command.id, "{}");
}

}  // namespace switchboard::hub
