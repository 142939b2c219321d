// Who a WebSocket handshake is, decided before the 101 (Hub::on_upgrade):
// the subprotocol, then a token in the request (checked as a connection
// token), else the embedder's Authenticator, else anonymous or, with
// auth.required, awaiting `connect`. A refusal is an HTTP status (400, 401,
// 500); an acceptance carries an Upgraded in UpgradeDecision::state, which
// the server hands to on_open (HttpRequest::upgrade_state).
#pragma once

#include <span>
#include <string_view>

#include "hub/session.h"
#include "switchboard/hub.h"

namespace switchboard::hub {

class Node;

struct Upgraded {
  Principal principal;
  Authentication how = Authentication::kAnonymous;
};

// Any worker thread.
UpgradeDecision decide_upgrade(Node& node, const HttpRequest& request, std::span<const std::string_view> offered);

}  // namespace switchboard::hub
