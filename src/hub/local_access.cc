// What a session may do with a channel, and the tokens it sends, decided
// on its worker before a command runs. docs/PROTOCOL.md "Authentication"
// and "Permissions" describe the rules.
#include <algorithm>

#include "hub/node.h"
#include "protocol/names.h"

namespace switchboard::hub {

std::optional<std::string_view> LocalRole::may(const Session& session, std::string_view channel, Access access) const {
  std::optional<std::string_view> why = refusal(session, channel, access);
  if (why) node_.metrics.permission_denied.add();
  return why;
}

std::optional<std::string_view> LocalRole::refusal(const Session& session, std::string_view channel,
                                                   Access access) const {
  if (protocol::is_personal_channel(channel)) {
    if (session.user.empty() || protocol::personal_channel_owner(channel) != session.user) {
      return "a personal channel (name#user) is only for that user";
    }
  } else if (protocol::is_private_channel(channel)) {
    // Subscribing takes a subscription token (run_subscribe); after that
    // the subscription is the right to publish and to see presence.
    if (access != Access::kSubscribe && session.find_subscription(channel) == nullptr) {
      return "a private channel is only for its subscribers";
    }
  } else if (session.channel_patterns) {
    const std::vector<std::string>& patterns = *session.channel_patterns;
    if (std::none_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return protocol::channel_matches(pattern, channel); })) {
      return "the token does not grant this channel";
    }
  }
  if (access == Access::kPublish && !options_for(channel).client_publish) {
    return "clients may not publish to this channel";
  }
  return std::nullopt;
}

TokenCheck LocalRole::check_token(Session& session, std::uint64_t id, std::string_view token, auth::TokenUse use,
                                  std::string_view where, GrantedToken* granted) {
  const TokenVerifier* verifier = policy_->verifier.get();
  if (verifier == nullptr) {
    fail(session, id, protocol::ErrorCode::kUnavailable, "this server does not check tokens");
    return TokenCheck::kNoKeys;
  }
  const auth::VerifyError error = verifier->verify(token, use, granted);
  if (error != auth::VerifyError::kNone) {
    node_.metrics.tokens_rejected.add();
    node_.auth_failures.record(session.peer, where, auth::describe(error));
    fail(session, id, protocol::ErrorCode::kInvalidToken, auth::describe(error));
    return TokenCheck::kInvalid;
  }
  return TokenCheck::kValid;
}

}  // namespace switchboard::hub
