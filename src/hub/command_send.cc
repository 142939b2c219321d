// `send` to a user: who may, and how often, decided on the sender's worker
// before the message leaves it (docs/PROTOCOL.md "Direct messages"); then
// the user's owner sends it through the broker and answers.
#include <algorithm>
#include <string>
#include <utility>

#include "base/clock.h"
#include "hub/commands.h"
#include "hub/node.h"

namespace switchboard::hub {
namespace {

using protocol::ErrorCode;

// hub.send_permission, the session's send_to and limits.sends_per_s; false
// (and the error sent) when the send must not run.
bool admit_send(LocalRole& local, Session& session, std::string_view user, std::uint64_t id) {
  Node& node = local.node();
  // Each refusal depends on the sender alone, never on whether `user`
  // exists or is connected: it tells nothing about other users.
  const char* why = nullptr;
  switch (node.config().send_permission) {
    case SendPermission::kAnyone:
      break;
    case SendPermission::kAuthenticated:
      if (!session.authenticated || session.user.empty()) {
        why = "sending to a user needs an authenticated connection (a token with a user)";
      }
      break;
    case SendPermission::kListedUsers:
      if (!session.send_to) {
        why = "this server lets a connection send only to the users its token's send_to claim names";
      }
      break;
  }
  if (why == nullptr && session.send_to &&
      std::find(session.send_to->begin(), session.send_to->end(), user) == session.send_to->end()) {
    why = "the token's send_to claim does not name this user";
  }
  if (why != nullptr) {
    node.metrics.permission_denied.add();
    local.fail(session, id, ErrorCode::kPermissionDenied, why);
    return false;
  }
  if (!session.send_bucket.try_take(node.send_limit, base::monotonic_ms(), 1)) {
    local.refuse_over_limit(
        session, id,
        "rate limit exceeded: at most " + std::to_string(node.config().limits.sends_per_s) + " sends a second");
    return false;
  }
  return true;
}

}  // namespace

void run_send(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (!admit_send(local, session, command.user, id)) return;
  Node& node = local.node();
  const OnlineInReply online = node.config().hide_online ? OnlineInReply::kHidden : OnlineInReply::kShown;
  node.post<&OwnerRole::send>(node.owner_of(command.user), std::string(command.user), session.user,
                              std::move(command.data), ReplyTo{local.worker(), session.client, id, {}}, online);
}

}  // namespace switchboard::hub
