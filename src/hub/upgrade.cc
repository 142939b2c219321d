#include "hub/upgrade.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "base/log.h"
#include "hub/node.h"
#include "protocol/names.h"
#include "protocol/subprotocol.h"

namespace switchboard::hub {
namespace {

UpgradeDecision refuse(int status, std::string body) {
  UpgradeDecision decision;
  decision.reject_status = status;
  decision.reject_body = std::move(body);
  return decision;
}

}  // namespace

UpgradeDecision decide_upgrade(Node& node, const HttpRequest& request, std::span<const std::string_view> offered) {
  const bool asked = std::find(offered.begin(), offered.end(), protocol::kSubprotocol) != offered.end();
  if (!asked && node.config().require_subprotocol) {
    return refuse(400, "this server speaks protocol v1: ask for the subprotocol " +
                           std::string(protocol::kSubprotocol) + " (Sec-WebSocket-Protocol)");
  }
  const std::shared_ptr<const Policy> policy = node.policy_now();
  const bool token_required = policy->verifier && policy->auth_required;
  Upgraded accepted;
  const std::string token = policy->verifier ? token_from_request(request) : std::string();
  if (!token.empty()) {
    GrantedToken granted;
    const auth::VerifyError error = policy->verifier->verify(token, auth::TokenUse::kConnection, &granted);
    if (error != auth::VerifyError::kNone) {
      node.metrics.tokens_rejected.add();
      node.auth_failures.record(request.peer_address, "upgrade", auth::describe(error));
      return refuse(401, "invalid token: " + std::string(auth::describe(error)));
    }
    accepted.principal = {std::move(granted.user), std::move(granted.info_json), std::move(granted.channels),
                          granted.expires_at, std::move(granted.send_to)};
    accepted.how = Authentication::kVouched;
  } else if (node.authenticator) {
    std::optional<Principal> known;
    try {
      known = node.authenticator(request);
    } catch (const std::exception& error) {
      base::log(base::LogLevel::kError, "authenticator threw: %s", error.what());
      return refuse(500, "authentication is unavailable");
    }
    if (!known) {
      node.auth_failures.record(request.peer_address, "upgrade", "refused by the authenticator");
      return refuse(401, "authentication failed");
    }
    if (!known->user.empty() && !protocol::is_valid_user(known->user)) {
      node.auth_failures.record(request.peer_address, "upgrade", "invalid user id from the authenticator");
      return refuse(401, "invalid user id");
    }
    accepted.principal = std::move(*known);
    // An anonymous Principal is no authentication: with auth.required the
    // connection still has to send a token, as without an authenticator.
    accepted.how = !accepted.principal.user.empty() ? Authentication::kVouched
                   : token_required                 ? Authentication::kAwaitingConnect
                                                    : Authentication::kAnonymous;
  } else if (token_required) {
    // Browsers cannot set headers: the token may come in `connect`.
    accepted.how = Authentication::kAwaitingConnect;
  }
  UpgradeDecision decision;
  if (asked) decision.subprotocol = std::string(protocol::kSubprotocol);
  decision.state = std::move(accepted);
  return decision;
}

}  // namespace switchboard::hub
