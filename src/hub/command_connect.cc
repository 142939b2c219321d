// `connect` and `refresh`: a connection token given after the upgrade, and
// its replacement before it expires (docs/PROTOCOL.md "Authentication").
#include <utility>

#include "base/json_string.h"
#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard::hub {

using protocol::ErrorCode;

void run_connect(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (command.has_token) {
    if (local.policy().verifier == nullptr) {
      local.fail(session, id, ErrorCode::kUnavailable, "this server does not check tokens");
      return;
    }
    if (session.authenticated) {
      local.fail(session, id, ErrorCode::kAlreadyAuthenticated,
                 "this connection is authenticated already; send refresh for a new token");
      return;
    }
    if (!session.subscriptions.empty()) {
      local.fail(session, id, ErrorCode::kAlreadyAuthenticated, "connect with a token must come before any subscribe");
      return;
    }
    GrantedToken granted;
    const TokenCheck check =
        local.check_token(session, id, command.token, auth::TokenUse::kConnection, "connect", &granted);
    if (check == TokenCheck::kInvalid) {
      session.connection->close(static_cast<CloseCode>(protocol::ServerCloseCode::kInvalidToken), "invalid token");
    }
    if (check != TokenCheck::kValid) return;
    session.user = std::move(granted.user);
    session.info_json = std::move(granted.info_json);
    local.grant(session, std::move(granted));
    local.attach_user(session);
  } else if (session.awaiting_connect) {
    local.fail(session, id, ErrorCode::kUnauthenticated, "this server requires a token: send connect with one");
    return;
  }
  std::string data = "{\"client\":";
  base::append_json_string(data, session.client_text);
  data += ",\"user\":";
  protocol::append_json_user(data, session.user);
  data += '}';
  local.reply(session, id, data);
}

void run_refresh(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (!session.authenticated) {
    local.fail(session, id, ErrorCode::kUnauthenticated, "refresh replaces the token of an authenticated connection");
    return;
  }
  GrantedToken granted;
  // A connection token: a subscription token has no "channels", and would
  // lift the connection's channel limits.
  if (local.check_token(session, id, command.token, auth::TokenUse::kConnection, "refresh", &granted) !=
      TokenCheck::kValid) {
    return;
  }
  if (granted.user != session.user) {
    constexpr std::string_view kOtherUser = "the new token is for another user";
    local.node().metrics.tokens_rejected.add();
    local.node().auth_failures.record(session.peer, "refresh", kOtherUser);
    local.fail(session, id, ErrorCode::kInvalidToken, kOtherUser);
    return;
  }
  // The identity stays (presence entries keep the info they were made
  // with); the rights and the expiry are the new token's.
  local.grant(session, std::move(granted));
  local.reply(session, id, "{}");
}

}  // namespace switchboard::hub
